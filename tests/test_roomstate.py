"""The clock moves a followed room's state on the periodic pass: at schedule boundaries (checked
once per minute) and when a check-in lapses (at once). Driven with chosen instants, since
waiting for a real schedule boundary would take up to a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from server.broker import MemoryBroker
from server.roomstate import RoomStates
from server.rules.schedule import Schedule
from server.store import duty as duty_store
from server.store.database import Database, utcnow
from tests.support.seed import create_room, create_user

CHICAGO_MONDAYS = Schedule.model_validate(
    {"timezone": "America/Chicago", "windows": [{"days": ["mon"], "start": "09:00", "end": "17:00"}]}
)


def _tracker(db: Database, fanned: list[dict[str, Any]]) -> RoomStates:
    return RoomStates(
        db,
        MemoryBroker(),
        (),
        lambda room, text: fanned.append(orjson.loads(text)),
        lambda room: True,
        lambda coro: coro.close(),
    )


async def test_a_schedule_boundary_flips_the_state_on_the_first_pass_of_a_new_minute(sqlite_db: Database) -> None:
    mod = await create_user(sqlite_db, "mod", "staff")
    room = await create_room(sqlite_db, mod, [])
    async with sqlite_db.write() as conn:
        await duty_store.set_options(conn, room, hold_mode=None, schedule=CHICAGO_MONDAYS, set_schedule=True)
    fanned: list[dict[str, Any]] = []
    states = _tracker(sqlite_db, fanned)
    await states.load(room)
    monday = datetime(2027, 3, 1, tzinfo=UTC)  # CST, UTC-6
    states.tick(monday + timedelta(hours=14, minutes=58))  # 08:58, whatever the real clock said at load
    fanned.clear()
    states.tick(monday + timedelta(hours=14, minutes=59))  # 08:59
    states.tick(monday + timedelta(hours=15))  # 09:00
    states.tick(monday + timedelta(hours=22, minutes=59, seconds=59))  # 16:59:59
    states.tick(monday + timedelta(hours=23, seconds=1))  # 17:00:01
    assert [f["monitored"] for f in fanned] == [True, False]


async def test_a_lapsing_check_in_ends_at_once_within_the_minute(sqlite_db: Database) -> None:
    mod = await create_user(sqlite_db, "mod", "staff", display_name="Kim")
    room = await create_room(sqlite_db, mod, [])
    lapse = (utcnow() + timedelta(hours=1)).replace(second=30, microsecond=0)
    async with sqlite_db.write() as conn:
        await duty_store.check_in(conn, room, mod.person.id, utcnow(), lapse)
    fanned: list[dict[str, Any]] = []
    states = _tracker(sqlite_db, fanned)
    await states.load(room)
    assert [(f["monitored"], f["on_duty"]) for f in fanned] == [(True, ["Kim"])]
    states.tick(lapse - timedelta(seconds=1))
    states.tick(lapse + timedelta(seconds=1))  # the same minute: only the lapse makes it look
    assert [(f["monitored"], f["on_duty"]) for f in fanned] == [(True, ["Kim"]), (None, [])]
    states.tick(lapse + timedelta(minutes=5))
    assert len(fanned) == 2  # nothing left for the clock to change
