"""What the group commit puts in the moderation queue, in its own transaction.

Invariant: a crisis item is inserted in the transaction that stores (or holds) the message
that matched, and a held message's ``held`` item in the one that holds it, so an alert is
never lost between commit and notification. Kept apart from ``store.queue`` because
``store.events`` calls it (and ``store.queue`` reads events).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from server.store.models import QueueItem, Room

queue_items = QueueItem.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Flag:
    """A message of a group-commit batch that goes to the queue: stored (seq) or held (held_id)."""

    room_id: int
    author_id: int
    seq: int | None
    held_id: int | None
    crisis: bool


def enqueue_batch(conn: Connection, flags: list[Flag], now: datetime) -> list[tuple[int, ...]]:
    """Insert the batch's crisis and held items (synchronous: inside the group commit).

    Returns, per flag, the ids of the items made for it (a held message that also matched
    gets two: its crisis alert and its place in the review queue).
    """
    program_of = {
        row.id: row.program_id
        for row in conn.execute(
            select(rooms.c.id, rooms.c.program_id).where(rooms.c.id.in_({flag.room_id for flag in flags}))
        )
    }
    rows: list[dict[str, Any]] = []
    owners: list[int] = []
    for index, flag in enumerate(flags):
        where = f"{flag.room_id}:{flag.seq}" if flag.held_id is None else f"held:{flag.held_id}"
        kinds = (["crisis"] if flag.crisis else []) + (["held"] if flag.held_id is not None else [])
        for kind in kinds:
            key = f"held:{flag.held_id}" if kind == "held" else f"crisis:{where}"
            rows.append(item_row(kind, flag.room_id, program_of.get(flag.room_id), flag.author_id, now, key))
            rows[-1].update(target_seq=flag.seq, held_id=flag.held_id)
            owners.append(index)
    made: list[list[int]] = [[] for _ in flags]
    if rows:
        ids = conn.execute(insert(queue_items).returning(queue_items.c.id, sort_by_parameter_order=True), rows)
        for owner, item_id in zip(owners, ids.scalars(), strict=True):
            made[owner].append(item_id)
    return [tuple(ids) for ids in made]


def item_row(
    kind: str, room_id: int, program_id: int | None, subject_id: int | None, now: datetime, key: str
) -> dict[str, Any]:
    """A new open queue item; ``key`` makes raising the same thing twice land on it."""
    return {
        "program_id": program_id,
        "room_id": room_id,
        "kind": kind,
        "dedupe_key": key,
        "target_seq": None,
        "held_id": None,
        "subject_id": subject_id,
        "status": "open",
        "created_at": now,
    }
