"""Moderation in the store, on SQLite and PostgreSQL: removal erases every copy of the text,
mutes, locks and slow mode refuse inside the group commit, and only slow rooms keep a clock."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial

import orjson
from sqlalchemy import insert, select, update

from server.store import moderation
from server.store.database import Database, utcnow
from server.store.events import NewMessage, Posted, append_messages, events, held_messages, history, memberships, rooms
from server.store.excerpts import quote
from server.store.models import Reaction
from server.store.reactions import react
from tests.support.seed import create_cast

reactions = Reaction.__table__  # type: ignore[attr-defined]


async def _post(db: Database, *messages: NewMessage) -> list[Posted]:
    return await db.run_write(partial(append_messages, batch=list(messages)))


def _msg(room: int, author: int, body: str = "hello", reply_to: int | None = None) -> NewMessage:
    return NewMessage(room, author, "x", body, str(uuid.uuid4()), reply_to)


async def test_removing_a_message_erases_its_text_quotes_and_reactions(db: Database) -> None:
    cast = await create_cast(db)
    ann, ben = cast.ann.person, cast.ben.person
    [original] = await _post(db, _msg(cast.room, ann.id, "something hurtful"))
    assert original.seq is not None
    [reply] = await _post(db, _msg(cast.room, ben.id, "a reply", reply_to=original.seq))
    async with db.write() as conn:
        await react(conn, room_id=cast.room, person=ben, target=original.seq, emoji="hug", on=True)
        await conn.execute(  # a held reply quoting it, too
            insert(held_messages).values(
                room_id=cast.room,
                author_id=ben.id,
                body="held reply",
                client_id=str(uuid.uuid4()),
                data=orjson.dumps({"reply_to": quote(original.seq, ann.id, "Ann", "something hurtful")}).decode(),
                status="held",
                created_at=utcnow(),
            )
        )
    async with db.write() as conn:
        removed = await moderation.redact(conn, room_id=cast.room, target=original.seq)
    assert removed is not None and removed.frame is not None and removed.author_id == ann.id
    assert removed.frame == {
        "type": "redacted",
        "room": cast.room,
        "seq": removed.seq,
        "target": original.seq,
        "ts": removed.frame["ts"],
    }
    async with db.read() as conn:
        texts = [row.body for row in await conn.execute(select(events.c.body).where(events.c.room_id == cast.room))]
        datas = [row.data for row in await conn.execute(select(events.c.data)) if row.data]
        held = [row.data for row in await conn.execute(select(held_messages.c.data))]
        left = (await conn.execute(select(reactions))).all()
        frames, _ = await history(conn, cast.room, after=0)
    assert "something hurtful" not in str(texts + datas + held)
    assert left == []
    by_seq = {frame["seq"]: frame for frame in frames}
    tombstone = by_seq[original.seq]
    assert (tombstone["body"], tombstone["removed"], tombstone["author"]["id"]) == (None, "moderator", ann.id)
    assert by_seq[reply.seq or 0]["reply_to"]["excerpt"] is None
    assert by_seq[reply.seq or 0]["reply_to"]["seq"] == original.seq
    assert by_seq[removed.seq]["type"] == "redacted"

    async with db.write() as conn:  # again: the first removal, no second event
        again = await moderation.redact(conn, room_id=cast.room, target=original.seq)
        reacted = await react(conn, room_id=cast.room, person=ben, target=original.seq, emoji="heart", on=True)
        nothing = await moderation.redact(conn, room_id=cast.room, target=removed.seq)  # not a message
    assert again is not None and (again.seq, again.frame) == (removed.seq, None)
    assert reacted.refused == "invalid"
    assert nothing is None


async def test_mutes_locks_and_slow_mode_refuse_inside_the_group_commit(db: Database) -> None:
    cast = await create_cast(db)
    ann, ben, staff = cast.ann.person, cast.ben.person, cast.staff.person
    until = utcnow().replace(microsecond=0) + timedelta(minutes=10)
    async with db.write() as conn:
        assert await moderation.mute(conn, user_id=ann.id, room_ids=[cast.room], until=until) == [cast.room]
        assert await moderation.mute(conn, user_id=staff.id, room_ids=[cast.room], until=until) == []  # a moderator
        shorter = until - timedelta(minutes=5)
        assert await moderation.mute(conn, user_id=ann.id, room_ids=[cast.room], until=shorter, only_longer=True) == []
    muted, fine = await _post(db, _msg(cast.room, ann.id), _msg(cast.room, ben.id))
    assert (muted.refused, muted.until) == ("muted", until)
    assert muted.retry_after is not None and 590 < muted.retry_after <= 600
    assert fine.seq is not None

    async with db.write() as conn:
        assert await moderation.mute(conn, user_id=ann.id, room_ids=[cast.room], until=None) == [cast.room]
        await conn.execute(update(rooms).where(rooms.c.id == cast.room).values(locked=True))
    locked, moderator = await _post(db, _msg(cast.room, ann.id), _msg(cast.room, staff.id))
    assert locked.refused == "locked" and moderator.seq is not None
    async with db.write() as conn:
        assert (await react(conn, room_id=cast.room, person=ben, target=fine.seq, emoji="hug", on=True)).refused == (
            "locked"
        )

    async with db.write() as conn:
        await conn.execute(update(rooms).where(rooms.c.id == cast.room).values(locked=False, slow_seconds=60))
    first, second, staff_1, staff_2 = await _post(
        db, _msg(cast.room, ann.id), _msg(cast.room, ann.id), _msg(cast.room, staff.id), _msg(cast.room, staff.id)
    )
    assert first.seq is not None and staff_1.seq is not None and staff_2.seq is not None
    assert second.refused == "slow_mode" and second.retry_after is not None and 59 < second.retry_after <= 60
    [later] = await _post(db, _msg(cast.room, ann.id))
    assert later.refused == "slow_mode"
    async with db.write() as conn:  # reactions are not slowed
        assert (await react(conn, room_id=cast.room, person=ann, target=fine.seq, emoji="hug", on=True)).frame
    async with db.read() as conn:
        clocks = {
            row.user_id: row.last_posted_at
            for row in await conn.execute(select(memberships.c.user_id, memberships.c.last_posted_at))
        }
    assert clocks[ann.id] is not None
    assert clocks[ben.id] is None  # posted only before slow mode: no clock kept
    assert clocks[staff.id] is None  # moderators are never slowed
