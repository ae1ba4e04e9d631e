"""`kill -9` of one of three server processes under traffic: its clients go to the others and
resume; nothing acknowledged is lost or doubled; its presence entries lapse."""

from __future__ import annotations

import asyncio
import signal
import time

import orjson
import pytest
from redis.asyncio import Redis

from server.store.database import Database
from tests.faults.traffic import Participant, check_exactly_once, eventually, stored_history
from tests.support.client import login
from tests.support.cluster import running
from tests.support.redis_server import RedisServer
from tests.support.seed import create_room, create_user
from tests.support.timing import units

pytestmark = [pytest.mark.slow, pytest.mark.redis]


async def presence_entries(redis: Redis, room: int) -> list[dict[str, object]]:
    """The room's presence entries that have not lapsed: {"p": process, "id": person, "n": name}."""
    found = await redis.zrangebyscore(f"alongside:presence:{room}", time.time(), "+inf")
    return [orjson.loads(entry) for entry in found]


async def test_a_killed_process_loses_nothing_acknowledged_and_its_presence_lapses(
    shared_db_url: str, redis_server: RedisServer
) -> None:
    db = Database(shared_db_url)
    staff = await create_user(db, "staff", "staff", "Counsellor")
    people = [await create_user(db, f"peer{i}", display_name=f"Peer {i}") for i in range(6)]
    room = await create_room(db, staff, people)
    await db.dispose()
    redis = Redis.from_url(redis_server.url)
    try:  # the client is closed however the test ends (an unclosed one fails a later test)
        async with running(
            shared_db_url, redis_server.url, 3, LIMIT_RATE_PER_SECOND="1000", LIMIT_RATE_BURST="1000"
        ) as ps:
            tokens = [await login(ps[0].url, p.username, p.password) for p in people]
            start = (await stored_history(ps[0].url, tokens[0], room, 0))[-1]["seq"]
            participants = [Participant(p, tokens[i], room, start, ps, i % 3) for i, p in enumerate(people)]
            doomed = [p for p in participants if p.home == 2]
            stop = asyncio.Event()
            traffic = [asyncio.create_task(p.run(stop, pause=0.005)) for p in participants]
            await eventually(lambda: all(len(p.acked) >= 5 for p in participants), "traffic", watch=traffic)
            entries = await presence_entries(redis, room)
            assert {e["id"] for e in entries} == {p.who.person.id for p in participants}
            (dead_id,) = {e["p"] for e in entries if e["id"] in {p.who.person.id for p in doomed}}

            ps[2].stop(signal.SIGKILL)  # mid-traffic: some sends there are in flight
            acked_at_kill = {p: len(p.acked) for p in participants}
            await eventually(
                lambda: all(len(p.acked) >= acked_at_kill[p] + 10 for p in participants), "traffic after", watch=traffic
            )
            stop.set()
            await asyncio.gather(*traffic)

            history = await stored_history(ps[0].url, tokens[0], room, start)
            for p in participants:
                await p.catch_up(history[-1]["seq"])
            check_exactly_once(history, start, participants)
            for p in participants:
                assert p.close_codes == ([1006] if p in doomed else []), (p.label, p.close_codes)

            async def dead_entries() -> list[dict[str, object]]:
                return [e for e in await presence_entries(redis, room) if e["p"] == dead_id]

            deadline = asyncio.get_running_loop().time() + units(3 + 5)  # PRESENCE_TTL is 3 s in tests
            while await dead_entries():
                assert asyncio.get_running_loop().time() < deadline, "the killed process's presence did not lapse"
                await asyncio.sleep(0.1)
            entries = await presence_entries(redis, room)
            assert sorted(e["id"] for e in entries) == sorted(p.who.person.id for p in participants), entries
            for p in participants:
                await p.close()
    finally:
        await redis.aclose()
