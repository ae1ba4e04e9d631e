"""The storage suite, run on SQLite and on PostgreSQL: seqs, idempotency, history."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial

from server.store.database import Database
from server.store.events import NewMessage, Posted, append_messages, history
from tests.support.seed import create_room, create_user


async def _post(db: Database, messages: list[NewMessage]) -> list[Posted]:
    return await db.run_write(partial(append_messages, batch=messages))


def _message(room: int, author_id: int, body: str, client_id: str | None = None) -> NewMessage:
    return NewMessage(
        room_id=room, author_id=author_id, author_name="x", body=body, client_id=client_id or str(uuid.uuid4())
    )


async def test_concurrent_writers_on_separate_engines_get_gap_free_seqs(db: Database, db_url: str) -> None:
    """20 writers, each with its own engine (as separate processes would), into one room."""
    staff = await create_user(db, "staff", "staff")
    writers = [await create_user(db, f"writer{i}") for i in range(20)]
    room = await create_room(db, staff, writers)
    engines = [Database(db_url) for _ in writers]

    async def write(engine: Database, author_id: int) -> list[int]:
        seqs = []
        for n in range(10):
            posted = await _post(engine, [_message(room, author_id, f"m{n}")])
            assert posted[0].seq is not None
            seqs.append(posted[0].seq)
        return seqs

    try:
        results = await asyncio.gather(*(write(e, w.person.id) for e, w in zip(engines, writers, strict=True)))
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))
    members = 1 + len(writers)  # member_added events took seqs 1..21
    got = sorted(seq for seqs in results for seq in seqs)
    assert got == list(range(members + 1, members + 1 + 200))
    for seqs in results:
        assert seqs == sorted(seqs)
    async with db.read() as conn:
        events, _ = await history(conn, room, after=0, limit=500)
    assert [e["seq"] for e in events] == list(range(1, members + 201))


async def test_same_client_id_is_stored_once_and_answered_with_the_original_seq(db: Database) -> None:
    staff = await create_user(db, "staff", "staff")
    member = await create_user(db, "member")
    room = await create_room(db, staff, [member])
    client_id = str(uuid.uuid4())
    first = await _post(db, [_message(room, member.person.id, "hello", client_id)] * 2)
    again = await _post(db, [_message(room, member.person.id, "hello", client_id)])
    assert first[0].seq == first[1].seq == again[0].seq
    assert first[0].frame is not None and first[1].frame is None and again[0].frame is None
    async with db.read() as conn:
        events, _ = await history(conn, room, after=0)
    assert [e["type"] for e in events].count("message") == 1


async def test_the_same_client_id_from_two_people_is_two_messages(db: Database) -> None:
    staff = await create_user(db, "staff", "staff")
    a, b = await create_user(db, "alpha"), await create_user(db, "bravo")
    room = await create_room(db, staff, [a, b])
    client_id = str(uuid.uuid4())
    posted = await _post(db, [_message(room, a.person.id, "x", client_id), _message(room, b.person.id, "y", client_id)])
    assert posted[0].seq != posted[1].seq


async def test_non_members_cannot_post_and_nothing_is_stored(db: Database) -> None:
    staff = await create_user(db, "staff", "staff")
    outsider = await create_user(db, "outsider")
    room = await create_room(db, staff, [])
    posted = await _post(db, [_message(room, outsider.person.id, "hi"), _message(999, staff.person.id, "x")])
    assert [p.refused for p in posted] == ["not_member", "not_member"]
    async with db.read() as conn:
        events, _ = await history(conn, room, after=0)
    assert [e["type"] for e in events] == ["member_added"]


async def test_history_pages_forwards_and_backwards(db: Database) -> None:
    staff = await create_user(db, "staff", "staff")
    room = await create_room(db, staff, [])
    await _post(db, [_message(room, staff.person.id, f"m{i}") for i in range(30)])
    async with db.read() as conn:
        first, more = await history(conn, room, after=0, limit=10)
        assert [e["seq"] for e in first] == list(range(1, 11)) and more
        last, more = await history(conn, room, after=25, limit=10)
        assert [e["seq"] for e in last] == list(range(26, 32)) and not more
        latest, more = await history(conn, room, limit=5)
        assert [e["seq"] for e in latest] == list(range(27, 32)) and more
        older, more = await history(conn, room, before=27, limit=5)
        assert [e["seq"] for e in older] == list(range(22, 27)) and more
        oldest, more = await history(conn, room, before=3, limit=5)
        assert [e["seq"] for e in oldest] == [1, 2] and not more
    message = last[-1]
    assert set(message) == {"type", "room", "seq", "author", "body", "ts", "client_id"}
    assert message["author"] == {"id": staff.person.id, "display_name": staff.person.display_name}
    assert message["ts"].endswith("Z")
