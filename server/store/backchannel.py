"""A group room's staff back-channel: a room of kind ``staff`` whose ``parent_id`` is the group room.

Invariant: only staff and admins are ever members (the roster rules keep participants out
of staff rooms, and ``open_backchannel`` adds nobody else); every member moderates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.store import rooms as room_store
from server.store.models import Enrollment, Membership, Room, User
from server.store.users import STAFF_ROLES, Person, _person

SERVED_KINDS = ("group", "cohort", "topic", "alumni")  # group rooms; a direct or staff room has none
rooms = Room.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
enrollments = Enrollment.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]


class NoBackchannel(Exception):
    """The room is not a group room (or does not exist), so it has no back-channel."""


@dataclass
class Opened:
    room_id: int
    created: bool
    frames: list[dict[str, Any]] = field(default_factory=list)


async def _staff_of(conn: AsyncConnection, parent_id: int, program_id: int | None) -> list[Person]:
    """The parent room's moderators who are staff or admins, and the program's active staff."""
    wanted = select(users).where(users.c.role.in_(STAFF_ROLES))
    moderators = select(memberships.c.user_id).where(
        memberships.c.room_id == parent_id, memberships.c.role == "moderator"
    )
    staff = select(enrollments.c.user_id).where(
        enrollments.c.program_id == program_id, enrollments.c.role == "staff", enrollments.c.status == "active"
    )
    rows = await conn.execute(wanted.where(users.c.id.in_(moderators) | users.c.id.in_(staff)).order_by(users.c.id))
    return [_person(row) for row in rows]


async def open_backchannel(conn: AsyncConnection, parent_id: int, opener: Person) -> Opened:
    """The back-channel of the room, made on first use with its staff as moderators; the opener
    (staff or an admin) joins it if they were not in it yet."""
    parent = (
        await conn.execute(select(rooms.c.name, rooms.c.kind, rooms.c.program_id).where(rooms.c.id == parent_id))
    ).first()
    if parent is None or parent.kind not in SERVED_KINDS:
        raise NoBackchannel(parent_id)
    found = (
        await conn.execute(select(rooms.c.id).where(rooms.c.parent_id == parent_id, rooms.c.kind == "staff"))
    ).first()
    opened = Opened(room_id=0 if found is None else found.id, created=found is None)
    people = [opener]
    if found is None:
        opened.room_id = await room_store.create(
            conn, name=f"{parent.name} (staff)"[:100], kind="staff", creator=None, program_id=parent.program_id
        )
        await conn.execute(update(rooms).where(rooms.c.id == opened.room_id).values(parent_id=parent_id))
        people = [*await _staff_of(conn, parent_id, parent.program_id), opener]
    for person in {p.id: p for p in people}.values():
        frame = await room_store.set_member(conn, room_id=opened.room_id, person=person, role="moderator")
        if frame is not None:
            opened.frames.append(frame)
    return opened


async def is_staff_room(conn: AsyncConnection, room_id: int) -> bool:
    row = (await conn.execute(select(rooms.c.kind).where(rooms.c.id == room_id))).first()
    return row is not None and row.kind == "staff"
