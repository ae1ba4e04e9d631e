"""The queue in storage, on SQLite and PostgreSQL, with writers on separate engines (as separate
processes would be): racing reporters make one item, racing escalation passes win each alert once,
and a crisis item is stored by the same transaction as its message."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from functools import partial

from sqlalchemy import select

from server.settings import load_crisis_settings
from server.store import queue as queue_store
from server.store.database import Database, utcnow
from server.store.events import NewMessage, append_messages
from server.store.queue import queue_items, raisers
from tests.support.seed import create_room, create_user


async def _crisis_room(db: Database, people: int) -> tuple[int, list[int]]:
    staff = await create_user(db, "staff", "staff")
    members = [await create_user(db, f"member{i}") for i in range(people)]
    room = await create_room(db, staff, members)
    return room, [member.person.id for member in members]


async def test_a_crisis_item_is_stored_with_its_message_and_racing_reporters_make_one_item(
    db: Database, db_url: str
) -> None:
    room, people = await _crisis_room(db, 6)
    detector = load_crisis_settings().detector
    batch = [
        NewMessage(room, people[0], "x", "I want to end it all", str(uuid.uuid4())),
        NewMessage(room, people[0], "x", "see you all tomorrow", str(uuid.uuid4())),
    ]
    posted = await db.run_write(partial(append_messages, batch=batch, detector=detector))
    assert [(p.crisis, len(p.items)) for p in posted] == [(True, 1), (False, 0)]
    async with db.read() as conn:
        stored = (await conn.execute(select(queue_items))).one()
    assert (stored.kind, stored.target_seq, stored.subject_id) == ("crisis", posted[0].seq, people[0])

    engines = [Database(db_url) for _ in people[1:]]

    async def report(engine: Database, who: int) -> queue_store.Raised:
        async with engine.write() as conn:
            return await queue_store.raise_item(
                conn,
                kind="report",
                room_id=room,
                program_id=None,
                seq=posted[1].seq or 0,
                subject_id=people[0],
                raiser_id=who,
                reason=None,
                now=utcnow(),
            )

    try:
        raised = await asyncio.gather(*(report(engine, who) for engine, who in zip(engines, people[1:], strict=True)))
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))
    assert len({r.item_id for r in raised}) == 1 and sum(r.created for r in raised) == 1
    async with db.read() as conn:
        count = len((await conn.execute(select(raisers).where(raisers.c.item_id == raised[0].item_id))).all())
    assert count == len(people) - 1


async def test_racing_escalation_passes_win_each_alert_once(db: Database, db_url: str) -> None:
    room, people = await _crisis_room(db, 1)
    detector = load_crisis_settings().detector
    batch = [NewMessage(room, people[0], "x", f"I want to die {n}", str(uuid.uuid4())) for n in range(5)]
    await db.run_write(partial(append_messages, batch=batch, detector=detector))
    engines = [Database(db_url) for _ in range(4)]
    later = utcnow() + timedelta(minutes=10)

    async def sweep(engine: Database) -> list[int]:
        async with engine.write() as conn:
            return await queue_store.escalate_due(conn, later, later)

    try:
        won = await asyncio.gather(*(sweep(engine) for engine in engines))
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))
    every = [item for ids in won for item in ids]
    assert len(every) == 5 and len(set(every)) == 5
