"""Duty, hold and listen-only in the store, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial

from sqlalchemy import select

from server.rules.schedule import Schedule
from server.store import duty as duty_store
from server.store import rooms as room_store
from server.store.database import Database, utcnow
from server.store.events import NewMessage, Posted, append_messages, held_messages, history
from tests.support.seed import Account, create_room, create_user

ALL_WEEK = Schedule.model_validate(
    {
        "timezone": "Asia/Kolkata",
        "windows": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}],
    }
)


def _message(room: int, who: Account, client_id: str | None = None) -> NewMessage:
    return NewMessage(
        room_id=room,
        author_id=who.person.id,
        author_name=who.person.display_name,
        body=f"from {who.username}",
        client_id=client_id or str(uuid.uuid4()),
    )


async def _post(db: Database, *messages: NewMessage) -> list[Posted]:
    return await db.run_write(partial(append_messages, batch=list(messages)))


async def _options(db: Database, room: int, hold_mode: str | None = None, schedule: Schedule | None = None) -> None:
    async with db.write() as conn:
        await duty_store.set_options(conn, room, hold_mode=hold_mode, schedule=schedule, set_schedule=True)


async def test_one_batch_posts_holds_and_refuses_each_message_on_its_own_merits(db: Database) -> None:
    mod = await create_user(db, "mod", "staff")
    ann, rea, obs, out = [await create_user(db, name) for name in ("ann", "rea", "obs", "out")]
    held_room = await create_room(db, mod, [ann], name="Held")
    open_room = await create_room(db, mod, [ann, rea, obs], name="Open")
    until = utcnow() + timedelta(minutes=30)
    async with db.write() as conn:
        await room_store.set_member(conn, room_id=open_room, person=rea.person, role="reader")
        await duty_store.set_listen_until(conn, open_room, obs.person.id, until)
    await _options(db, held_room, hold_mode="always")
    twice = str(uuid.uuid4())
    results = await _post(
        db,
        _message(held_room, ann, twice),
        _message(held_room, ann, twice),
        _message(held_room, mod),
        _message(open_room, ann),
        _message(open_room, rea),
        _message(open_room, obs),
        _message(open_room, out),
    )
    assert [(r.held, r.refused) for r in results] == [
        (True, None),
        (True, None),
        (False, None),
        (False, None),
        (False, "read_only"),
        (False, "observing"),
        (False, "not_member"),
    ]
    assert [r.seq is not None for r in results] == [False, False, True, True, False, False, False]
    assert results[5].until is not None and abs(results[5].until - until) < timedelta(seconds=1)
    assert (await _post(db, _message(held_room, ann, twice)))[0].held  # a later retry: held again
    async with db.read() as conn:
        rows = list(await conn.execute(select(held_messages)))
        events, _ = await history(conn, held_room, after=0)
    assert [(r.room_id, r.author_id, r.client_id, r.status, r.seq) for r in rows] == [
        (held_room, ann.person.id, twice, "held", None)
    ]
    assert [e.get("body") for e in events if e["type"] == "message"] == ["from mod"]


async def test_hold_while_unmonitored_lifts_for_its_hours_and_for_a_moderator_on_duty(db: Database) -> None:
    mod = await create_user(db, "mod", "staff")
    ann = await create_user(db, "ann")
    room = await create_room(db, mod, [ann])
    await _options(db, room, hold_mode="unmonitored")
    assert (await _post(db, _message(room, ann)))[0].held
    now = utcnow()
    async with db.write() as conn:  # a member who checks in does not watch the room
        await duty_store.check_in(conn, room, ann.person.id, now, now + timedelta(hours=1))
    assert (await _post(db, _message(room, ann)))[0].held
    async with db.write() as conn:  # a lapsed check-in does not either
        await duty_store.check_in(conn, room, mod.person.id, now - timedelta(hours=2), now - timedelta(seconds=1))
    assert (await _post(db, _message(room, ann)))[0].held
    async with db.write() as conn:
        await duty_store.check_in(conn, room, mod.person.id, now, now + timedelta(hours=1))
    assert (await _post(db, _message(room, ann)))[0].seq is not None
    async with db.write() as conn:
        assert await duty_store.check_out(conn, room, mod.person.id, utcnow())
    assert (await _post(db, _message(room, ann)))[0].held
    await _options(db, room, hold_mode="unmonitored", schedule=ALL_WEEK)
    assert (await _post(db, _message(room, ann)))[0].seq is not None


async def test_checking_in_again_renews_and_every_change_moves_the_state_version(db: Database) -> None:
    mod = await create_user(db, "mod", "staff", display_name="Kim")
    room = await create_room(db, mod, [])
    now = utcnow()
    async with db.read() as conn:
        before = await duty_store.setup_of(conn, room, now)
    assert before is not None and before.duty == ()
    for hours in (1, 3):
        async with db.write() as conn:
            await duty_store.check_in(conn, room, mod.person.id, now, now + timedelta(hours=hours))
    async with db.read() as conn:
        renewed = await duty_store.setup_of(conn, room, now)
    assert renewed is not None and renewed.version == before.version + 2
    assert [(d.display_name, d.expires_at) for d in renewed.duty] == [("Kim", now + timedelta(hours=3))]
    async with db.write() as conn:
        assert await duty_store.check_out(conn, room, mod.person.id, now)
        assert not await duty_store.check_out(conn, room, mod.person.id, now)
    await _options(db, room, hold_mode="always", schedule=ALL_WEEK)
    async with db.read() as conn:
        after = await duty_store.setup_of(conn, room, now)
        info = await duty_store.room_info(conn, room)
    assert after is not None and after.duty == () and after.version == renewed.version + 3
    assert after.schedule == ALL_WEEK and after.hold_mode == "always"
    assert info is not None and info.public()["schedule"] == ALL_WEEK.model_dump(mode="json")
