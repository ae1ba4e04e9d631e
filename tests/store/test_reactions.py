"""Reactions in storage, on SQLite and PostgreSQL: the rows stay the fold of the events, also
when several processes give and take back the same reaction at once."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial

from sqlalchemy import select

from server.store.database import Database
from server.store.events import NewMessage, append_messages, history
from server.store.reactions import Reacted, react, reactions
from server.store.users import Person
from tests.support.seed import create_room, create_user


async def _message(db: Database, room: int, author: Person) -> int:
    message = NewMessage(
        room_id=room, author_id=author.id, author_name=author.display_name, body="hi", client_id=str(uuid.uuid4())
    )
    posted = await db.run_write(partial(append_messages, batch=[message]))
    assert posted[0].seq is not None
    return posted[0].seq


async def _react(db: Database, room: int, person: Person, target: int, on: bool) -> Reacted:
    async with db.write() as conn:
        return await react(conn, room_id=room, person=person, target=target, emoji="heart", on=on)


async def _fold(db: Database, room: int) -> tuple[list[bool], set[int]]:
    """The heart reactions' on/off sequence as stored events, and who has one now (the rows)."""
    async with db.read() as conn:
        events, _ = await history(conn, room, after=0, limit=500)
        rows = await conn.execute(select(reactions.c.user_id).where(reactions.c.room_id == room))
        holders = {row.user_id for row in rows}
    return [e["on"] for e in events if e["type"] == "reaction"], holders


async def test_the_same_reaction_given_at_once_from_many_processes_is_stored_once(db: Database, db_url: str) -> None:
    staff = await create_user(db, "staff", "staff")
    member = await create_user(db, "member")
    room = await create_room(db, staff, [member])
    target = await _message(db, room, staff.person)
    engines = [Database(db_url) for _ in range(12)]
    try:
        results = await asyncio.gather(*(_react(e, room, member.person, target, True) for e in engines))
        assert sum(r.frame is not None for r in results) == 1
        assert all(r.refused is None for r in results)
        results = await asyncio.gather(*(_react(e, room, member.person, target, False) for e in engines))
        assert sum(r.frame is not None for r in results) == 1
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))
    assert await _fold(db, room) == ([True, False], set())


async def test_racing_gives_and_take_backs_keep_the_rows_the_fold_of_the_events(db: Database, db_url: str) -> None:
    staff = await create_user(db, "staff", "staff")
    people = [await create_user(db, f"member{i}") for i in range(3)]
    room = await create_room(db, staff, people)
    target = await _message(db, room, staff.person)
    engines = [Database(db_url) for _ in range(6)]

    async def toggle(engine: Database, n: int) -> None:
        for step in range(6):
            await _react(engine, room, people[n % 3].person, target, on=(n + step) % 2 == 0)

    try:
        await asyncio.gather(*(toggle(engine, n) for n, engine in enumerate(engines)))
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))
    async with db.read() as conn:
        events, _ = await history(conn, room, after=0, limit=500)
        rows = await conn.execute(select(reactions.c.user_id, reactions.c.emoji).where(reactions.c.room_id == room))
        stored = {(row.user_id, row.emoji) for row in rows}
    state: dict[int, bool] = {}
    for event in (e for e in events if e["type"] == "reaction"):
        who = event["user"]["id"]
        assert state.get(who, False) != event["on"], "an event that changed nothing was stored"
        state[who] = event["on"]
    assert stored == {(who, "heart") for who, on in state.items() if on}
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
