"""Who is online in each room, across every server process.

Invariant: a person is listed in a room while at least one of their connections, on any
process, follows it; entries of a process that died lapse after ``presence_ttl``.
Changes are announced debounced: a burst of joins costs one read and one frame per room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from server.broker import Broker
from server.broker.base import room_channel
from server.connection import Connection
from server.protocol import encode

DEBOUNCE = 0.05


class Presence:
    def __init__(
        self,
        broker: Broker,
        process_id: str,
        ttl: float,
        fan: Callable[[int, str], None],
        follows: Callable[[int], bool],
        spawn: Callable[[Any], None],
    ) -> None:
        self._broker = broker
        self._process_id = process_id
        self._ttl = ttl
        self._fan = fan
        self._follows = follows
        self._spawn = spawn
        self._online: dict[tuple[int, int], int] = {}  # (room, person) -> local connections
        self._members: dict[tuple[int, int], bytes] = {}
        self._texts: dict[int, str] = {}  # room -> the last presence frame this process knows
        self._dirty: set[int] = set()
        self._flushing = False

    def current(self, room_id: int) -> str | None:
        """The latest presence frame of a room, to greet a joining client with."""
        return self._texts.get(room_id)

    def heard(self, room_id: int, text: str) -> None:
        """Another process announced the room's presence."""
        if self._follows(room_id):
            self._texts[room_id] = text

    def forget(self, room_id: int) -> None:
        """No local client follows the room any more."""
        self._texts.pop(room_id, None)

    async def joined(self, conn: Connection, room_id: int) -> None:
        key = (room_id, conn.person.id)
        self._online[key] = self._online.get(key, 0) + 1
        if self._online[key] == 1:
            # kept for as long as the person stays: an exact-size copy, not orjson's 4 KB buffer
            member = orjson.dumps({"p": self._process_id, "id": conn.person.id, "n": conn.person.display_name})
            member = member.decode().encode()
            self._members[key] = member
            await self._broker.presence_set({room_id: (member,)}, self._ttl)
            self._schedule(room_id)

    async def left(self, conn: Connection, room_id: int) -> None:
        key = (room_id, conn.person.id)
        count = self._online.get(key, 0) - 1
        if count > 0:
            self._online[key] = count
            return
        self._online.pop(key, None)
        member = self._members.pop(key, None)
        if member is not None:
            await self._broker.presence_remove(room_id, member)
            self._schedule(room_id)

    async def heartbeat(self, rooms: list[int]) -> None:
        """Refresh this process's entries and re-read the rooms (a dead process's entries lapse)."""
        entries: dict[int, list[bytes]] = {}
        for (room_id, _person), member in self._members.items():
            entries.setdefault(room_id, []).append(member)
        await self._broker.presence_set(entries, self._ttl)
        for room_id in rooms:
            await self._refresh(room_id, announce=False)

    def _schedule(self, room_id: int) -> None:
        self._dirty.add(room_id)
        if not self._flushing:
            self._flushing = True
            self._spawn(self._flush())

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(DEBOUNCE)
            while self._dirty:
                rooms, self._dirty = self._dirty, set()
                for room_id in rooms:
                    await self._refresh(room_id, announce=True)
        finally:
            self._flushing = False

    async def _refresh(self, room_id: int, announce: bool) -> None:
        """Read who is online (all processes); tell local clients, and others if asked, when it changed."""
        people: dict[int, str] = {}
        for raw in await self._broker.presence_list(room_id):
            try:
                entry = orjson.loads(raw)
                people[int(entry["id"])] = str(entry["n"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
        online = [{"id": uid, "display_name": name} for uid, name in sorted(people.items())]
        text = encode({"type": "presence", "room": room_id, "online": online})
        if announce:
            self._broker.publish(room_channel(room_id), text.encode())
        if self._follows(room_id) and text != self._texts.get(room_id):
            self._texts[room_id] = text
            self._fan(room_id, text)
