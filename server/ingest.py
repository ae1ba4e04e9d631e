"""Group commit: messages arriving together are stored in one transaction.

Invariant: a message is acknowledged only after the transaction that stores it has
committed, and it is published (locally and to other processes) only after that commit.
Writer tasks drain the queue, so a burst of sends costs one commit. SQLite gets one (it
has one writer at a time anyway); PostgreSQL two, so one batch is being prepared while
another waits on the database. Each room belongs to one writer (room id modulo the
number of writers), so a room's messages are stored in the order they arrived: two
messages typed quickly never swap places.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict
from functools import partial
from typing import Any

from server.hub import Hub
from server.store.database import Database, StoreUnavailable
from server.store.events import NewMessage, Posted, append_messages

log = logging.getLogger("alongside.ingest")

MAX_BATCH = 256


class _Lane:
    """One writer's queue: the rooms it owns, in arrival order."""

    def __init__(self) -> None:
        self.queue: list[tuple[NewMessage, asyncio.Future[Posted]]] = []
        self.wake = asyncio.Event()


class Ingest:
    def __init__(self, db: Database, hub: Hub, writers: int = 1) -> None:
        self._db = db
        self._hub = hub
        self._lanes = [_Lane() for _ in range(max(1, writers))]
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(lane), name=f"ingest-{n}") for n, lane in enumerate(self._lanes)]

    async def stop(self) -> None:
        """Finish what was submitted, then stop (graceful shutdown loses no send)."""
        self._stopping = True
        for lane in self._lanes:
            lane.wake.set()
        await asyncio.gather(*self._tasks)

    def submit(self, message: NewMessage) -> asyncio.Future[Posted]:
        """Queue a message; the future resolves once it is committed (or refused)."""
        future: asyncio.Future[Posted] = asyncio.get_running_loop().create_future()
        if self._stopping and self._tasks and all(task.done() for task in self._tasks):
            future.set_exception(StoreUnavailable("shutting down"))
            return future
        lane = self._lanes[message.room_id % len(self._lanes)]
        lane.queue.append((message, future))
        lane.wake.set()
        return future

    def _resources(self, room_id: int, seq: int | None) -> dict[str, Any]:
        """The private answer to a message that signals a crisis (``seq`` None: it was held)."""
        resources = [asdict(resource) for resource in self._hub.settings.crisis_resources]
        return {"type": "crisis_resources", "room": room_id, "seq": seq, "resources": resources}

    async def _run(self, lane: _Lane) -> None:
        while True:
            if not lane.queue:
                if self._stopping:
                    return
                lane.wake.clear()
                await lane.wake.wait()
                continue
            batch, lane.queue = lane.queue[:MAX_BATCH], lane.queue[MAX_BATCH:]
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[NewMessage, asyncio.Future[Posted]]]) -> None:
        messages = [message for message, _ in batch]
        sends = self._hub.metrics.sends
        try:
            detector = self._hub.settings.crisis.detector
            started = time.perf_counter()
            results = await self._db.run_write(partial(append_messages, batch=messages, detector=detector))
        except StoreUnavailable as exc:
            sends["unavailable"].inc(len(batch))
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
            sends["failed"].inc()
            _, future = batch[0]
            if not future.done():
                future.set_exception(RuntimeError("storing the message failed"))
            return
        committed_at = time.perf_counter()
        self._hub.metrics.commit.observe(committed_at - started)
        acked = held = 0
        for message, result in zip(messages, results, strict=True):
            if result.seq is not None:
                acked += 1
            elif result.held:
                held += 1
            if result.frame is not None and result.seq is not None:
                self._hub.publish_stored(result.frame["room"], result.seq, result.frame, committed_at)
            if result.crisis:
                self._hub.notify_user(message.author_id, self._resources(message.room_id, result.seq))
        queued = [item for result in results for item in result.items]
        if queued:
            self._hub.alerts.raised(queued)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
        sends["acked"].inc(acked)
        sends["held"].inc(held)
        sends["refused"].inc(len(results) - acked - held)
