"""Redis pub/sub fan-out: one subscriber connection per process, one channel per room.

Invariants: the listener never dies quietly. When Redis goes away it reconnects with
backoff and jitter, resubscribes every channel, and only then calls ``on_reconnect`` so
the hub catches every room up from the database. Publishes go through a queue drained by
one task with pipelining, in order; while Redis is down they are dropped (the database
has them). Payloads carry the publishing process's id so a process drops its own echo.
Both tasks end on ``close``'s flag, not only on its cancel: on Python 3.11 redis-py sends
through ``asyncio.wait_for``, which drops a cancel that lands as the send completes
(CPython gh-86296), and a loop that relied on it went on forever (the soak's stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Collection, Mapping

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.broker.base import CONTROL_CHANNEL, Handlers

log = logging.getLogger("alongside.broker")

PING_EVERY = 5.0
DEAD_AFTER = 15.0
CONFIRM_TIMEOUT = 2.0
MAX_QUEUE = 100_000
POOL_SIZE = 32


class RedisBroker:
    def __init__(self, url: str, process_id: str) -> None:
        self._url = url
        self._origin = process_id.encode()
        # a blocking pool: a burst of presence updates waits for a connection instead of failing
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=5, socket_timeout=5, socket_connect_timeout=2
        )
        self._client = aioredis.Redis(connection_pool=pool)
        self._channels: set[str] = {CONTROL_CHANNEL}
        self._confirm: dict[str, asyncio.Future[None]] = {}
        self._pubsub: aioredis.client.PubSub | None = None
        self._handlers: Handlers | None = None
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = False
        self._ready = asyncio.Event()
        self._catch_up: asyncio.Task[None] | None = None
        self._closing = False
        self.reconnects = 0
        self.dropped = 0  # publishes never sent (Redis down or far behind); read by /metrics

    @property
    def subscriptions(self) -> frozenset[str]:
        return frozenset(self._channels)

    @property
    def connected(self) -> bool:
        return self._connected

    async def start(self, handlers: Handlers) -> None:
        self._handlers = handlers
        self._tasks = [
            asyncio.create_task(self._listen(), name="broker-listen"),
            asyncio.create_task(self._publisher(), name="broker-publish"),
        ]
        with contextlib.suppress(TimeoutError):  # Redis may be down at start; we go on and keep trying
            await asyncio.wait_for(self._ready.wait(), CONFIRM_TIMEOUT)

    async def close(self) -> None:
        self._closing = True
        await self._flush()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pubsub is not None:
            await self._safe_close(self._pubsub)
        await self._client.aclose(close_connection_pool=True)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        pubsub = self._pubsub
        if pubsub is None or not self._connected:
            return  # subscribed on reconnect, followed by a catch-up from the database
        future = self._confirm.setdefault(channel, asyncio.get_running_loop().create_future())
        try:
            await pubsub.subscribe(channel)
            await asyncio.wait_for(asyncio.shield(future), CONFIRM_TIMEOUT)
        except (RedisError, OSError, TimeoutError):
            log.warning("subscribe to %s not confirmed; the listener will resubscribe", channel)
        finally:
            self._confirm.pop(channel, None)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None and self._connected:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(channel)

    def publish(self, channel: str, payload: bytes) -> None:
        if len(self._outbox) >= MAX_QUEUE:
            self._outbox.popleft()  # Redis is far behind; the database has every event
            self.dropped += 1
        self._outbox.append((channel, self._origin + b"\n" + payload))
        self._wake.set()

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._client.ping(), 2.0))
        except (RedisError, OSError, TimeoutError):
            return False

    # presence: a sorted set per room, member -> expiry time; dead processes' entries lapse

    async def presence_set(self, entries: Mapping[int, Collection[bytes]], ttl: float) -> None:
        if not self._connected or not entries:
            return  # refreshed by the next heartbeat once Redis is back
        until = time.time() + ttl
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for room_id, members in entries.items():
                    key = f"alongside:presence:{room_id}"
                    pipe.zadd(key, dict.fromkeys(members, until))
                    pipe.expire(key, int(ttl * 2) + 1)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("presence update failed (%s)", type(exc).__name__)

    async def presence_remove(self, room_id: int, member: bytes) -> None:
        if not self._connected:
            return  # the entry lapses by itself
        try:
            await self._client.zrem(f"alongside:presence:{room_id}", member)
        except (RedisError, OSError) as exc:
            log.warning("presence removal failed (%s)", type(exc).__name__)

    async def presence_list(self, room_id: int) -> list[bytes]:
        if not self._connected:
            return []
        try:
            found = await self._client.zrangebyscore(f"alongside:presence:{room_id}", time.time(), "+inf")
        except (RedisError, OSError):
            return []
        return [item for item in found if isinstance(item, bytes)]

    # the two tasks

    async def _listen(self) -> None:
        backoff = 0.1
        first = True
        while not self._closing:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(*sorted(self._channels))
                self._pubsub = pubsub
                await self._read(pubsub, first)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ConnectionError, TimeoutError) as exc:
                if self._connected:
                    log.warning("lost Redis (%s); reconnecting", type(exc).__name__)
            except Exception:
                log.exception("broker listener failed; restarting it")
            finally:
                self._connected = False
                self._pubsub = None
                await self._safe_close(pubsub)
            if self._closing:
                return
            first = False
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 5.0)
        return

    async def _read(self, pubsub: aioredis.client.PubSub, first: bool) -> None:
        pending = set(self._channels)
        confirmed: set[str] = set()
        caught_up = False
        last_seen = time.monotonic()
        next_ping = last_seen + PING_EVERY
        while not self._closing:
            message = await pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if message is not None:
                last_seen = now
                kind = message["type"]
                channel = message["channel"].decode() if isinstance(message.get("channel"), bytes) else ""
                if kind == "subscribe":
                    pending.discard(channel)
                    confirmed.add(channel)
                    future = self._confirm.get(channel)
                    if future is not None and not future.done():
                        future.set_result(None)
                elif kind == "message":
                    self._dispatch(channel, message["data"])
            if not caught_up and not pending:
                missing = self._channels - confirmed
                if missing:  # joined while we were reconnecting
                    pending |= missing
                    await pubsub.subscribe(*sorted(missing))
                    continue
                caught_up = True
                self._connected = True
                self._ready.set()
                if not first:
                    self.reconnects += 1
                    log.info("Redis is back; catching rooms up from the database")
                if self._handlers is not None:
                    self._catch_up = asyncio.create_task(self._handlers.on_reconnect(), name="broker-catch-up")
            if now >= next_ping:
                await pubsub.ping()
                next_ping = now + PING_EVERY
            if now - last_seen > DEAD_AFTER:
                raise ConnectionError("no answer from Redis")

    def _dispatch(self, channel: str, data: object) -> None:
        if not isinstance(data, bytes) or self._handlers is None:
            return
        origin, sep, payload = data.partition(b"\n")
        if not sep or origin == self._origin:
            return
        try:
            self._handlers.on_message(channel, payload)
        except Exception:
            log.exception("handling a broker message failed")

    async def _publisher(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        while self._outbox:
            batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), 500))]
            if not await self._publish_batch(batch):
                self.dropped += len(batch) + len(self._outbox)
                self._outbox.clear()
                return

    async def _publish_batch(self, batch: list[tuple[str, bytes]]) -> bool:
        """Pipeline one batch; retried once, since a pooled connection may be stale after a restart."""
        for attempt in (1, 2):
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for channel, payload in batch:
                        pipe.publish(channel, payload)
                    await pipe.execute()
                return True
            except (RedisError, OSError) as exc:
                if attempt == 2:
                    log.warning(
                        "dropped %d publishes (%s); clients catch up from the database", len(batch), type(exc).__name__
                    )
        return False

    @staticmethod
    async def _safe_close(pubsub: aioredis.client.PubSub) -> None:
        with contextlib.suppress(Exception):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
