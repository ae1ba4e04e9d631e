"""Read markers and the room list in storage, on SQLite and PostgreSQL: unread counts stop at the
cap, count only others' messages after the marker, and the marker never moves back."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from typing import Any

from server.store import rooms as room_store
from server.store.database import Database
from server.store.events import NewMessage, append_messages
from server.store.reading import UNREAD_CAP, mark_read
from server.store.users import Person
from tests.support.seed import create_room, create_user


async def _post(db: Database, room: int, author: Person, bodies: list[str]) -> list[int]:
    batch = [
        NewMessage(
            room_id=room, author_id=author.id, author_name=author.display_name, body=b, client_id=str(uuid.uuid4())
        )
        for b in bodies
    ]
    posted = await db.run_write(partial(append_messages, batch=batch))
    return [p.seq for p in posted if p.seq is not None]


async def _listed(db: Database, person: Person, room: int) -> dict[str, Any]:
    async with db.read() as conn:
        return next(r for r in await room_store.of_user(conn, person.id) if r["id"] == room)


async def test_unread_counts_others_messages_after_the_marker_up_to_the_cap(db: Database) -> None:
    staff = await create_user(db, "staff", "staff")
    ann, ben = await create_user(db, "ann"), await create_user(db, "ben")
    room = await create_room(db, staff, [ann, ben])
    quiet = await create_room(db, staff, [ann], name="Quiet")
    await _post(db, room, ben.person, [f"b{n}" for n in range(UNREAD_CAP + 5)])
    mine = await _post(db, room, ann.person, ["a0", "a1"])
    assert (await _listed(db, ann.person, room))["unread"] == UNREAD_CAP
    assert (await _listed(db, ben.person, room))["unread"] == 2
    assert (await _listed(db, ann.person, quiet))["unread"] == 0
    async with db.write() as conn:
        assert await mark_read(conn, room, ann.person.id, mine[0] - 10) == (mine[0] - 10, True)
    listed = await _listed(db, ann.person, room)
    assert (listed["last_read_seq"], listed["unread"]) == (mine[0] - 10, 9)
    assert listed["latest"]["seq"] == mine[1] and listed["latest"]["excerpt"] == "a1"
    assert listed["latest"]["author"] == {"id": ann.person.id, "display_name": ann.person.display_name}
    assert (await _listed(db, ann.person, quiet))["latest"] is None


async def test_racing_markers_end_at_the_furthest(db: Database, db_url: str) -> None:
    staff = await create_user(db, "staff", "staff")
    ann = await create_user(db, "ann")
    room = await create_room(db, staff, [ann])
    await _post(db, room, staff.person, [f"m{n}" for n in range(40)])
    engines = [Database(db_url) for _ in range(8)]

    async def mark(engine: Database, seq: int) -> tuple[int, bool]:
        async with engine.write() as conn:
            return await mark_read(conn, room, ann.person.id, seq)

    try:
        results = await asyncio.gather(*(mark(e, seq) for e, seq in zip(engines, range(40, 0, -5), strict=True)))
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))
    assert all(marker >= seq for marker, seq in zip((r[0] for r in results), range(40, 0, -5), strict=True))
    assert (await _listed(db, ann.person, room))["last_read_seq"] == 40
    async with db.write() as conn:
        assert await mark_read(conn, room, ann.person.id, 3) == (40, False)
