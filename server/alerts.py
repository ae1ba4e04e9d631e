"""Queue items go live: ``queue`` frames to a room's watchers, ``alert`` frames to its moderators,
and the escalation of alerts nobody acknowledged.

Invariants:
- Every frame is sent after the transaction that created or changed the item committed,
  read fresh from the database, to each person on every process (``Hub.notify_user``).
- A crisis or concern alert reaches the room's moderators as ``alert`` at once; the room's
  moderators and the program's active staff get ``queue`` for every new or changed item.
- An alert unacknowledged ``escalate_after_minutes`` after it was raised escalates once:
  the conditional UPDATE of ``store.queue.escalate_due`` lets exactly one process win it,
  and that process sends ``alert`` with ``overdue: true`` to all staff of the program.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from server.settings import CrisisSettings
from server.store import queue as queue_store
from server.store.database import Database, StoreUnavailable
from server.store.queue import ALERT_KINDS

log = logging.getLogger("alongside.alerts")

Notify = Callable[[int, dict[str, Any]], None]


class Alerts:
    """One per process (the hub owns it): tells people about queue items and escalates alerts."""

    def __init__(self, db: Database, settings: CrisisSettings, notify: Notify, spawn: Callable[[Any], None]) -> None:
        self._db = db
        self._settings = settings
        self._notify = notify
        self._spawn = spawn

    def raised(self, item_ids: Sequence[int]) -> None:
        """New items committed (e.g. by the group commit): alert and queue frames, without waiting."""
        self._spawn(self.tell(item_ids, alert=True))

    async def tell(self, item_ids: Sequence[int], *, alert: bool = False, overdue: bool = False) -> None:
        """``queue`` to each item's watchers; with ``alert``, ``alert`` to the room's moderators for
        crisis and concern items; with ``overdue``, ``alert`` to every watcher (program staff too)."""
        try:
            async with self._db.read() as conn:
                found = await queue_store.items(conn, queue_store.items_are(item_ids), viewer_id=None)
                audiences = [await queue_store.watchers(conn, item["room"], item["program"]) for item in found]
        except StoreUnavailable:
            log.warning("could not read queue items %s to announce them", list(item_ids))
            return
        for item, audience in zip(found, audiences, strict=True):
            alerted = audience.everyone if overdue else audience.moderators if alert else frozenset()
            for user_id in audience.everyone | alerted:
                seen = queue_store.for_viewer(item, user_id, staff=user_id not in audience.peers)
                if user_id in audience.everyone:
                    self._notify(user_id, {"type": "queue", "item": seen})
                if user_id in alerted and item["kind"] in ALERT_KINDS:
                    self._notify(user_id, {"type": "alert", "item": seen})

    async def escalate(self, now: datetime) -> list[int]:
        """Escalate the alerts that waited too long (see the module invariant); the ids this process won."""
        cutoff = now - timedelta(minutes=self._settings.escalate_after_minutes)
        try:
            async with self._db.read() as conn:  # a cheap look first: most passes find nothing to write
                due = await queue_store.any_due(conn, cutoff)
            if not due:
                return []
            async with self._db.write() as conn:
                won = await queue_store.escalate_due(conn, cutoff, now)
        except StoreUnavailable:
            return []  # the next pass tries again
        if won:
            log.warning("escalated %d unacknowledged alert(s) to program staff", len(won))
            await self.tell(won, overdue=True)
        return won
