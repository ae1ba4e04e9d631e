"""The audit trail: append-only, written in the transaction of the action it records.

Invariant: this module only inserts and reads; nothing in the product updates or deletes an
audit row (on PostgreSQL a trigger refuses it as well). Entries name people and things by
id and never carry message text, so erasing a message erases it everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Select, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.store.database import as_utc, utcnow
from server.store.models import AuditEntry

audit_log = AuditEntry.__table__  # type: ignore[attr-defined]

MAX_PAGE = 500


@dataclass(frozen=True)
class Entry:
    """What one audit row says: who, what, when, the target, and why."""

    actor_id: int | None
    action: str
    program_id: int | None = None
    room_id: int | None = None
    target_user_id: int | None = None
    target: str | None = None
    reason: str | None = None
    detail: dict[str, Any] | None = None

    def row(self, at: datetime) -> dict[str, Any]:
        return {
            "at": at,
            "actor_id": self.actor_id,
            "action": self.action,
            "program_id": self.program_id,
            "room_id": self.room_id,
            "target_user_id": self.target_user_id,
            "target": self.target,
            "reason": self.reason,
            "detail": None if self.detail is None else orjson.dumps(self.detail).decode(),
        }


async def record(conn: AsyncConnection, entry: Entry, at: datetime | None = None) -> None:
    """Append one entry inside the caller's write transaction."""
    await conn.execute(insert(audit_log).values(entry.row(at or utcnow())))


def record_sync(conn: Connection, entries: list[Entry], at: datetime | None = None) -> None:
    """The same from a synchronous write (the group-commit path); several entries, one insert."""
    if entries:
        stamp = at or utcnow()
        conn.execute(insert(audit_log), [entry.row(stamp) for entry in entries])


@dataclass(frozen=True)
class Filter:
    """What an admin asks of the trail; every field narrows it."""

    program_id: int | None = None
    actor_id: int | None = None
    target_user_id: int | None = None
    room_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # paging: entries older than this one
    limit: int = 100


def _query(wanted: Filter) -> Select[Any]:
    query = select(audit_log)
    for column, value in (
        (audit_log.c.program_id, wanted.program_id),
        (audit_log.c.actor_id, wanted.actor_id),
        (audit_log.c.target_user_id, wanted.target_user_id),
        (audit_log.c.room_id, wanted.room_id),
        (audit_log.c.action, wanted.action),
    ):
        if value is not None:
            query = query.where(column == value)
    if wanted.since is not None:
        query = query.where(audit_log.c.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(audit_log.c.at < wanted.until)
    if wanted.before_id is not None:
        query = query.where(audit_log.c.id < wanted.before_id)
    return query.order_by(audit_log.c.id.desc()).limit(max(1, min(wanted.limit, MAX_PAGE)))


async def entries(conn: AsyncConnection, wanted: Filter) -> list[dict[str, Any]]:
    """Newest first, as JSON-ready dicts (ids; the HTTP layer adds names for staff)."""
    rows = (await conn.execute(_query(wanted))).all()
    return [
        {
            "id": row.id,
            "at": as_utc(row.at).isoformat(),
            "actor": row.actor_id,
            "action": row.action,
            "program": row.program_id,
            "room": row.room_id,
            "target_user": row.target_user_id,
            "target": row.target,
            "reason": row.reason,
            "detail": None if row.detail is None else orjson.loads(row.detail),
        }
        for row in rows
    ]
