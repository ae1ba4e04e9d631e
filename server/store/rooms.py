"""Rooms and memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.store import reading
from server.store.database import as_utc, utcnow
from server.store.events import append_event, iso
from server.store.models import Membership, Room, RoomRemoval
from server.store.users import Person

ROOM_KINDS = ("group", "cohort", "topic", "alumni", "direct")
MEMBER_ROLES = ("member", "moderator")  # what staff may give; "reader" comes from graduation
ROLES = (*MEMBER_ROLES, "reader")
rooms = Room.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
removals = RoomRemoval.__table__  # type: ignore[attr-defined]


async def create(
    conn: AsyncConnection,
    *,
    name: str,
    kind: str,
    creator: Person | None,
    program_id: int | None = None,
    cohort_id: int | None = None,
    subject_id: int | None = None,
) -> int:
    """Create a room; a creator becomes its first moderator (a stored event, seq 1)."""
    result = await conn.execute(
        insert(rooms)
        .values(
            name=name,
            kind=kind,
            created_by=None if creator is None else creator.id,
            created_at=utcnow(),
            last_seq=0,
            program_id=program_id,
            cohort_id=cohort_id,
            subject_id=subject_id,
        )
        .returning(rooms.c.id)
    )
    room_id: int = result.scalar_one()
    if creator is not None:
        await set_member(conn, room_id=room_id, person=creator, role="moderator")
    return room_id


async def set_member(conn: AsyncConnection, *, room_id: int, person: Person, role: str) -> dict[str, Any] | None:
    """Add a person to a room or change their role.

    Stores a `member_added` (new) or `member_changed` (new role) event and returns its
    frame for publishing after commit; None when nothing changed.
    """
    found = (
        await conn.execute(
            select(memberships.c.role).where(memberships.c.room_id == room_id, memberships.c.user_id == person.id)
        )
    ).first()
    if found is None:
        await conn.execute(
            insert(memberships).values(room_id=room_id, user_id=person.id, role=role, created_at=utcnow())
        )
        kind = "member_added"
    elif found.role == role:
        return None
    else:
        await conn.execute(
            update(memberships)
            .where(memberships.c.room_id == room_id, memberships.c.user_id == person.id)
            .values(role=role)
        )
        kind = "member_changed"
    return await append_event(conn, room_id=room_id, type_=kind, subject=person.public(), data={"role": role})


async def remove_member(conn: AsyncConnection, *, room_id: int, person: Person, reason: str) -> dict[str, Any] | None:
    """Take a person out of a room (their history stays); a `member_removed` event, or None."""
    result = await conn.execute(
        delete(memberships).where(memberships.c.room_id == room_id, memberships.c.user_id == person.id)
    )
    if not result.rowcount:
        return None
    return await append_event(
        conn, room_id=room_id, type_="member_removed", subject=person.public(), data={"reason": reason}
    )


async def keep_out(conn: AsyncConnection, *, room_id: int, user_id: int, by: int) -> None:
    """Record a moderator's removal, so the roster does not put the person back (``removed_from``)."""
    kept = await conn.execute(
        select(removals.c.room_id).where(removals.c.room_id == room_id, removals.c.user_id == user_id)
    )
    if kept.first() is None:
        await conn.execute(
            insert(removals).values(room_id=room_id, user_id=user_id, by_user_id=by, created_at=utcnow())
        )


async def let_back(conn: AsyncConnection, *, room_id: int, user_id: int) -> bool:
    """A moderator added the person back: their removal ends. Whether there was one."""
    result = await conn.execute(delete(removals).where(removals.c.room_id == room_id, removals.c.user_id == user_id))
    return bool(result.rowcount)


async def removed_from(conn: AsyncConnection, user_id: int) -> set[int]:
    """The rooms a moderator took the person out of (and nobody added them back to)."""
    rows = await conn.execute(select(removals.c.room_id).where(removals.c.user_id == user_id))
    return {row.room_id for row in rows}


async def exists(conn: AsyncConnection, room_id: int) -> bool:
    return (await conn.execute(select(rooms.c.id).where(rooms.c.id == room_id))).first() is not None


async def role_in(conn: AsyncConnection, room_id: int, user_id: int) -> str | None:
    """The person's role in the room, or None when they are not a member (or no such room)."""
    row = (
        await conn.execute(
            select(memberships.c.role).where(memberships.c.room_id == room_id, memberships.c.user_id == user_id)
        )
    ).first()
    return None if row is None else str(row.role)


async def of_user(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """The rooms a person belongs to: my role (``reader``: history only), latest seq, program, cohort,
    until when I listen only there (None: I may post), how far I have read, how many messages by
    others came after that (capped, see ``server.store.reading``) and the latest message. One query."""
    rows = await conn.execute(
        select(
            rooms.c.id,
            rooms.c.name,
            rooms.c.kind,
            rooms.c.last_seq,
            rooms.c.program_id,
            rooms.c.cohort_id,
            memberships.c.role,
            memberships.c.listen_until,
            memberships.c.muted_until,
            memberships.c.last_read_seq,
            reading.unread_of(user_id).label("unread"),
            *reading.LATEST_COLUMNS,
        )
        .select_from(reading.with_latest(rooms.join(memberships, memberships.c.room_id == rooms.c.id), rooms.c.id))
        .where(memberships.c.user_id == user_id)
        .order_by(rooms.c.id)
    )
    now = utcnow()

    def ahead(until: datetime | None) -> str | None:  # an end still to come (observing, a mute)
        return None if until is None or as_utc(until) <= now else iso(until)

    return [
        {
            "id": row.id,
            "name": row.name,
            "kind": row.kind,
            "role": row.role,
            "last_seq": row.last_seq,
            "program": row.program_id,
            "cohort": row.cohort_id,
            "observing_until": ahead(row.listen_until),
            "muted_until": ahead(row.muted_until),
            "last_read_seq": row.last_read_seq,
            "unread": row.unread,
            "latest": reading.latest_line(row),
        }
        for row in rows
    ]


async def program_of(conn: AsyncConnection, room_id: int) -> int | None:
    """The program a room belongs to (None for rooms outside any program, or no such room)."""
    row = (await conn.execute(select(rooms.c.program_id).where(rooms.c.id == room_id))).first()
    return None if row is None or row.program_id is None else int(row.program_id)


async def moderated_by(conn: AsyncConnection, user_id: int) -> list[int]:
    """The rooms this person moderates (whatever their program): part of whose queue they see."""
    return list(
        (
            await conn.execute(
                select(memberships.c.room_id).where(memberships.c.user_id == user_id, memberships.c.role == "moderator")
            )
        ).scalars()
    )


async def moderates_in_program(conn: AsyncConnection, user_id: int, program_id: int) -> bool:
    """Is the person a moderator of at least one room of the program?"""
    row = (
        await conn.execute(
            select(memberships.c.room_id)
            .join(rooms, rooms.c.id == memberships.c.room_id)
            .where(
                memberships.c.user_id == user_id, memberships.c.role == "moderator", rooms.c.program_id == program_id
            )
            .limit(1)
        )
    ).first()
    return row is not None
