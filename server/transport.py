"""The WebSocket transport: uvicorn's websockets-sansio protocol, leaner per socket.

Chosen by measurement (bench/README.md, W3): uvicorn's sansio implementation holds less per
connection than its legacy `websockets` one. Idle sockets are most of a process's memory,
so this subclass trims what uvicorn keeps for the whole life of every socket:
- the handshake request and response, headers and all, are let go once answered;
- the receive queue is a list and one future instead of an ``asyncio.Queue`` (three deques
  and an Event), offering just what uvicorn uses of it: ``put_nowait``, ``get``, ``empty``;
- the "transport is writable" flag is a future instead of an ``asyncio.Event`` (a deque).
Run uvicorn with ``--ws server.transport:LeanWebSocketProtocol`` (the Procfile does).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

WS_PROTOCOL = "server.transport:LeanWebSocketProtocol"


class Inbox:
    """A minimal unbounded FIFO for one reader (the ASGI app's ``receive``)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class Gate:
    """What uvicorn uses of ``asyncio.Event`` for flow control: ``set``, ``clear``, ``wait``."""

    __slots__ = ("_open", "_waiter")

    def __init__(self) -> None:
        self._open = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._open = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    def is_set(self) -> bool:
        return self._open

    async def wait(self) -> bool:
        while not self._open:
            if self._waiter is None or self._waiter.done():
                self._waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._waiter)
        return True


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Gate()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]
