"""Retention: erase message bodies older than their program's ``retention_days``.

Invariants:
- Each batch is its own short write transaction (at most ``batch`` messages of one room),
  with its audit entry (``retention.erase``: counts and the cut-off, never text), so a long
  run never holds the database for long and a crash loses at most one batch's progress.
- Erasing is in place (``store.erasure``, reason ``expired``): seqs, authors, replies and
  reactions on newer messages keep working. Each erased message gets a stored ``redacted``
  event (``reason: "expired"``) in the same transaction, as an account deletion's do. Nothing
  is published from here (the command runs beside the web processes, with or without a
  broker): every web process's periodic catch-up (``Hub.catch_up_all``, every
  ``sync_interval``) finds the rooms' new events in the database and delivers them to the
  sockets that follow those rooms, so open pages show the tombstones within seconds.
- Idempotent: a message erased once is never selected again; a second run erases nothing.
- Held messages still held past the cut-off keep their text (a person is waiting for the
  decision); decided ones past it lose it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.rules.erasure import retention_cutoff
from server.store import audit
from server.store.database import Database
from server.store.erasure import erase, store_redactions
from server.store.events import iso
from server.store.models import Event, HeldMessage, Program, Room

events = Event.__table__  # type: ignore[attr-defined]
held_messages = HeldMessage.__table__  # type: ignore[attr-defined]
programs = Program.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]

BATCH = 500


@dataclass(frozen=True)
class Report:
    """What one run erased: messages per program, and held messages' texts."""

    messages: dict[int, int]
    held: int

    @property
    def total(self) -> int:
        return sum(self.messages.values())


async def _policies(db: Database) -> list[tuple[int, int]]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(programs.c.id, programs.c.retention_days)
            .where(programs.c.retention_days.is_not(None))
            .order_by(programs.c.id)
        )
        return [(int(row.id), int(row.retention_days)) for row in rows]


async def _rooms_of(db: Database, program_id: int) -> list[int]:
    async with db.read() as conn:
        rows = await conn.execute(select(rooms.c.id).where(rooms.c.program_id == program_id).order_by(rooms.c.id))
        return [int(row.id) for row in rows]


async def _expired(conn: AsyncConnection, room_id: int, cutoff: datetime, batch: int) -> list[int]:
    rows = await conn.execute(
        select(events.c.seq)
        .where(
            events.c.room_id == room_id,
            events.c.type == "message",
            events.c.body.is_not(None),
            events.c.created_at < cutoff,
        )
        .order_by(events.c.seq)
        .limit(batch)
    )
    return [int(row.seq) for row in rows]


async def run_once(db: Database, now: datetime, batch: int = BATCH) -> Report:
    """Apply every program's retention period as of ``now`` (the clock is the caller's)."""
    erased: dict[int, int] = {}
    held = 0
    for program_id, days in await _policies(db):
        cutoff = retention_cutoff(now, days)
        assert cutoff is not None  # only programs with a period were selected
        for room_id in await _rooms_of(db, program_id):
            while True:
                async with db.write() as conn:
                    done = await erase(conn, room_id, await _expired(conn, room_id, cutoff, batch), "expired")
                    if done:
                        await store_redactions(conn, room_id, done, "expired")
                        await audit.record(conn, _entry(program_id, room_id, len(done), cutoff), at=now)
                erased[program_id] = erased.get(program_id, 0) + len(done)
                if len(done) < batch:
                    break
            held += await _erase_held(db, room_id, cutoff)
    return Report(messages={program: count for program, count in erased.items() if count}, held=held)


def _entry(program_id: int, room_id: int, count: int, cutoff: datetime) -> audit.Entry:
    return audit.Entry(
        None,
        "retention.erase",
        program_id=program_id,
        room_id=room_id,
        detail={"messages": count, "before": iso(cutoff)},
    )


async def _erase_held(db: Database, room_id: int, cutoff: datetime) -> int:
    async with db.write() as conn:
        result = await conn.execute(
            update(held_messages)
            .where(
                held_messages.c.room_id == room_id,
                held_messages.c.status != "held",
                held_messages.c.created_at < cutoff,
                held_messages.c.body.is_not(None),
            )
            .values(body=None)
        )
        return int(result.rowcount or 0)
