"""One WebSocket client as the hub sees it: who it is, and its bounded outgoing queue.

Invariant: nothing ever awaits a particular client's socket except that client's own
writer task. Fan-out calls ``push`` (never blocks); when the queue is full the client is
too slow, and it is closed with ``4008`` rather than allowed to hold the room back.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from server.protocol import CloseCode
from server.store.users import Person

log = logging.getLogger("alongside.ws")
_ids = itertools.count(1)
_CLOSE = object()


class Connection:
    __slots__ = (
        "_close",
        "_queue",
        "_send",
        "_writer",
        "close_code",
        "closed",
        "expires_at",
        "id",
        "person",
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
    ) -> None:
        self.id = next(_ids)
        self.person = person
        self.session_id = session_id
        self.expires_at = expires_at
        self.rooms: set[int] = set()
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=max_queue)
        self._send = send
        self._close = close
        self.closed = False
        self.close_code: int | None = None
        self._writer: asyncio.Task[None] | None = None

    def push(self, text: str) -> bool:
        """Queue a frame without waiting; False (and the client is being closed) if it is full."""
        if self.closed:
            return True
        try:
            self._queue.put_nowait(text)
            return True
        except asyncio.QueueFull:
            self.kill(CloseCode.SLOW_CONSUMER, "too slow: outgoing buffer full", abort=True)
            return False

    async def send_ordered(self, text: str) -> None:
        """Queue a frame, waiting for room in the queue (backlog on join: backpressure, not loss)."""
        if not self.closed:
            await self._queue.put(text)

    def start_writer(self) -> asyncio.Task[None]:
        self._writer = asyncio.create_task(self.writer(), name=f"ws-writer-{self.id}")
        return self._writer

    def kill(self, code: int, reason: str, final_frame: str | None = None, abort: bool = False) -> None:
        """Close soon: drop what is queued, optionally send one last frame, then close.

        ``abort`` also stops a write in progress: a client that does not read would
        otherwise hold its writer (and its close frame) forever.
        """
        if self.closed:
            return
        if abort and self._writer is not None:
            self._writer.cancel()
        self.closed = True
        self.close_code = code
        while not self._queue.empty():
            self._queue.get_nowait()
        if final_frame is not None:
            self._queue.put_nowait(final_frame)
        self._queue.put_nowait((_CLOSE, code, reason))

    async def writer(self) -> None:
        """The only coroutine that writes to this socket."""
        queue = self._queue
        try:
            while True:
                item = await queue.get()
                if isinstance(item, tuple) and item and item[0] is _CLOSE:
                    await self._close(item[1], item[2])
                    return
                await self._send(item)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away mid-write
            log.debug("writer for connection %s stopped: %s", self.id, type(exc).__name__)
            self.closed = True
