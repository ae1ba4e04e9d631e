"""A client that stops reading, against a real server process: the room goes on without it, its
buffer is bounded, it is closed with 4008, and it resumes with ``since`` without a gap.

tests/test_ws.py has the in-process version (which looks inside the hub); here the stalled
client is a raw socket that reads nothing at all, and everything is seen from outside.
"""

from __future__ import annotations

import asyncio

import pytest

from server.connection import CLOSE_GRACE
from server.store.database import Database
from tests.faults.stalled import StalledClient
from tests.faults.traffic import stored_history
from tests.support.client import Frame, WsClient, login, room_events
from tests.support.live import ServerProcess
from tests.support.seed import create_room, create_user

pytestmark = pytest.mark.slow

OUTGOING_QUEUE = 32
BODY = 60_000  # characters: a few hundred messages are more than the kernel's buffers hold
MOST = 600
NAMES = ("ann", "kim", "zed")  # the sender, a watcher, the one who stops reading


def online(frame: Frame) -> set[str]:
    return {person["display_name"] for person in frame["online"]}


async def test_a_client_that_stops_reading_is_closed_with_4008_and_resumes_without_a_gap(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    staff = await create_user(db, "staff", "staff", "Counsellor")
    sender, watcher, sleeper = [await create_user(db, name, display_name=name.title()) for name in NAMES]
    room = await create_room(db, staff, [sender, watcher, sleeper])
    await db.dispose()
    process = ServerProcess(
        sqlite_url,
        None,
        LIMIT_OUTGOING_QUEUE=str(OUTGOING_QUEUE),
        LIMIT_MAX_BODY_CHARS=str(BODY),
        LIMIT_RATE_PER_SECOND="1000",
        LIMIT_RATE_BURST="1000",
    )
    try:
        await process.start()
        token = await login(process.url, "zed", sleeper.password)
        ann = await WsClient.open(process.ws_url, await login(process.url, "ann", sender.password))
        kim = await WsClient.open(process.ws_url, await login(process.url, "kim", watcher.password))
        start = (await kim.join(room))["last_seq"]
        await ann.join(room)
        stalled = await StalledClient.open(process.ws_url, token, room)
        await kim.until(lambda f: f["type"] == "presence" and "Zed" in online(f))

        body = "x" * (BODY - 10)
        last = start
        for n in range(MOST):
            answer = await ann.say(room, f"{n} {body}")
            assert answer["type"] == "ack", answer
            last = answer["seq"]
            # the room does not wait for zed: kim has each message before the next is sent
            await kim.wait_seq(room, last, timeout=5)
            presence = [f for f in kim.seen if f["type"] == "presence"]
            if "Zed" not in online(presence[-1]):
                sent = n + 1
                break
        else:
            pytest.fail(f"a client that read nothing was never dropped ({MOST} messages of {BODY} characters)")
        for later in range(5):  # and it goes on after
            last = (await ann.say(room, f"after {later}"))["seq"]
        await kim.wait_seq(room, last)
        assert [e["seq"] for e in room_events(kim.seen, room)] == list(range(start + 1, last + 1))

        # zed reads again, later than the server waits for a close to go out: it gets what was
        # queued for it, then the close (the server aborts such a socket only after 10 s)
        await asyncio.sleep(CLOSE_GRACE + 1)
        frames = await stalled.drain()
        got = [f["seq"] for f in frames if f.get("type") == "message"]
        assert got == list(range(start + 1, start + 1 + len(got))), "what zed got before the close has a gap"
        assert len(got) < sent, "zed got everything: it was never behind"
        assert stalled.close_code == 4008, stalled.close_code
        stalled.close()

        since = got[-1] if got else start
        zed = await WsClient.open(process.ws_url, token)
        assert (await zed.join(room, since=since))["type"] == "joined"
        await zed.wait_seq(room, last)
        resumed = room_events(zed.seen, room)
        assert resumed == await stored_history(process.url, token, room, since), "resuming: a gap or a duplicate"
        for client in (ann, kim, zed):
            await client.close()
    finally:
        process.close()
