"""The broker seam: publish bytes to a channel, receive what others publish.

Invariant: the broker is the fast path, never the record. A publish may be lost (Redis
down, a dropped connection); the hub recovers from the database, so ``publish`` never
blocks its caller and never raises. Bytes received from a broker are input like any
client frame and are validated before use.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

CONTROL_CHANNEL = "alongside:ctl"


def room_channel(room_id: int) -> str:
    return f"alongside:room:{room_id}"


def room_of(channel: str) -> int | None:
    prefix = "alongside:room:"
    if channel.startswith(prefix) and channel[len(prefix) :].isdigit():
        return int(channel[len(prefix) :])
    return None


@dataclass(frozen=True)
class Handlers:
    """What the broker calls: a message arrived; the connection came back after a loss."""

    on_message: Callable[[str, bytes], None]
    on_reconnect: Callable[[], Coroutine[Any, Any, None]]


class Broker(Protocol):
    """Pub/sub between processes, plus the shared presence table."""

    async def start(self, handlers: Handlers) -> None:
        """Begin delivering; always subscribed to the control channel."""

    async def close(self) -> None: ...

    async def subscribe(self, channel: str) -> None:
        """Returns once messages on ``channel`` will be delivered (or the broker is down)."""

    async def unsubscribe(self, channel: str) -> None: ...

    def publish(self, channel: str, payload: bytes) -> None:
        """Queue for delivery to every *other* process subscribed to ``channel``; never blocks.

        The publishing process serves its own clients directly, so its echo is dropped.
        """

    async def ping(self) -> bool:
        """Readiness: is the broker reachable now?"""

    async def presence_set(self, entries: Mapping[int, Collection[bytes]], ttl: float) -> None:
        """Mark each member (an opaque entry) present in its room until ``ttl`` seconds from now.

        Many at once: the heartbeat refreshes every entry of the process in one call (with Redis,
        one round trip), where one call per entry held the event loop for its whole pass.
        """

    async def presence_remove(self, room_id: int, member: bytes) -> None: ...

    async def presence_list(self, room_id: int) -> list[bytes]:
        """The unexpired entries of the room, from every process."""

    @property
    def connected(self) -> bool: ...

    @property
    def subscriptions(self) -> frozenset[str]:
        """The channels this process follows now (the control channel included)."""
