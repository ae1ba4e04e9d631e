"""The WebSocket transport: uvicorn's websockets-sansio protocol, leaner per socket.

Chosen by measurement (bench/README.md, W3): uvicorn's sansio implementation holds less per
connection than its legacy `websockets` one. Idle sockets are most of a process's memory,
so this subclass trims what uvicorn keeps for the whole life of every socket:
- the handshake request and response, headers and all, are let go once answered;
- the receive queue is a list and one future instead of an ``asyncio.Queue`` (three deques
  and an Event), offering just what uvicorn uses of it: ``put_nowait``, ``get``, ``empty``;
- the "transport is writable" flag is a future instead of an ``asyncio.Event`` (a deque);
- once the socket is gone, websockets' parser is closed and a refused frame's exception let go:
  both hold the protocol in a cycle, which the frozen heap (server.heap) would keep.

It also offers one extension, ``alongside.send_many`` (announced in the scope's
``extensions``): several text frames framed at once and written with one system call.
Fan-out under load is mostly socket writes, and a connection's writer usually finds
several frames waiting; without the extension the app sends frame by frame.
Run uvicorn with ``--ws server.transport:LeanWebSocketProtocol`` (the Procfile does).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.http11 import Request

from server.admission import HTTP_PROTOCOL
from server.settings import Limits

WS_PROTOCOL = "server.transport:LeanWebSocketProtocol"
# our protocol classes, as uvicorn flags (the benchmark's peers run uvicorn's own)
OUR_PROTOCOLS = ("--ws", WS_PROTOCOL, "--http", HTTP_PROTOCOL)
# the uvicorn flags every process of ours runs with besides OUR_PROTOCOLS (the Procfile spells them out
# too); the benchmark's peers get them as well, so a difference is never a setting
SHUTDOWN_GRACE = 2.0  # seconds a socket has to take in its close frame once the server stops
# seconds uvicorn waits on SIGTERM for sockets and their tasks before cancelling what is left and
# running the lifespan's shutdown (the writer commits what it took in): without it one stuck
# task holds the process until the supervisor's SIGKILL
SHUTDOWN_TIMEOUT = 5
UVICORN_WS_FLAGS = (
    "--ws-max-size",
    str(Limits.transport_max_bytes),
    "--ws-per-message-deflate",
    "false",
    "--timeout-graceful-shutdown",
    str(SHUTDOWN_TIMEOUT),
)
SEND_MANY = "alongside.send_many"


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
        # websockets' DEBUG lines are the handshake's headers (cookies, bearer tokens) and each
        # frame's text (message bodies): never written, whatever the log level
        self.conn.debug = False
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Gate()  # type: ignore[assignment]
        self.writable.set()

    def shutdown(self) -> None:
        """uvicorn's shutdown (close frame ``1012``, then close), bounded in time.

        uvicorn runs the app's shutdown (the writer's last commits) only once every
        connection is gone, and a transport closes only when what it holds is written: one
        client that stopped reading (or whose network vanished) would hold SIGTERM until the
        supervisor's SIGKILL. Such a socket is aborted after ``SHUTDOWN_GRACE``.
        """
        super().shutdown()
        if self.transport.get_write_buffer_size():
            self.loop.call_later(SHUTDOWN_GRACE, self._abort_unless_lost)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        # websockets' parser is a generator whose frame holds its protocol, and a frame it refused
        # (1009, 1002) is kept with a traceback holding that frame: cycles only a full collection
        # frees. Nothing more will be parsed once the socket is gone.
        self.conn.parser.close()
        self.conn.parser_exc = None

    def _abort_unless_lost(self) -> None:
        if not self.disconnected:
            self.transport.abort()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope.setdefault("extensions", {})[SEND_MANY] = {}

    async def send(self, message: Any) -> None:
        if message["type"] == SEND_MANY:
            await self._send_many(message["texts"])
            return
        closing = message["type"] == "websocket.close" and self.handshake_complete
        if closing:
            # uvicorn waits until the socket is writable, which a client that stopped reading
            # never makes it: the close (4008) would not be sent at all. A close frame is a few
            # bytes; it goes behind what the client has not read, so it learns why when it reads.
            self.writable.set()
        await super().send(message)
        if closing and self.close_sent:
            # uvicorn's close timer only closes, and a close waits for the buffer to be written:
            # a socket whose peer never reads would hold its unsent frames for as long as TCP
            # keeps it. After the closing handshake's own timeout it is aborted.
            self.loop.call_later(self.close_timeout, self._abort_unless_lost)
        if message["type"] == "websocket.accept":
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]
        elif message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
            # a refusal before the upgrade (403, 429) is a finished handshake: without this uvicorn
            # logs "returned without completing handshake" at ERROR for each, a line per throttled try
            self.handshake_complete = True

    async def _send_many(self, texts: list[str]) -> None:
        """Frame every text, then one write (what ``websocket.send`` does, for a batch)."""
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        if self.close_sent or not self.handshake_complete:
            raise RuntimeError("alongside.send_many outside an open WebSocket")
        try:
            for text in texts:
                self.conn.send_text(text.encode())
        except InvalidState:
            raise ClientDisconnected() from None
        self.transport.write(b"".join(self.conn.data_to_send()))
