"""One WebSocket client as the hub sees it: who it is, and its bounded outgoing buffer.

Invariant: nothing ever awaits a particular client's socket except that client's own
writer task. Fan-out calls ``push`` (never blocks); when the buffer is full the client is
too slow, and it is dropped with ``4008`` rather than allowed to hold the room back.

Per-connection state is kept small (W3 in bench/): a plain list swapped out whole by the
writer, and one future at a time for whoever waits.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from server.protocol import CloseCode
from server.rules.limits import Bucket
from server.store.users import Person

log = logging.getLogger("alongside.ws")
_ids = itertools.count(1)
CLOSE_GRACE = 2.0  # seconds a client has to answer our close frame


class Connection:
    __slots__ = (
        "_close",
        "_closing",
        "_limit",
        "_out",
        "_room_free",
        "_send",
        "_send_many",
        "_wake",
        "_writer",
        "close_code",
        "closed",
        "expires_at",
        "id",
        "owner",
        "person",
        "refusals",
        "rooms",
        "session_id",
    )

    def __init__(
        self,
        person: Person,
        session_id: str,
        expires_at: datetime,
        send: Callable[[str], Awaitable[None]],
        close: Callable[[int, str], Awaitable[None]],
        max_queue: int,
        send_many: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self.id = next(_ids)
        self.person = person
        self.session_id = session_id
        self.expires_at = expires_at
        self.rooms: set[int] = set()
        self._out: list[str] = []
        self._limit = max_queue
        self._send = send
        self._send_many = send_many  # several frames, one write (when the transport offers it)
        self._close = close
        self._wake: asyncio.Future[None] | None = None
        self._room_free: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closing: tuple[int, str] | None = None
        self.owner: asyncio.Task[object] | None = None  # the task reading this socket
        self.refusals: Bucket | None = None  # refused frames allowed before closing (ws.handle)
        self.closed = False
        self.close_code: int | None = None

    def push(self, text: str) -> bool:
        """Queue a frame without waiting; False (and the client is being dropped) if it is full."""
        if self.closed:
            return True
        if len(self._out) >= self._limit:
            self.kill(CloseCode.SLOW_CONSUMER, "too slow: outgoing buffer full", abort=True)
            return False
        self._out.append(text)
        self._kick()
        return True

    async def send_ordered(self, text: str) -> None:
        """Queue a frame, waiting while the buffer is full (backlog on join: backpressure, not loss)."""
        while not self.closed and len(self._out) >= self._limit:
            self._room_free = asyncio.get_running_loop().create_future()
            await self._room_free
        if not self.closed:
            self._out.append(text)
            self._kick()

    def _kick(self) -> None:
        """Wake the writer, or start one: idle connections hold no writer task (see ``rest``)."""
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        else:
            _release(self._wake)

    def rest(self) -> None:
        """Stop an idle writer to save its memory; the next frame starts a new one."""
        writer = self._writer
        if writer is not None and not self._out and self._wake is not None and not self.closed:
            self._writer = None
            writer.cancel()

    async def stop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    def kill(self, code: int, reason: str, final_frame: str | None = None, abort: bool = False) -> None:
        """Close soon: drop what is queued, optionally send one last frame, then close.

        ``abort`` also stops a write in progress and the reader: a client that does not
        read would otherwise hold its writer (and its close frame) forever.
        """
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        self._closing = (code, reason)
        self._out = [final_frame] if final_frame is not None else []
        _release(self._room_free)
        if abort:
            self._out = []
            for task in (self._writer, self.owner):
                if task is not None and not task.done():
                    task.cancel()
        else:
            self._kick()

    async def _write(self) -> None:
        """The only coroutine that writes to this socket: drains the buffer a batch at a time."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self._out:
                    if self._closing is not None:
                        await self._close(*self._closing)
                        await asyncio.sleep(CLOSE_GRACE)  # the client should answer the close by now
                        if self.owner is not None and not self.owner.done():
                            self.owner.cancel()
                        return
                    self._wake = loop.create_future()
                    await self._wake
                    self._wake = None
                    continue
                batch, self._out = self._out, []
                if len(batch) > 1 and self._send_many is not None:
                    await self._send_many(batch)
                else:
                    for text in batch:
                        await self._send(text)
                _release(self._room_free)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away mid-write
            log.debug("writer for connection %s stopped: %s", self.id, type(exc).__name__)
            self.closed = True
            # a join waiting for room in the buffer (``send_ordered``) would otherwise wait
            # forever, holding its socket's task: a leak, and a SIGTERM that never finishes
            _release(self._room_free)


def _release(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
