"""The embedded broker: processes are brokers attached to one in-memory ``MemoryBus``.

In production there is one process and so one broker on its bus, and a publish reaches no
one else (local clients are served by the hub directly). Tests attach several brokers to
one bus to run the same contract suite as Redis. Delivery happens on a later loop turn,
so callers behave as they would with Redis and a handler never re-enters a publisher.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping

from server.broker.base import CONTROL_CHANNEL, Handlers


class MemoryBus:
    """Stands for a Redis server: routes payloads between the brokers attached to it."""

    def __init__(self) -> None:
        self.brokers: list[MemoryBroker] = []
        self.presence: dict[int, dict[bytes, float]] = {}


class MemoryBroker:
    def __init__(self, bus: MemoryBus | None = None) -> None:
        self._bus = bus or MemoryBus()
        self._handlers: Handlers | None = None
        self._channels: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, handlers: Handlers) -> None:
        self._handlers = handlers
        self._loop = asyncio.get_running_loop()
        self._channels.add(CONTROL_CHANNEL)
        self._bus.brokers.append(self)

    async def close(self) -> None:
        if self in self._bus.brokers:
            self._bus.brokers.remove(self)
        self._handlers = None
        self._channels.clear()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    def publish(self, channel: str, payload: bytes) -> None:
        for broker in self._bus.brokers:
            if broker is not self:
                broker._receive(channel, payload)

    def _receive(self, channel: str, payload: bytes) -> None:
        if self._loop is not None and channel in self._channels:
            self._loop.call_soon(self._deliver, channel, payload)

    def _deliver(self, channel: str, payload: bytes) -> None:
        if self._handlers is not None and channel in self._channels:
            self._handlers.on_message(channel, payload)

    async def ping(self) -> bool:
        return True

    @property
    def subscriptions(self) -> frozenset[str]:
        return frozenset(self._channels)

    @property
    def connected(self) -> bool:
        return True

    async def presence_set(self, entries: Mapping[int, Collection[bytes]], ttl: float) -> None:
        until = time.time() + ttl
        for room_id, members in entries.items():
            self._bus.presence.setdefault(room_id, {}).update(dict.fromkeys(members, until))

    async def presence_remove(self, room_id: int, member: bytes) -> None:
        entries = self._bus.presence.get(room_id)
        if entries is not None:
            entries.pop(member, None)
            if not entries:
                del self._bus.presence[room_id]

    async def presence_list(self, room_id: int) -> list[bytes]:
        now = time.time()
        entries = self._bus.presence.get(room_id, {})
        return [member for member, expires in entries.items() if expires > now]
