"""A stop must end even when a cancel is lost inside a Redis send (issue 7: SIGTERM ended in SIGKILL).

redis-py sends through ``asyncio.wait_for(..., socket_timeout)``. On Python 3.11 a cancel
that reaches ``wait_for`` as the send completes is dropped and the send returns normally
(CPython gh-86296). The broker's publisher and listener and the hub's background pass
ended only on their cancel, so one that lost it went on forever and held the stop
(bench/soak.py: the hub's stop timed out with the publisher back at its wait).
``LossySends`` makes that race certain: a send made by a named task waits until the task
is cancelled, then completes anyway and returns, which is what 3.11's ``wait_for`` does
when the cancel and the send's completion coincide.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest
from redis.asyncio.connection import Connection

import server.broker.redis as redis_broker
from server.broker import Handlers
from server.broker.base import room_channel
from server.broker.redis import RedisBroker
from server.store.database import Database
from tests.support.client import signed_in_socket
from tests.support.live import live_server, settings_for
from tests.support.redis_server import RedisServer
from tests.support.seed import create_cast
from tests.support.timing import units

pytestmark = pytest.mark.redis


@dataclass
class LossySends:
    """The next Redis send of each task named in ``held`` waits for a cancel, drops it, and completes."""

    held: set[str] = field(default_factory=set)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0


@pytest.fixture
def lossy_sends(monkeypatch: pytest.MonkeyPatch) -> LossySends:
    lossy = LossySends()
    send = Connection.send_packed_command

    async def send_losing_the_cancel(self: Connection, command: Iterable[bytes], check_health: bool = True) -> None:
        task = asyncio.current_task()
        if task is not None and task.get_name() in lossy.held:
            lossy.held.discard(task.get_name())
            lossy.entered.set()
            try:
                await asyncio.Event().wait()  # until the stop cancels this task
            except asyncio.CancelledError:
                lossy.dropped += 1  # not raised: the send completes and returns, as on 3.11
        await send(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", send_losing_the_cancel)
    return lossy


def no_handlers() -> Handlers:
    async def on_reconnect() -> None:
        return None

    return Handlers(on_message=lambda channel, payload: None, on_reconnect=on_reconnect)


@pytest.mark.parametrize("task", ["broker-publish", "broker-listen"])
async def test_the_broker_closes_even_if_a_send_loses_its_cancel(
    redis_server: RedisServer, lossy_sends: LossySends, monkeypatch: pytest.MonkeyPatch, task: str
) -> None:
    monkeypatch.setattr(redis_broker, "PING_EVERY", 0.05)  # the listener's sends: a ping soon after start
    broker = RedisBroker(redis_server.url, "proc-a")
    await broker.start(no_handlers())
    lossy_sends.held.add(task)
    broker.publish(room_channel(1), b"in flight as the stop begins")  # the publisher's send
    await asyncio.wait_for(lossy_sends.entered.wait(), units(10))
    await asyncio.wait_for(broker.close(), units(10))  # before the fix: the task went on and close waited forever
    assert lossy_sends.dropped == 1


async def test_the_hub_stops_by_itself_if_its_background_pass_loses_its_cancel(
    sqlite_url: str, redis_server: RedisServer, lossy_sends: LossySends, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(sqlite_url)
    cast = await create_cast(db)
    await db.dispose()
    caplog.set_level(logging.WARNING, logger="alongside.app")
    async with live_server(settings_for(sqlite_url, redis_url=redis_server.url)) as live:
        ann = await signed_in_socket(live, cast.ann)
        await ann.join(cast.room)  # her presence entry is refreshed by every background pass
        lossy_sends.held.add("hub-background")
        await asyncio.wait_for(lossy_sends.entered.wait(), units(10))
    # before the fix: the pass went on, and the lifespan gave up on the hub after STOP_STEP_TIMEOUT
    assert lossy_sends.dropped == 1
    assert not [r for r in caplog.records if r.name == "alongside.app" and "did not finish" in r.getMessage()]
