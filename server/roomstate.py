"""Per process: the monitored state of every room a local client follows, kept current.

Invariant: each local subscriber of a room holds the room's latest ``room_state`` frame.
The frame is a pure function (``rules.monitoring.state``) of the room's setup and the
clock. The setup is read from the database when the room is first followed here, when a
process announces a change (a control message on the broker), and when the periodic pass
finds the room's ``state_version`` moved on (an announcement that was lost). The clock
alone is re-evaluated on the periodic pass, and only for rooms whose state time can
change: rooms with a schedule once per minute (windows are whole minutes, and every
timezone's offset is too, so a schedule cannot flip within a UTC minute), rooms whose
earliest check-in has lapsed at once. A pass costs nothing for the other rooms, and the
send path never looks here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson

from server.broker import Broker
from server.broker.base import CONTROL_CHANNEL
from server.protocol import encode
from server.rules import monitoring
from server.settings import CrisisResource
from server.store import duty as duty_store
from server.store.database import Database, StoreUnavailable, utcnow

log = logging.getLogger("alongside.roomstate")


class RoomStates:
    """The rooms this process follows: their setups, their current frames, and which ones the clock moves."""

    def __init__(
        self,
        db: Database,
        broker: Broker,
        resources: tuple[CrisisResource, ...],
        fan: Callable[[int, str], None],
        follows: Callable[[int], bool],
        spawn: Callable[[Any], None],
    ) -> None:
        self._db = db
        self._broker = broker
        self._resources = [asdict(resource) for resource in resources]
        self._fan = fan
        self._follows = follows
        self._spawn = spawn
        self._setups: dict[int, monitoring.Setup] = {}
        self._texts: dict[int, str] = {}  # room -> the frame its local subscribers hold
        self._timed: set[int] = set()  # rooms whose state the clock can change
        self._lapses: dict[int, datetime] = {}  # room -> when its earliest running check-in ends
        self._minute = 0  # the UTC minute of the last pass
        self._stale: set[int] = set()
        self._reloading: set[int] = set()

    def describe(self, setup: monitoring.Setup, now: datetime) -> dict[str, Any]:
        """The state frame of a setup read elsewhere (the HTTP answers), with this process's resources."""
        return monitoring.state(setup, now, self._resources)

    def current(self, room_id: int) -> str | None:
        """The room's latest state frame, to send a joining client right after ``joined``."""
        return self._texts.get(room_id)

    async def load(self, room_id: int) -> None:
        """Read the room's setup (the room became followed here, or it changed)."""
        now = utcnow()
        async with self._db.read() as db:
            setup = await duty_store.setup_of(db, room_id, now)
        if setup is not None:
            self._apply(setup, now)

    def forget(self, room_id: int) -> None:
        """No local client follows the room any more."""
        self._setups.pop(room_id, None)
        self._texts.pop(room_id, None)
        self._timed.discard(room_id)
        self._lapses.pop(room_id, None)

    def changed(self, room_id: int, announce: bool = True) -> None:
        """A committed change to the room's setup: re-read it here and, if asked, on every other process."""
        if announce:
            self._broker.publish(CONTROL_CHANNEL, orjson.dumps({"type": "room_state", "room": room_id}))
        if self._follows(room_id):
            self._stale.add(room_id)
            if room_id not in self._reloading:
                self._reloading.add(room_id)
                self._spawn(self._reload(room_id))

    def check(self, room_id: int, version: int) -> None:
        """The periodic pass read the room's ``state_version``: re-read the setup if ours is older."""
        setup = self._setups.get(room_id)
        if setup is not None and setup.version != version:
            self.changed(room_id, announce=False)

    def tick(self, now: datetime) -> None:
        """Let the clock move the rooms it can move (schedule boundaries, check-ins that lapse)."""
        minute = int(now.timestamp() // 60)
        new_minute, self._minute = minute != self._minute, minute
        for room_id in list(self._timed):  # a timed room always has its setup here (see _apply, forget)
            if new_minute or (room_id in self._lapses and self._lapses[room_id] <= now):
                self._apply(self._setups[room_id], now)

    async def _reload(self, room_id: int) -> None:
        try:
            while room_id in self._stale:  # a change announced during a read is read again
                self._stale.discard(room_id)
                await self.load(room_id)
        except StoreUnavailable:
            log.warning("room %s: could not re-read its state; the periodic pass will retry", room_id)
        finally:
            self._reloading.discard(room_id)

    def _apply(self, setup: monitoring.Setup, now: datetime) -> None:
        room_id = setup.room_id
        known = self._setups.get(room_id)
        if not self._follows(room_id) or (known is not None and known.version > setup.version):
            return  # nobody here follows the room, or a slower, older read finished last
        self._setups[room_id] = setup
        if monitoring.time_sensitive(setup, now):
            self._timed.add(room_id)
        else:
            self._timed.discard(room_id)
        running = monitoring.on_duty(setup.duty, now)
        if running:
            self._lapses[room_id] = running[0].expires_at
        else:
            self._lapses.pop(room_id, None)
        text = encode(self.describe(setup, now))
        if text != self._texts.get(room_id):
            self._texts[room_id] = text
            self._fan(room_id, text)
