"""The storage suite, run on SQLite and on PostgreSQL: seqs, idempotency, replies, history."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial

from sqlalchemy import select

from server.store import duty as duty_store
from server.store.database import Database
from server.store.events import NewMessage, Posted, append_messages, held_messages, history
from tests.support.seed import create_room, create_user


async def _post(db: Database, messages: list[NewMessage]) -> list[Posted]:
    return await db.run_write(partial(append_messages, batch=messages))


def _message(
    room: int, author_id: int, body: str, client_id: str | None = None, reply_to: int | None = None
) -> NewMessage:
    return NewMessage(
        room_id=room,
        author_id=author_id,
        author_name="x",
        body=body,
        client_id=client_id or str(uuid.uuid4()),
        reply_to=reply_to,
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


async def test_replies_in_one_batch_quote_their_targets_and_other_targets_are_refused(db: Database) -> None:
    staff = await create_user(db, "staff", "staff", "Kim")
    ann, ben = await create_user(db, "ann", display_name="Ann"), await create_user(db, "ben")
    room = await create_room(db, staff, [ann, ben])
    long_body = "🌱" * 150
    targets = await _post(db, [_message(room, ann.person.id, long_body), _message(room, staff.person.id, "hi")])
    first, second = targets[0].seq, targets[1].seq
    assert first is not None and second is not None
    posted = await _post(
        db,
        [
            _message(room, ben.person.id, "me too", reply_to=first),
            _message(room, ben.person.id, "a member_added", reply_to=1),
            _message(room, ben.person.id, "past the end", reply_to=10**6),
            _message(room, ben.person.id, "plain"),
            _message(room, ann.person.id, "thanks", reply_to=second),
        ],
    )
    assert [p.refused for p in posted] == [None, "invalid", "invalid", None, None]
    quote = {"seq": first, "author": {"id": ann.person.id, "display_name": "Ann"}, "excerpt": "🌱" * 140}
    assert posted[0].frame is not None and posted[0].frame["reply_to"] == quote
    assert posted[3].frame is not None and "reply_to" not in posted[3].frame
    assert posted[4].frame is not None and posted[4].frame["reply_to"]["author"]["display_name"] == "Kim"
    async with db.read() as conn:
        stored, _ = await history(conn, room, after=second)
    live = [p.frame for p in posted if p.frame is not None]
    assert [(e["seq"], e.get("reply_to")) for e in stored] == [(e["seq"], e.get("reply_to")) for e in live]


async def test_a_reply_to_a_message_of_another_room_is_refused(db: Database) -> None:
    staff = await create_user(db, "staff", "staff")
    ann = await create_user(db, "ann")
    room = await create_room(db, staff, [ann])
    other = await create_room(db, staff, [ann], name="Other")
    for _ in range(5):
        await _post(db, [_message(other, ann.person.id, "filler")])
    elsewhere = (await _post(db, [_message(other, ann.person.id, "elsewhere")]))[0].seq
    async with db.read() as conn:
        mine, _ = await history(conn, room, after=0)
    assert elsewhere is not None and elsewhere > mine[-1]["seq"]  # no event of this room has that seq
    posted = await _post(db, [_message(room, ann.person.id, "re", reply_to=elsewhere)])
    assert posted[0].refused == "invalid"


async def test_a_held_reply_keeps_its_quote_for_review(db: Database) -> None:
    staff = await create_user(db, "staff", "staff")
    ann = await create_user(db, "ann", display_name="Ann")
    room = await create_room(db, staff, [ann])
    target = (await _post(db, [_message(room, staff.person.id, "welcome")]))[0].seq
    async with db.write() as conn:
        await duty_store.set_options(conn, room, hold_mode="always", schedule=None, set_schedule=False)
    posted = await _post(db, [_message(room, ann.person.id, "thank you", reply_to=target)])
    assert posted[0].held
    async with db.read() as conn:
        row = (await conn.execute(select(held_messages.c.data).where(held_messages.c.room_id == room))).one()
    assert row.data is not None and '"reply_to"' in row.data and f'"seq":{target}' in row.data
