"""Fan-out between server processes behind one ``Broker`` interface, chosen by URL."""

from __future__ import annotations

from server.broker.base import Broker, Handlers
from server.broker.memory import MemoryBroker


def open_broker(redis_url: str | None, process_id: str) -> Broker:
    """The in-process broker when no Redis is configured, else the Redis pub/sub one."""
    if not redis_url:
        return MemoryBroker()
    from server.broker.redis import RedisBroker

    return RedisBroker(redis_url, process_id)


__all__ = ["Broker", "Handlers", "MemoryBroker", "open_broker"]
