"""Who watches a room and how it is set up: duty check-ins, schedule, hold mode, listen-only.

Invariant: every change to what decides a room's monitored state (its schedule, hold mode
or a check-in) bumps ``rooms.state_version`` in the same transaction, and bumps it first,
so the room row is locked (concurrent check-ins of one room are serialised) and every
process that follows the room can tell its copy is stale. A check-in counts only while it
has not ended or expired and its person is still a moderator of the room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.rules.monitoring import Duty, Setup
from server.rules.schedule import Schedule, stored_schedule
from server.store.database import as_utc
from server.store.models import DutyCheckin, Membership, Room, User

checkins = DutyCheckin.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RoomInfo:
    """A room's own row, for its settings page and for deciding who may change them."""

    id: int
    name: str
    kind: str
    program_id: int | None
    last_seq: int
    hold_mode: str
    schedule: Schedule | None
    locked: bool
    slow_seconds: int

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "program": self.program_id,
            "last_seq": self.last_seq,
            "hold_mode": self.hold_mode,
            "schedule": None if self.schedule is None else self.schedule.model_dump(mode="json"),
            "locked": self.locked,
            "slow_seconds": self.slow_seconds,
        }


@dataclass(frozen=True)
class Member:
    """One person's membership of one room, as far as posting is concerned."""

    role: str
    listen_until: datetime | None
    muted_until: datetime | None = None


def _on_duty_in(room_ids: Any, now: datetime) -> Any:
    """Check-ins that count now: not ended, not expired, and the person still moderates the room."""
    return (
        select(checkins.c.room_id, checkins.c.user_id, checkins.c.expires_at, users.c.display_name)
        .join(users, users.c.id == checkins.c.user_id)
        .join(
            memberships,
            and_(
                memberships.c.room_id == checkins.c.room_id,
                memberships.c.user_id == checkins.c.user_id,
                memberships.c.role == "moderator",
            ),
        )
        .where(checkins.c.room_id.in_(room_ids), checkins.c.ended_at.is_(None), checkins.c.expires_at > now)
    )


def rooms_on_duty(conn: Connection, room_ids: set[int], now: datetime) -> set[int]:
    """Of these rooms, those with someone on duty now (synchronous: the group commit asks)."""
    return {row.room_id for row in conn.execute(_on_duty_in(sorted(room_ids), now))}


async def setup_of(conn: AsyncConnection, room_id: int, now: datetime) -> Setup | None:
    """Everything that decides the room's state, read fresh; None when there is no such room."""
    row = (
        await conn.execute(
            select(
                rooms.c.state_version, rooms.c.hold_mode, rooms.c.schedule, rooms.c.locked, rooms.c.slow_seconds
            ).where(rooms.c.id == room_id)
        )
    ).first()
    if row is None:
        return None
    latest: dict[int, Duty] = {}
    for duty in await conn.execute(_on_duty_in([room_id], now)):
        expires = as_utc(duty.expires_at)
        if duty.user_id not in latest or latest[duty.user_id].expires_at < expires:
            latest[duty.user_id] = Duty(user_id=duty.user_id, display_name=duty.display_name, expires_at=expires)
    return Setup(
        room_id=room_id,
        version=row.state_version,
        hold_mode=row.hold_mode,
        schedule=stored_schedule(row.schedule),
        duty=tuple(latest.values()),
        locked=bool(row.locked),
        slow_seconds=row.slow_seconds,
    )


async def room_info(conn: AsyncConnection, room_id: int) -> RoomInfo | None:
    row = (
        await conn.execute(
            select(
                rooms.c.id,
                rooms.c.name,
                rooms.c.kind,
                rooms.c.program_id,
                rooms.c.last_seq,
                rooms.c.hold_mode,
                rooms.c.schedule,
                rooms.c.locked,
                rooms.c.slow_seconds,
            ).where(rooms.c.id == room_id)
        )
    ).first()
    if row is None:
        return None
    return RoomInfo(
        id=row.id,
        name=row.name,
        kind=row.kind,
        program_id=row.program_id,
        last_seq=row.last_seq,
        hold_mode=row.hold_mode,
        schedule=stored_schedule(row.schedule),
        locked=bool(row.locked),
        slow_seconds=row.slow_seconds,
    )


async def member_of(conn: AsyncConnection, room_id: int, user_id: int) -> Member | None:
    """The person's role in the room, how long they observe and are muted, or None when not a member."""
    row = (
        await conn.execute(
            select(memberships.c.role, memberships.c.listen_until, memberships.c.muted_until).where(
                memberships.c.room_id == room_id, memberships.c.user_id == user_id
            )
        )
    ).first()
    if row is None:
        return None
    return Member(
        role=row.role,
        listen_until=None if row.listen_until is None else as_utc(row.listen_until),
        muted_until=None if row.muted_until is None else as_utc(row.muted_until),
    )


async def _bump(conn: AsyncConnection, room_id: int) -> None:
    await conn.execute(update(rooms).where(rooms.c.id == room_id).values(state_version=rooms.c.state_version + 1))


async def set_options(
    conn: AsyncConnection,
    room_id: int,
    *,
    hold_mode: str | None,
    schedule: Schedule | None,
    set_schedule: bool,
    locked: bool | None = None,
    slow_seconds: int | None = None,
) -> None:
    """Change the hold mode, lock and slow mode (each unless None) and the schedule (when
    ``set_schedule``; None removes it)."""
    await _bump(conn, room_id)
    values: dict[str, Any] = {}
    if hold_mode is not None:
        values["hold_mode"] = hold_mode
    if locked is not None:
        values["locked"] = locked
    if slow_seconds is not None:
        values["slow_seconds"] = slow_seconds
    if set_schedule:
        values["schedule"] = None if schedule is None else schedule.model_dump_json()
    if values:
        await conn.execute(update(rooms).where(rooms.c.id == room_id).values(**values))


def _running(room_id: int, user_id: int, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The person's check-in in the room that is still running at ``now``."""
    return (
        checkins.c.room_id == room_id,
        checkins.c.user_id == user_id,
        checkins.c.ended_at.is_(None),
        checkins.c.expires_at > now,
    )


async def check_in(conn: AsyncConnection, room_id: int, user_id: int, now: datetime, until: datetime) -> None:
    """Start duty, or renew a running check-in so it now lasts until ``until``."""
    await _bump(conn, room_id)
    renewed = await conn.execute(update(checkins).where(*_running(room_id, user_id, now)).values(expires_at=until))
    if not renewed.rowcount:
        await conn.execute(insert(checkins).values(room_id=room_id, user_id=user_id, started_at=now, expires_at=until))


async def check_out(conn: AsyncConnection, room_id: int, user_id: int, now: datetime) -> bool:
    """End the person's running check-in; False when they were not on duty."""
    await _bump(conn, room_id)
    ended = await conn.execute(update(checkins).where(*_running(room_id, user_id, now)).values(ended_at=now))
    return bool(ended.rowcount)


async def set_listen_until(conn: AsyncConnection, room_id: int, user_id: int, until: datetime | None) -> None:
    """Observe (listen only) until then, or stop observing (None)."""
    await conn.execute(
        update(memberships)
        .where(memberships.c.room_id == room_id, memberships.c.user_id == user_id)
        .values(listen_until=until)
    )
