"""A person as moderators see them: warnings (and the ladder's mutes), notes, and the history.
Also personal mutes, which belong to the muting member alone.

Invariants:
- A warning, the mute the ladder makes of it and their audit entry are one transaction;
  the caller sends the ``warning`` and ``muted`` frames after commit.
- Notes and warnings never reach the person they are about through this module.
- Personal mutes change nothing for anyone but the member who set them (not audited).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.rules.ladder import PastWarning, Policy, expires, mute_for
from server.store import audit, moderation
from server.store.database import as_utc
from server.store.events import iso
from server.store.models import Enrollment, Membership, ModerationWarning, PersonalMute, PersonNote, Room, User

warnings = ModerationWarning.__table__  # type: ignore[attr-defined]
enrollments = Enrollment.__table__  # type: ignore[attr-defined]
notes = PersonNote.__table__  # type: ignore[attr-defined]
personal_mutes = PersonalMute.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]


@dataclass
class Warned:
    """What a warning did: the warning, and the ladder's mute (until, rooms) if it made one."""

    warning: dict[str, Any]
    muted_until: datetime | None = None
    muted_rooms: list[int] = field(default_factory=list)

    def frame(self) -> dict[str, Any]:
        """The ``warning`` frame for the person warned."""
        return {
            "type": "warning",
            "program": self.warning["program"],
            "reason": self.warning["reason"],
            "expires_at": self.warning["expires_at"],
            "muted_until": None if self.muted_until is None else iso(self.muted_until),
        }


def _warning(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "program": row.program_id,
        "room": row.room_id,
        "user": row.user_id,
        "by": row.by_user_id,
        "reason": row.reason,
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "mute_minutes": row.mute_minutes,
    }


async def _past(conn: AsyncConnection, program_id: int, user_id: int) -> list[PastWarning]:
    rows = await conn.execute(
        select(warnings.c.created_at, warnings.c.expires_at, warnings.c.mute_minutes).where(
            warnings.c.program_id == program_id, warnings.c.user_id == user_id
        )
    )
    return [PastWarning(as_utc(r.created_at), as_utc(r.expires_at), r.mute_minutes) for r in rows]


async def _rooms_of(conn: AsyncConnection, program_id: int) -> list[int]:
    return [row.id for row in await conn.execute(select(rooms.c.id).where(rooms.c.program_id == program_id))]


async def warn(
    conn: AsyncConnection,
    *,
    program_id: int,
    user_id: int,
    by: int,
    reason: str,
    room_id: int | None,
    now: datetime,
    policy: Policy,
) -> Warned:
    """Give a warning; the ladder decides whether it also mutes the person (and for how long).

    The person's enrollment row is locked first (PostgreSQL), so two moderators warning them at
    once are decided one after the other and cannot both count the same earlier warnings."""
    await conn.execute(
        select(enrollments.c.id)
        .where(enrollments.c.program_id == program_id, enrollments.c.user_id == user_id)
        .with_for_update()
    )
    minutes = mute_for(await _past(conn, program_id, user_id), now, policy)
    row = (
        await conn.execute(
            insert(warnings)
            .values(
                program_id=program_id,
                room_id=room_id,
                user_id=user_id,
                by_user_id=by,
                reason=reason,
                created_at=now,
                expires_at=expires(now, policy),
                mute_minutes=minutes,
            )
            .returning(*warnings.c)
        )
    ).one()
    warned = Warned(_warning(row))
    if minutes is not None:
        warned.muted_until = now + timedelta(minutes=minutes)
        warned.muted_rooms = await moderation.mute(
            conn,
            user_id=user_id,
            room_ids=await _rooms_of(conn, program_id),
            until=warned.muted_until,
            only_longer=True,
        )
    detail: dict[str, Any] = {"warning": row.id, "expires_at": warned.warning["expires_at"]}
    if warned.muted_until is not None:
        detail.update(mute_minutes=minutes, muted_until=iso(warned.muted_until), rooms=warned.muted_rooms)
    await audit.record(
        conn,
        audit.Entry(
            actor_id=by,
            action="person.warn",
            program_id=program_id,
            room_id=room_id,
            target_user_id=user_id,
            target=f"warning {row.id}",
            reason=reason,
            detail=detail,
        ),
        now,
    )
    return warned


async def warnings_of(conn: AsyncConnection, program_id: int, user_id: int) -> list[dict[str, Any]]:
    """The person's warnings in the program, newest first (expired ones too: the record stays)."""
    rows = await conn.execute(
        select(warnings)
        .where(warnings.c.program_id == program_id, warnings.c.user_id == user_id)
        .order_by(warnings.c.id.desc())
    )
    return [_warning(row) for row in rows]


async def add_note(
    conn: AsyncConnection, *, program_id: int, user_id: int, author_id: int, body: str, now: datetime
) -> dict[str, Any]:
    """A note on a person; its audit entry says a note was written, never what it says."""
    row = (
        await conn.execute(
            insert(notes)
            .values(program_id=program_id, user_id=user_id, author_id=author_id, body=body, created_at=now)
            .returning(notes.c.id)
        )
    ).one()
    await audit.record(
        conn,
        audit.Entry(
            actor_id=author_id,
            action="person.note",
            program_id=program_id,
            target_user_id=user_id,
            target=f"note {row.id}",
        ),
        now,
    )
    return (await notes_of(conn, program_id, user_id, note_id=row.id))[0]


async def notes_of(
    conn: AsyncConnection, program_id: int, user_id: int, note_id: int | None = None
) -> list[dict[str, Any]]:
    """Notes on the person in the program, newest first, each with its author (as staff see them)."""
    query = (
        select(notes, users.c.username, users.c.display_name, users.c.real_name)
        .join(users, users.c.id == notes.c.author_id)
        .where(notes.c.program_id == program_id, notes.c.user_id == user_id)
        .order_by(notes.c.id.desc())
    )
    if note_id is not None:
        query = query.where(notes.c.id == note_id)
    return [
        {
            "id": row.id,
            "body": row.body,
            "created_at": iso(row.created_at),
            "author": {
                "id": row.author_id,
                "username": row.username,
                "display_name": row.display_name,
                "real_name": row.real_name,
            },
        }
        for row in await conn.execute(query)
    ]


async def mutes_of(conn: AsyncConnection, program_id: int, user_id: int, now: datetime) -> list[dict[str, Any]]:
    """The moderator mutes running now on the person in the program's rooms."""
    rows = await conn.execute(
        select(rooms.c.id, rooms.c.name, memberships.c.muted_until)
        .join(memberships, memberships.c.room_id == rooms.c.id)
        .where(rooms.c.program_id == program_id, memberships.c.user_id == user_id, memberships.c.muted_until > now)
        .order_by(rooms.c.id)
    )
    return [{"room": r.id, "room_name": r.name, "until": iso(r.muted_until)} for r in rows]


async def mute_for_me(conn: AsyncConnection, user_id: int, muted_id: int, now: datetime) -> bool:
    """Hide another member's messages from my view; False when they were hidden already."""
    try:
        async with conn.begin_nested():
            await conn.execute(insert(personal_mutes).values(user_id=user_id, muted_id=muted_id, created_at=now))
    except IntegrityError:
        return False
    return True


async def unmute_for_me(conn: AsyncConnection, user_id: int, muted_id: int) -> bool:
    result = await conn.execute(
        delete(personal_mutes).where(personal_mutes.c.user_id == user_id, personal_mutes.c.muted_id == muted_id)
    )
    return bool(result.rowcount)


async def my_mutes(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """Whom I muted for myself: display names only (what peers see of each other)."""
    rows = await conn.execute(
        select(users.c.id, users.c.display_name, personal_mutes.c.created_at)
        .join(personal_mutes, and_(personal_mutes.c.muted_id == users.c.id, personal_mutes.c.user_id == user_id))
        .order_by(personal_mutes.c.created_at, users.c.id)
    )
    return [{"id": r.id, "display_name": r.display_name, "since": iso(r.created_at)} for r in rows]
