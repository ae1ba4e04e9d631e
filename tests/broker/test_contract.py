"""One contract, two brokers: the in-memory one (the embedded default) and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from server.broker import Broker, Handlers
from server.broker.base import room_channel
from server.broker.memory import MemoryBroker, MemoryBus
from server.broker.redis import RedisBroker
from tests.support.redis_server import RedisServer
from tests.support.timing import units


@dataclass
class Recorder:
    got: list[tuple[str, bytes]] = field(default_factory=list)
    reconnects: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def handlers(self) -> Handlers:
        def on_message(channel: str, payload: bytes) -> None:
            self.got.append((channel, payload))
            self.arrived.set()

        async def on_reconnect() -> None:
            self.reconnects += 1

        return Handlers(on_message=on_message, on_reconnect=on_reconnect)

    async def wait_for(self, count: int) -> None:
        deadline = asyncio.get_running_loop().time() + units(5)
        while len(self.got) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), max(0.01, deadline - asyncio.get_running_loop().time()))


Pair = tuple[Broker, Recorder, Broker, Recorder]


@pytest.fixture(params=["memory", "redis"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    if request.param == "memory":
        bus = MemoryBus()
        a: Broker = MemoryBroker(bus)
        b: Broker = MemoryBroker(bus)
    else:
        redis: RedisServer = request.getfixturevalue("redis_server")
        a, b = RedisBroker(redis.url, "proc-a"), RedisBroker(redis.url, "proc-b")
    ra, rb = Recorder(), Recorder()
    await a.start(ra.handlers())
    await b.start(rb.handlers())
    yield a, ra, b, rb
    await a.close()
    await b.close()


async def test_a_publish_reaches_the_other_process_in_order_but_not_its_own(pair: Pair) -> None:
    a, ra, b, rb = pair
    channel = room_channel(7)
    await a.subscribe(channel)
    await b.subscribe(channel)
    for n in range(50):
        a.publish(channel, f"m{n}".encode())
    await rb.wait_for(50)
    assert [payload for _, payload in rb.got] == [f"m{n}".encode() for n in range(50)]
    assert all(name == channel for name, _ in rb.got)
    await asyncio.sleep(0.1)
    assert ra.got == []


async def test_only_subscribed_channels_are_delivered(pair: Pair) -> None:
    a, _, b, rb = pair
    await b.subscribe(room_channel(1))
    a.publish(room_channel(2), b"not for b")
    a.publish(room_channel(1), b"for b")
    await rb.wait_for(1)
    await b.unsubscribe(room_channel(1))
    await asyncio.sleep(0.1)
    a.publish(room_channel(1), b"after unsubscribe")
    await asyncio.sleep(0.2)
    assert [payload for _, payload in rb.got] == [b"for b"]


async def test_presence_is_shared_and_expires(pair: Pair) -> None:
    a, _, b, _ = pair
    await a.presence_set({3: [b"ann@a"]}, ttl=0.5)
    await b.presence_set({3: [b"ben@b"], 4: [b"ben@b", b"cat@b"]}, ttl=30)
    assert sorted(await b.presence_list(3)) == [b"ann@a", b"ben@b"]
    await asyncio.sleep(0.7)
    assert await a.presence_list(3) == [b"ben@b"]
    await b.presence_remove(3, b"ben@b")
    assert await a.presence_list(3) == []
    assert sorted(await a.presence_list(4)) == [b"ben@b", b"cat@b"]  # one call, several rooms


async def test_both_answer_ping(pair: Pair) -> None:
    a, _, b, _ = pair
    assert await a.ping() and await b.ping()


async def _eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + units(timeout)
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_redis_broker_reconnects_resubscribes_and_reports_it(redis_server: RedisServer) -> None:
    a, b = RedisBroker(redis_server.url, "proc-a"), RedisBroker(redis_server.url, "proc-b")
    ra, rb = Recorder(), Recorder()
    await a.start(ra.handlers())
    await b.start(rb.handlers())
    try:
        await b.subscribe(room_channel(5))
        redis_server.stop()
        await _eventually(lambda: not b.connected)
        assert not await a.ping()
        a.publish(room_channel(5), b"maybe lost while down")  # may be dropped; never raises
        await b.subscribe(room_channel(6))  # subscribed while down: must be resubscribed too
        redis_server.start()
        await _eventually(lambda: b.connected and rb.reconnects >= 2)
        await _eventually(lambda: a.connected)
        a.publish(room_channel(5), b"five")
        a.publish(room_channel(6), b"six")
        await _eventually(lambda: {b"five", b"six"} <= {payload for _, payload in rb.got})
        assert [p for _, p in rb.got if p != b"maybe lost while down"] == [b"five", b"six"]
        assert b.reconnects >= 1
    finally:
        await a.close()
        await b.close()


async def test_broker_bytes_from_another_process_are_validated(redis_server: RedisServer) -> None:
    """A payload without the origin envelope is dropped, not crashed on."""
    import redis.asyncio as aioredis

    b = RedisBroker(redis_server.url, "proc-b")
    rb = Recorder()
    await b.start(rb.handlers())
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        await b.subscribe(room_channel(9))
        await raw.publish(room_channel(9), b"no envelope at all")
        await raw.publish(room_channel(9), b"other\n" + b"ok")
        await rb.wait_for(1)
        assert rb.got == [(room_channel(9), b"ok")]
    finally:
        await raw.aclose()
        await b.close()
