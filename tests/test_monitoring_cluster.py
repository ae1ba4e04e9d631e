"""Room state, hold and observe-only across server processes sharing one database and a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from server.store.database import Database
from tests.support.client import WsClient
from tests.support.cluster import ProgramCluster, running
from tests.support.lifecycle_cast import create_program_cast, enroll
from tests.support.redis_server import RedisServer
from tests.support.timing import units

pytestmark = pytest.mark.slow

DUTY_SECONDS = 3.0


@dataclass
class Pair(ProgramCluster):
    redis: RedisServer


@pytest.fixture
async def pair(shared_db_url: str, redis_server: RedisServer) -> AsyncIterator[Pair]:
    db = Database(shared_db_url)
    cast = await create_program_cast(db)
    peer = await enroll(db, "ria", cast.program, cast.cohort)
    await db.dispose()
    hours = str(units(DUTY_SECONDS) / 3600)
    async with running(shared_db_url, redis_server.url, DUTY_HOURS=hours) as processes:
        yield Pair(processes, cast, peer, redis_server)


async def _state(client: WsClient, room: int, timeout: float = 10.0, **expected: Any) -> dict[str, Any]:
    frames = await client.until(
        lambda f: (
            f.get("type") == "room_state" and f.get("room") == room and all(f.get(k) == v for k, v in expected.items())
        ),
        timeout,
    )
    return frames[-1]


async def test_a_check_in_on_one_process_is_seen_live_on_the_other_and_lapses_there(pair: Pair) -> None:
    pat = await pair.client(1, pair.cast.participant)
    await pat.join(pair.room)
    await _state(pat, pair.room, monitored=None)
    await pair.call(0, pair.cast.staff_here, "POST", f"/api/rooms/{pair.room}/duty")
    watched = await _state(pat, pair.room, timeout=units(DUTY_SECONDS) * 0.8, monitored=True)
    assert watched["on_duty"] == ["Kim"]
    await _state(pat, pair.room, monitored=None, on_duty=[])  # process 1's own clock ends it
    await pair.call(0, pair.cast.staff_here, "PATCH", f"/api/rooms/{pair.room}", {"hold_mode": "unmonitored"})
    unwatched = await _state(pat, pair.room, monitored=False, hold=True)
    assert unwatched["resources"]
    await pat.close()


async def test_a_change_announced_while_redis_is_down_still_arrives(pair: Pair) -> None:
    pat = await pair.client(1, pair.cast.participant)
    await pat.join(pair.room)
    await _state(pat, pair.room, monitored=None)
    pair.redis.stop()
    try:
        schedule = {"timezone": "Pacific/Auckland", "windows": []}  # hours declared, none of them now
        await pair.call(0, pair.cast.staff_here, "PATCH", f"/api/rooms/{pair.room}", {"schedule": schedule})
        # the control message is lost; process 1 notices the state_version on its periodic pass
        await _state(pat, pair.room, monitored=False)
    finally:
        pair.redis.start()
    await pat.close()


async def test_hold_and_observing_across_processes(pair: Pair) -> None:
    await pair.call(0, pair.cast.staff_here, "PATCH", f"/api/rooms/{pair.room}", {"hold_mode": "always"})
    ria = await pair.client(1, pair.peer)
    start = (await ria.join(pair.room))["last_seq"]
    pat_here, pat_there = await pair.client(0, pair.cast.participant), await pair.client(1, pair.cast.participant)
    await pat_there.join(pair.room)
    client_id = str(uuid.uuid4())
    assert (await pat_here.say(pair.room, "held back", client_id=client_id))["type"] == "held"
    kim = await pair.client(0, pair.cast.staff_here)
    ack = await kim.say(pair.room, "after the held one")
    assert ack["seq"] == start + 1
    await ria.wait_seq(pair.room, ack["seq"])
    assert [m["body"] for m in ria.messages(pair.room)] == ["after the held one"]
    assert not [f for f in pat_there.seen if f.get("client_id") == client_id]  # not even the author's other client

    observing = await pair.call(0, pair.cast.participant, "POST", f"/api/rooms/{pair.room}/observe", {"minutes": 15})
    frames = await pat_there.until(lambda f: f.get("type") == "observing")
    assert frames[-1] == {"type": "observing", "room": pair.room, "until": observing["observing_until"]}
    refused = await pat_there.say(pair.room, "from the other process")
    assert refused["code"] == "observing"
    for client in (ria, pat_here, pat_there, kim):
        await client.close()
