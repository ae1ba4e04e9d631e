"""A person's record as one JSON-ready document: what the service holds about them.

Invariant: the document holds the person's own data and nothing private of anyone else.
Other people appear only as ``{"id", "display_name"}`` (what peers see of each other), other
people's words never appear (a reply keeps the seq it answered, not the quoted excerpt), and
the password hash and session ids are never read. ``program_id`` narrows the record to what
one program holds (a staff export discloses only its own program's record).

Left out on purpose: moderators' notes about the person and reports others raised about them
(they would reveal who raised a concern); a program discloses those itself if it must.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, and_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import FromClause

from server.store import disclosures as disclosure_store
from server.store import people as people_store
from server.store.events import iso
from server.store.models import (
    AuthSession,
    Cohort,
    Enrollment,
    EnrollmentTransition,
    Event,
    HeldMessage,
    Membership,
    ModerationWarning,
    Program,
    QueueItem,
    QueueRaiser,
    Reaction,
    Room,
    RoomRemoval,
    User,
)

users = User.__table__  # type: ignore[attr-defined]
sessions = AuthSession.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
events = Event.__table__  # type: ignore[attr-defined]
reactions = Reaction.__table__  # type: ignore[attr-defined]
programs = Program.__table__  # type: ignore[attr-defined]
cohorts = Cohort.__table__  # type: ignore[attr-defined]
enrollments = Enrollment.__table__  # type: ignore[attr-defined]
transitions = EnrollmentTransition.__table__  # type: ignore[attr-defined]
held = HeldMessage.__table__  # type: ignore[attr-defined]
queue_items = QueueItem.__table__  # type: ignore[attr-defined]
raisers = QueueRaiser.__table__  # type: ignore[attr-defined]
warnings = ModerationWarning.__table__  # type: ignore[attr-defined]
removals = RoomRemoval.__table__  # type: ignore[attr-defined]

FORMAT = "alongside.export/1"


def _in_scope(program_id: int | None) -> ColumnElement[bool]:
    """Rooms the record covers: all of them, or one program's."""
    return true() if program_id is None else rooms.c.program_id == program_id


def _room(row: Any) -> dict[str, Any]:
    return {"id": row.room_id, "name": row.room_name, "kind": row.room_kind}


def _with_room(*columns: Any, source: FromClause, room_column: Any) -> Select[Any]:
    return select(
        *columns, rooms.c.id.label("room_id"), rooms.c.name.label("room_name"), rooms.c.kind.label("room_kind")
    ).select_from(source.join(rooms, rooms.c.id == room_column))


def _when(value: Any) -> str | None:
    return None if value is None else iso(value)


async def _account(conn: AsyncConnection, user_id: int) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            select(
                users.c.id,
                users.c.username,
                users.c.display_name,
                users.c.real_name,
                users.c.role,
                users.c.created_at,
            ).where(users.c.id == user_id)
        )
    ).first()
    if row is None:
        return None
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "real_name": row.real_name,
        "role": row.role,
        "created_at": iso(row.created_at),
    }


async def _sessions(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """When the person signed in and until when (never the session ids: they are credentials)."""
    rows = await conn.execute(
        select(sessions.c.created_at, sessions.c.expires_at, sessions.c.revoked_at)
        .where(sessions.c.user_id == user_id)
        .order_by(sessions.c.created_at)
    )
    return [
        {"created_at": iso(r.created_at), "expires_at": iso(r.expires_at), "revoked_at": _when(r.revoked_at)}
        for r in rows
    ]


async def _enrollments(conn: AsyncConnection, user_id: int, program_id: int | None) -> list[dict[str, Any]]:
    query = (
        select(
            enrollments,
            programs.c.name.label("program_name"),
            cohorts.c.name.label("cohort_name"),
        )
        .select_from(
            enrollments.join(programs, programs.c.id == enrollments.c.program_id).outerjoin(
                cohorts, cohorts.c.id == enrollments.c.cohort_id
            )
        )
        .where(enrollments.c.user_id == user_id)
        .order_by(enrollments.c.id)
    )
    if program_id is not None:
        query = query.where(enrollments.c.program_id == program_id)
    found = []
    for row in await conn.execute(query):
        steps = await conn.execute(
            select(transitions.c.from_status, transitions.c.to_status, transitions.c.reason, transitions.c.at)
            .where(transitions.c.enrollment_id == row.id)
            .order_by(transitions.c.id)
        )
        found.append(
            {
                "program": {"id": row.program_id, "name": row.program_name},
                "cohort": None if row.cohort_id is None else {"id": row.cohort_id, "name": row.cohort_name},
                "role": row.role,
                "status": row.status,
                "created_at": iso(row.created_at),
                "history": [
                    {"from": s.from_status, "to": s.to_status, "reason": s.reason, "at": iso(s.at)} for s in steps
                ],
            }
        )
    return found


async def _memberships(conn: AsyncConnection, user_id: int, program_id: int | None) -> list[dict[str, Any]]:
    """The rooms the person is in, their role there, how far they read, and any mute on them."""
    rows = await conn.execute(
        _with_room(
            memberships.c.role,
            memberships.c.created_at,
            memberships.c.last_read_seq,
            memberships.c.muted_until,
            memberships.c.listen_until,
            source=memberships,
            room_column=memberships.c.room_id,
        )
        .where(memberships.c.user_id == user_id, _in_scope(program_id))
        .order_by(rooms.c.id)
    )
    return [
        {
            "room": _room(r),
            "role": r.role,
            "joined_at": iso(r.created_at),
            "read_up_to_seq": r.last_read_seq,
            "muted_until": _when(r.muted_until),
            "listening_until": _when(r.listen_until),
        }
        for r in rows
    ]


async def _removals(conn: AsyncConnection, user_id: int, program_id: int | None) -> list[dict[str, Any]]:
    """The rooms a moderator took the person out of, and when (they stay out until added back)."""
    rows = await conn.execute(
        _with_room(removals.c.created_at, source=removals, room_column=removals.c.room_id)
        .where(removals.c.user_id == user_id, _in_scope(program_id))
        .order_by(rooms.c.id)
    )
    return [{"room": _room(r), "removed_at": iso(r.created_at)} for r in rows]


def _reply_to(data: str | None) -> dict[str, Any] | None:
    """Which message a reply answered and whose it was, without the other person's words."""
    if data is None:
        return None
    quote = orjson.loads(data).get("reply_to")
    if not isinstance(quote, dict):
        return None
    author = quote.get("author") or {}
    return {"seq": quote.get("seq"), "author": {"id": author.get("id"), "display_name": author.get("display_name")}}


async def _messages(conn: AsyncConnection, user_id: int, program_id: int | None) -> list[dict[str, Any]]:
    """Every message the person wrote that entered a room's history (a removed one without its body)."""
    rows = await conn.execute(
        _with_room(
            events.c.seq,
            events.c.body,
            events.c.data,
            events.c.created_at,
            source=events,
            room_column=events.c.room_id,
        )
        .where(events.c.author_id == user_id, events.c.type == "message", _in_scope(program_id))
        .order_by(events.c.created_at, events.c.room_id, events.c.seq)
    )
    return [
        {
            "room": _room(r),
            "seq": r.seq,
            "ts": iso(r.created_at),
            "body": r.body,
            "removed": r.body is None,
            "reply_to": _reply_to(r.data),
        }
        for r in rows
    ]


async def _held(conn: AsyncConnection, user_id: int, program_id: int | None) -> list[dict[str, Any]]:
    """Messages that waited for review: still waiting, approved (with their seq) or rejected."""
    rows = await conn.execute(
        _with_room(
            held.c.body,
            held.c.status,
            held.c.seq,
            held.c.created_at,
            held.c.decided_at,
            source=held,
            room_column=held.c.room_id,
        )
        .where(held.c.author_id == user_id, _in_scope(program_id))
        .order_by(held.c.created_at, held.c.id)
    )
    return [
        {
            "room": _room(r),
            "body": r.body,
            "status": r.status,
            "seq": r.seq,
            "submitted_at": iso(r.created_at),
            "decided_at": _when(r.decided_at),
        }
        for r in rows
    ]


async def _reactions(conn: AsyncConnection, user_id: int, program_id: int | None) -> list[dict[str, Any]]:
    rows = await conn.execute(
        _with_room(reactions.c.target_seq, reactions.c.emoji, source=reactions, room_column=reactions.c.room_id)
        .where(reactions.c.user_id == user_id, _in_scope(program_id))
        .order_by(rooms.c.id, reactions.c.target_seq, reactions.c.emoji)
    )
    return [{"room": _room(r), "seq": r.target_seq, "emoji": r.emoji} for r in rows]


async def _reports(conn: AsyncConnection, user_id: int, program_id: int | None) -> list[dict[str, Any]]:
    """What the person reported or flagged, with their reason and what became of it."""
    source = raisers.join(queue_items, queue_items.c.id == raisers.c.item_id)
    rows = await conn.execute(
        _with_room(
            queue_items.c.kind,
            queue_items.c.target_seq,
            queue_items.c.status,
            raisers.c.reason,
            raisers.c.created_at,
            source=source,
            room_column=queue_items.c.room_id,
        )
        .where(raisers.c.user_id == user_id, _in_scope(program_id))
        .order_by(raisers.c.created_at, raisers.c.item_id)
    )
    return [
        {
            "room": _room(r),
            "kind": r.kind,
            "seq": r.target_seq,
            "reason": r.reason,
            "raised_at": iso(r.created_at),
            "status": r.status,
        }
        for r in rows
    ]


async def _warnings(conn: AsyncConnection, user_id: int, program_id: int | None) -> list[dict[str, Any]]:
    """Warnings the person received; the moderator by display name, as the person was told."""
    condition = warnings.c.user_id == user_id
    if program_id is not None:
        condition = and_(condition, warnings.c.program_id == program_id)
    rows = await conn.execute(
        select(warnings, programs.c.name.label("program_name"), users.c.display_name.label("by_name"))
        .select_from(
            warnings.join(programs, programs.c.id == warnings.c.program_id).join(
                users, users.c.id == warnings.c.by_user_id
            )
        )
        .where(condition)
        .order_by(warnings.c.created_at, warnings.c.id)
    )
    return [
        {
            "program": {"id": r.program_id, "name": r.program_name},
            "room": r.room_id,
            "reason": r.reason,
            "by": {"id": r.by_user_id, "display_name": r.by_name},
            "given_at": iso(r.created_at),
            "expires_at": iso(r.expires_at),
            "mute_minutes": r.mute_minutes,
        }
        for r in rows
    ]


async def record_of(conn: AsyncConnection, user_id: int, program_id: int | None = None) -> dict[str, Any] | None:
    """The person's record (None: no such person), whole or one program's part of it.

    The whole record (their own export) also holds what is theirs alone: sign-ins, personal
    mutes and the accounting of disclosures; one program's part holds what that program keeps.
    """
    account = await _account(conn, user_id)
    if account is None:
        return None
    record: dict[str, Any] = {
        "account": account,
        "enrollments": await _enrollments(conn, user_id, program_id),
        "memberships": await _memberships(conn, user_id, program_id),
        "room_removals": await _removals(conn, user_id, program_id),
        "messages": await _messages(conn, user_id, program_id),
        "held_messages": await _held(conn, user_id, program_id),
        "reactions": await _reactions(conn, user_id, program_id),
        "reports": await _reports(conn, user_id, program_id),
        "warnings": await _warnings(conn, user_id, program_id),
    }
    if program_id is None:
        record["sessions"] = await _sessions(conn, user_id)
        record["personal_mutes"] = await people_store.my_mutes(conn, user_id)
        record["disclosures"] = await disclosure_store.of_subject(conn, user_id)
    return record
