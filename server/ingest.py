"""Group commit: messages arriving together are stored in one transaction.

Invariant: a message is acknowledged only after the transaction that stores it has
committed, and it is published (locally and to other processes) only after that commit.
Writer tasks drain the queue, so a burst of sends costs one commit. SQLite gets one (it
has one writer at a time anyway); PostgreSQL two, so one batch is being prepared while
another waits on the database. Two batches touching the same room serialise on its row
lock, and the hub puts any out-of-order publication back in seq order.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from server.hub import Hub
from server.store.database import Database, StoreUnavailable
from server.store.events import NewMessage, Posted, append_messages

log = logging.getLogger("alongside.ingest")

MAX_BATCH = 256


class Ingest:
    def __init__(self, db: Database, hub: Hub, writers: int = 1) -> None:
        self._db = db
        self._hub = hub
        self._queue: list[tuple[NewMessage, asyncio.Future[Posted]]] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._writers = writers
        self._stopping = False

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name=f"ingest-{n}") for n in range(self._writers)]

    async def stop(self) -> None:
        """Finish what was submitted, then stop (graceful shutdown loses no send)."""
        self._stopping = True
        self._wake.set()
        await asyncio.gather(*self._tasks)

    def submit(self, message: NewMessage) -> asyncio.Future[Posted]:
        """Queue a message; the future resolves once it is committed (or refused)."""
        future: asyncio.Future[Posted] = asyncio.get_running_loop().create_future()
        if self._stopping and self._tasks and all(task.done() for task in self._tasks):
            future.set_exception(StoreUnavailable("shutting down"))
            return future
        self._queue.append((message, future))
        self._wake.set()
        return future

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[NewMessage, asyncio.Future[Posted]]]) -> None:
        messages = [message for message, _ in batch]
        try:
            results = await self._db.run_write(partial(append_messages, batch=messages))
        except StoreUnavailable as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(StoreUnavailable(str(exc)))
            return
        except Exception:
            if len(batch) > 1:  # isolate the message that fails from the others
                for item in batch:
                    await self._commit([item])
                return
            log.exception("storing a message failed")
            _, future = batch[0]
            if not future.done():
                future.set_exception(RuntimeError("storing the message failed"))
            return
        for result in results:
            if result.frame is not None and result.seq is not None:
                self._hub.publish_stored(result.frame["room"], result.seq, result.frame)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
