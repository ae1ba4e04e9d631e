"""SIGTERM to one of two server processes under traffic: it stops accepting, closes every
socket with 1012, finishes what it was storing, and nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import signal
import uuid

import pytest

from server.store.database import Database
from tests.faults.stalled import StalledClient
from tests.faults.traffic import Participant, check_exactly_once, eventually, stored_history
from tests.support.client import WsClient, login
from tests.support.cluster import running
from tests.support.live import ServerProcess
from tests.support.redis_server import RedisServer
from tests.support.seed import create_cast, create_room, create_user
from tests.support.timing import units

pytestmark = [pytest.mark.slow, pytest.mark.redis]


async def test_sigterm_closes_with_1012_and_loses_nothing_acknowledged(
    shared_db_url: str, redis_server: RedisServer
) -> None:
    db = Database(shared_db_url)
    staff = await create_user(db, "staff", "staff", "Counsellor")
    people = [await create_user(db, f"peer{i}", display_name=f"Peer {i}") for i in range(5)]
    room = await create_room(db, staff, people)
    await db.dispose()
    async with running(shared_db_url, redis_server.url, 2, LIMIT_RATE_PER_SECOND="1000", LIMIT_RATE_BURST="1000") as ps:
        tokens = [await login(ps[0].url, p.username, p.password) for p in people]
        start = (await stored_history(ps[0].url, tokens[0], room, 0))[-1]["seq"]
        # peer0..peer3 send one message after another, half of them on the process that stops;
        # peer4 sends there without waiting for answers when the signal comes
        participants = [Participant(p, tokens[i], room, start, ps, i % 2) for i, p in enumerate(people)]
        pipelining = participants[4]
        stop = asyncio.Event()
        traffic = [asyncio.create_task(p.run(stop)) for p in participants[:4]]
        await pipelining.connect()
        await eventually(lambda: all(len(p.acked) >= 3 for p in participants[:4]), "traffic", watch=traffic)

        streaming = asyncio.create_task(pipelining.stream())  # sends in flight when the signal comes
        await asyncio.sleep(units(0.3))
        leaving = ps[0].process
        assert leaving is not None
        leaving.send_signal(signal.SIGTERM)
        sent = await streaming
        acked_there = await pipelining.settle(sent)
        assert pipelining.close_codes[:1] == [1012], pipelining.close_codes
        with pytest.raises(OSError):  # it has stopped accepting (or is gone)
            await WsClient.open(ps[0].ws_url, tokens[0])
        await asyncio.wait_for(asyncio.to_thread(leaving.wait), units(15))

        await eventually(lambda: all(len(p.acked) >= 10 for p in participants[:4]), "traffic after", watch=traffic)
        stop.set()
        await asyncio.gather(*traffic)
        history = await stored_history(ps[1].url, tokens[1], room, start)
        for p in participants:
            await p.catch_up(history[-1]["seq"])
        stored = {e["client_id"]: e["seq"] for e in history if e["type"] == "message"}
        assert all(client_id in stored for client_id in acked_there), "acknowledged, then lost in the shutdown"
        check_exactly_once(history, start, participants)
        for p in participants[:4]:
            assert p.close_codes == ([1012] if p.home == 0 else []), (p.label, p.close_codes)
        for p in participants:
            await p.close()


async def test_a_client_that_stopped_reading_cannot_hold_a_shutdown(sqlite_url: str) -> None:
    """A socket whose peer reads nothing never flushes; the process must still go, and soon."""
    db = Database(sqlite_url)
    cast = await create_cast(db)
    await db.dispose()
    process = ServerProcess(sqlite_url, None, LIMIT_RATE_PER_SECOND="100000", LIMIT_RATE_BURST="100000")
    try:
        await process.start()
        ben = await login(process.url, "ben", cast.ben.password)
        stalled = await StalledClient.open(process.ws_url, ben, cast.room)
        ann = await WsClient.open(process.ws_url, await login(process.url, "ann", cast.ann.password))
        await ann.join(cast.room)
        body = "x" * 3900
        for chunk in range(1, 7):  # megabytes for ben, more than the kernel's buffers hold
            for _ in range(200):
                await ann.send({"type": "send", "room": cast.room, "body": body, "client_id": str(uuid.uuid4())})
            last = 3 + 200 * chunk
            await ann.until(lambda f, last=last: f["type"] == "ack" and f["seq"] >= last)
        leaving = process.process
        assert leaving is not None
        leaving.send_signal(signal.SIGTERM)
        await ann.ended()
        assert ann.ws.close_code == 1012
        alive = leaving.poll() is None
        with pytest.raises(OSError):
            await WsClient.open(process.ws_url, None)
        await asyncio.wait_for(asyncio.to_thread(leaving.wait), units(15))
        assert alive, "the process did not wait for the stalled socket at all: this test proves nothing"
        stalled.close()
    finally:
        process.close()
