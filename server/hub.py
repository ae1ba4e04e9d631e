"""Per process: which local connections follow which room, and delivery to them in order.

Invariants:
- Each room delivers stored events to its local subscribers in seq order, each exactly
  once. Events may arrive out of order or not at all (pub/sub is lossy, several processes
  publish); a gap is filled from the database before anything after it is delivered.
- A joining client receives ``joined``, then history after its ``since``, then live
  events, with no gap and no duplicate: the room is subscribed first, history is read
  until it reaches what the room has delivered, and the subscriber is registered at that
  seq without an ``await`` in between (Zulip's subscribe → read → splice).
- A join either ends subscribed or the client knows it is not: a failure before ``joined``
  (the first backlog page is read before it) is the join's error; one after it closes the
  socket (``1013`` when storage is down) so the client reconnects and joins again.
- Each event is serialised once per room; fan-out never waits on a socket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson

from server.alerts import Alerts
from server.broker import Broker, Handlers
from server.broker.base import CONTROL_CHANNEL, room_channel, room_of
from server.connection import Connection
from server.metrics import Metrics
from server.presence import Presence
from server.protocol import CloseCode, ErrorCode, ProtocolError, encode, error_frame
from server.roomstate import RoomStates
from server.rules.resume import resume_point
from server.settings import Settings
from server.store import events as event_store
from server.store import sessions as session_store
from server.store.database import Database, StoreUnavailable, utcnow

log = logging.getLogger("alongside.hub")

HISTORY_PAGE = 1000
MAX_PENDING = 10_000
STORED_TYPES = frozenset({"message", "reaction", "member_added", "member_changed", "member_removed", "redacted"})
EPHEMERAL_TYPES = frozenset({"typing", "presence"})


class RoomChannel:
    """A room as followed by this process: its delivery cursor and local subscribers."""

    __slots__ = ("announced", "cursor", "filling", "joining", "pending", "ready", "room_id", "subs", "target")

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.cursor: int | None = None  # last seq delivered to subscribers
        self.target = 0  # highest seq known to be committed
        self.subs: dict[Connection, int] = {}  # connection -> last seq it was given
        # out-of-order events waiting for a gap to fill, with when they reached this process
        self.pending: dict[int, tuple[str, float]] = {}
        self.filling = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.joining = 0
        self.announced: int | None = None  # the last seq sent in a `sync` frame


class Hub:
    def __init__(
        self, db: Database, broker: Broker, settings: Settings, process_id: str, metrics: Metrics | None = None
    ) -> None:
        self.db = db
        self.broker = broker
        self.settings = settings
        self.process_id = process_id
        self.metrics = metrics or Metrics()
        self.rooms: dict[int, RoomChannel] = {}
        self.connections: set[Connection] = set()
        self._typing_at: dict[tuple[int, int], float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self.presence = Presence(
            broker, process_id, settings.presence_ttl, self._fan_ephemeral, self.rooms.__contains__, self._spawn
        )
        self.states = RoomStates(
            db, broker, settings.crisis_resources, self._fan_ephemeral, self.rooms.__contains__, self._spawn
        )
        self.alerts = Alerts(db, settings.crisis, self.notify_user, self._spawn)
        self.metrics.watch(self)

    # lifecycle

    async def start(self) -> None:
        await self.broker.start(Handlers(on_message=self.on_broker_message, on_reconnect=self.catch_up_all))
        self._loop_task = asyncio.create_task(self._background(), name="hub-background")

    async def stop(self, code: int = CloseCode.RESTART) -> None:
        """Close every socket, end the background pass and the spawned tasks, then the broker.

        The background pass ends on ``_stopping`` as well as on its cancel: a cancel can be
        lost in a Redis send on Python 3.11 (see server/broker/redis.py), and the pass would
        then go on forever and hold the stop.
        """
        self._stopping = True
        for conn in list(self.connections):
            conn.kill(code, "server restarting")
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.broker.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro, name=f"hub:{coro.__qualname__}")  # named for the stop's task dump
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # connections

    def attach(self, conn: Connection) -> None:
        self.connections.add(conn)

    def detach(self, conn: Connection) -> None:
        for room_id in list(conn.rooms):
            self.leave(conn, room_id)
        self.connections.discard(conn)

    async def join(self, conn: Connection, room_id: int, since: int | None, ref: Any) -> None:
        """Splice history and live events for one connection (see the module invariant)."""
        channel = await self._channel(room_id)
        channel.joining += 1
        try:
            async with self.db.read() as db:
                last = (await event_store.last_seqs(db, [room_id])).get(room_id, 0)
            start = resume_point(since, last)
            if start is None:
                raise ProtocolError(ErrorCode.INVALID, f"since must be between 0 and the room's last seq ({last})")
            # the first page is read before `joined`: a join that fails there is refused whole
            page = await self._backlog_page(channel, start)
            rejoin = channel.subs.pop(conn, None) is not None  # a re-join restarts from the new since
            conn.rooms.discard(room_id)
            frame: dict[str, Any] = {"type": "joined", "room": room_id, "last_seq": last}
            if ref is not None:
                frame["ref"] = ref
            await conn.send_ordered(encode(frame))
            state = self.states.current(room_id)
            if state is not None:
                await conn.send_ordered(state)
            position = start
            try:
                while page and not conn.closed:
                    for event in page:
                        await conn.send_ordered(encode(event))
                    self.metrics.backlog.inc(len(page))
                    position = page[-1]["seq"]
                    page = await self._backlog_page(channel, position)
            except Exception as exc:
                # `joined` is out and this socket would never be subscribed: end it, so the
                # client reconnects and joins again with `since` (what it got is gap-free)
                unavailable = isinstance(exc, StoreUnavailable)
                conn.kill(CloseCode.TRY_AGAIN if unavailable else CloseCode.INTERNAL, "join failed; rejoin")
                if rejoin:
                    self._spawn(self.presence.left(conn, room_id))
                raise
            if conn.closed:
                if rejoin:
                    self._spawn(self.presence.left(conn, room_id))
                return
            channel.subs[conn] = position
            conn.rooms.add(room_id)
            latest = self.states.current(room_id)
            if latest is not None and latest != state:  # it changed while the backlog was sent
                conn.push(latest)
        finally:
            channel.joining -= 1
            self._maybe_close_channel(channel)
        greeting = self.presence.current(room_id)
        if greeting is not None:
            conn.push(greeting)
        if not rejoin:
            await self.presence.joined(conn, room_id)

    async def _backlog_page(self, channel: RoomChannel, after: int) -> list[dict[str, Any]]:
        """The next page of a joiner's backlog after ``after``; empty once it reached the live cursor."""
        if channel.cursor is None or after >= channel.cursor:
            return []
        async with self.db.read() as db:
            page, _ = await event_store.history(db, channel.room_id, after=after, limit=HISTORY_PAGE)
        return page

    def leave(self, conn: Connection, room_id: int) -> None:
        channel = self.rooms.get(room_id)
        conn.rooms.discard(room_id)
        if channel is None or conn not in channel.subs:
            return
        del channel.subs[conn]
        self._maybe_close_channel(channel)
        self._spawn(self.presence.left(conn, room_id))

    def kick(self, user_id: int, room_id: int) -> None:
        """Remove a person's local sockets from a room (they lost access)."""
        for conn in list(self.connections):
            if conn.person.id == user_id and room_id in conn.rooms:
                self.leave(conn, room_id)
                conn.push(encode({"type": "left", "room": room_id, "reason": "removed"}))

    def remove_access(self, user_id: int, room_id: int) -> None:
        """Kick here and on every other process (call after the membership change committed)."""
        self.kick(user_id, room_id)
        self.broker.publish(CONTROL_CHANNEL, orjson.dumps({"type": "kick", "user": user_id, "room": room_id}))

    def notify_user(self, user_id: int, frame: dict[str, Any], announce: bool = True) -> None:
        """Send a frame to every open socket of one person, on every process."""
        text = encode(frame)
        for conn in list(self.connections):
            if conn.person.id == user_id:
                conn.push(text)
        if announce:
            self.broker.publish(CONTROL_CHANNEL, orjson.dumps({"type": "notify", "user": user_id, "frame": frame}))

    def end_session(self, session_id: str, announce: bool = True) -> None:
        """Close every socket of a revoked session here, and ask other processes to do the same."""
        final = error_frame(ErrorCode.UNAUTHORIZED, "your session has ended; please sign in again")
        for conn in list(self.connections):
            if conn.session_id == session_id:
                conn.kill(CloseCode.SESSION_ENDED, "session ended", final)
        if announce:
            self.broker.publish(CONTROL_CHANNEL, orjson.dumps({"type": "revoke", "session": session_id}))

    # delivery

    def publish_stored(self, room_id: int, seq: int, frame: dict[str, Any], committed_at: float | None = None) -> None:
        """A committed event: deliver here, then tell the other processes.

        ``committed_at`` (``time.perf_counter()``, default now) starts its fan-out latency.
        """
        text = encode(frame)
        self.deliver(room_id, seq, text, committed_at)
        self.broker.publish(room_channel(room_id), text.encode())

    def publish_ephemeral(self, room_id: int, frame: dict[str, Any]) -> None:
        text = encode(frame)
        self._fan_ephemeral(room_id, text)
        self.broker.publish(room_channel(room_id), text.encode())

    def deliver(self, room_id: int, seq: int, text: str, received_at: float | None = None) -> None:
        channel = self.rooms.get(room_id)
        if channel is None:
            return
        if received_at is None:
            received_at = time.perf_counter()
        if seq > channel.target:
            channel.target = seq
        cursor = channel.cursor
        if cursor is None or channel.filling:
            if (cursor is None or seq > cursor) and len(channel.pending) < MAX_PENDING:
                channel.pending[seq] = (text, received_at)
            return
        if seq <= cursor:
            return
        if seq == cursor + 1:
            self._fan(channel, seq, text, received_at)
            return
        channel.pending[seq] = (text, received_at)
        self._start_fill(channel)

    def _fan(self, channel: RoomChannel, seq: int, text: str, received_at: float | None) -> None:
        """``received_at`` None: read from the database to fill a gap (no latency to observe)."""
        subs = channel.subs
        dead: list[Connection] = []
        pushed = 0
        for conn, last in subs.items():
            if last < seq:
                if conn.push(text):
                    subs[conn] = seq
                    pushed += 1
                else:
                    dead.append(conn)
        channel.cursor = seq
        self.metrics.fanned(pushed, received_at)
        for conn in dead:
            self.leave(conn, channel.room_id)

    def _fan_ephemeral(self, room_id: int, text: str) -> None:
        channel = self.rooms.get(room_id)
        if channel is None:
            return
        subs = list(channel.subs)
        for conn in subs:
            if not conn.push(text):
                self.leave(conn, room_id)
        self.metrics.ephemeral.inc(len(subs))

    def _start_fill(self, channel: RoomChannel) -> None:
        if not channel.filling and channel.cursor is not None:
            channel.filling = True
            self.metrics.gap_fills.inc()
            self._spawn(self._fill(channel))

    async def _fill(self, channel: RoomChannel) -> None:
        """Deliver everything up to the room's target seq, reading gaps from the database."""
        backoff = 0.05
        misses = 0
        try:
            while self.rooms.get(channel.room_id) is channel and channel.cursor is not None:
                cursor = channel.cursor
                if cursor >= channel.target:
                    break
                following = cursor + 1
                if following in channel.pending:
                    self._fan(channel, following, *channel.pending.pop(following))
                    continue
                upto = min((seq for seq in channel.pending if seq > following), default=channel.target + 1) - 1
                try:
                    async with self.db.read() as db:
                        page, _ = await event_store.history(
                            db, channel.room_id, after=cursor, limit=min(HISTORY_PAGE, upto - cursor)
                        )
                except StoreUnavailable:
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if not page:
                    misses += 1
                    if misses > 50:
                        log.error("room %s: seqs after %s never appeared; giving up this fill", channel.room_id, cursor)
                        break
                    await asyncio.sleep(0.02)
                    continue
                misses = 0
                for event in page:
                    if event["seq"] == channel.cursor + 1:
                        self._fan(channel, event["seq"], encode(event), None)
                        channel.pending.pop(event["seq"], None)
        finally:
            channel.filling = False
            if channel.cursor is not None:
                for seq in [seq for seq in channel.pending if seq <= channel.cursor]:
                    del channel.pending[seq]

    async def _channel(self, room_id: int) -> RoomChannel:
        channel = self.rooms.get(room_id)
        if channel is not None:
            await asyncio.shield(channel.ready)
            return channel
        channel = RoomChannel(room_id)
        self.rooms[room_id] = channel
        try:
            await self.broker.subscribe(room_channel(room_id))
            async with self.db.read() as db:
                channel.cursor = (await event_store.last_seqs(db, [room_id])).get(room_id, 0)
            await self.states.load(room_id)
        except BaseException as exc:
            del self.rooms[room_id]
            channel.ready.set_exception(exc)
            channel.ready.exception()  # retrieved here so a lone joiner's failure is not logged twice
            self._spawn(self.broker.unsubscribe(room_channel(room_id)))
            raise
        channel.target = max(channel.target, channel.cursor)
        channel.ready.set_result(None)
        for seq in [seq for seq in channel.pending if seq <= channel.cursor]:
            del channel.pending[seq]
        if channel.target > channel.cursor:
            self._start_fill(channel)
        return channel

    def _maybe_close_channel(self, channel: RoomChannel) -> None:
        if not channel.subs and channel.joining == 0 and self.rooms.get(channel.room_id) is channel:
            del self.rooms[channel.room_id]
            self.presence.forget(channel.room_id)
            self.states.forget(channel.room_id)
            self._spawn(self.broker.unsubscribe(room_channel(channel.room_id)))

    # broker input: bytes from another process are validated like client frames

    def on_broker_message(self, channel_name: str, payload: bytes) -> None:
        received_at = time.perf_counter()
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            log.warning("dropped a malformed broker payload on %s", channel_name)
            return
        if not isinstance(data, dict):
            return
        if channel_name == CONTROL_CHANNEL:
            self._on_control(data)
            return
        room_id = room_of(channel_name)
        kind = data.get("type")
        if room_id is None or data.get("room") != room_id:
            return
        seq = data.get("seq")
        if kind in STORED_TYPES and isinstance(seq, int) and not isinstance(seq, bool) and seq > 0:
            self.deliver(room_id, seq, payload.decode(), received_at)
        elif kind in EPHEMERAL_TYPES:
            text = payload.decode()
            if kind == "presence":
                self.presence.heard(room_id, text)
            self._fan_ephemeral(room_id, text)

    def _on_control(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "revoke" and isinstance(data.get("session"), str):
            self.end_session(data["session"], announce=False)
        elif kind == "kick" and isinstance(data.get("user"), int) and isinstance(data.get("room"), int):
            self.kick(data["user"], data["room"])
        elif kind == "notify" and isinstance(data.get("user"), int) and isinstance(data.get("frame"), dict):
            self.notify_user(data["user"], data["frame"], announce=False)
        elif kind == "room_state" and isinstance(data.get("room"), int):
            self.states.changed(data["room"], announce=False)

    # catching up (Redis came back; the periodic sync)

    async def catch_up_all(self) -> None:
        """Compare every followed room with the database and deliver what is missing.

        A `sync` goes only to the followers not yet given the room's latest seq. Sent to every
        follower of every room that changed (in a busy room, all of them, each holding that seq
        already), the pass's 500 frames every 5 s held the loop long enough to double that
        second's p99 for every room (flood bench control runs: 13-15 ms against 6.5-7).
        """
        room_ids = list(self.rooms)
        if not room_ids:
            return
        try:
            async with self.db.read() as db:
                heads = await event_store.heads(db, room_ids)
        except StoreUnavailable:
            return
        for room_id, (last, state_version) in heads.items():
            self.states.check(room_id, state_version)
            channel = self.rooms.get(room_id)
            if channel is None or channel.cursor is None:
                continue
            if last > channel.target:
                channel.target = last
            if channel.target > channel.cursor:
                self._start_fill(channel)
            if last != channel.announced:  # a quiet room costs nothing: no sync until it changes
                channel.announced = last
                behind = [conn for conn, given in channel.subs.items() if given < last]
                if not behind:
                    continue
                text = encode({"type": "sync", "room": room_id, "last_seq": last})
                for conn in behind:
                    conn.push(text)
                # a room at a time: live messages go out between rooms instead of waiting
                # behind every follower's sync (500 followers held the loop ~5 ms, W1's tail)
                await asyncio.sleep(0)

    async def _background(self) -> None:
        interval = self.settings.sync_interval
        while not self._stopping:
            await asyncio.sleep(interval)
            try:
                await self.catch_up_all()
                self.states.tick(utcnow())
                await self.presence.heartbeat(list(self.rooms))
                await self._sweep_sessions()
                for conn in self.connections:
                    conn.rest()
                self._forget_typing(time.monotonic())
                await self.alerts.escalate(utcnow())
            except Exception:
                log.exception("hub background pass failed")

    async def _sweep_sessions(self) -> None:
        """Close sockets whose session was revoked while the broker could not tell us."""
        if not self.connections:
            return
        ids = list({conn.session_id for conn in self.connections})
        try:
            async with self.db.read() as db:
                alive = await session_store.still_active(db, ids)
        except StoreUnavailable:
            return
        for session_id in set(ids) - alive:
            self.end_session(session_id, announce=False)

    # typing

    def _forget_typing(self, now: float) -> None:
        interval = self.settings.limits.typing_interval
        for key in [key for key, at in self._typing_at.items() if now - at > interval]:
            del self._typing_at[key]

    def typing(self, conn: Connection, room_id: int, now: float | None = None) -> None:
        if room_id not in conn.rooms:
            raise ProtocolError(ErrorCode.NOT_JOINED, "join the room before sending typing")
        now = time.monotonic() if now is None else now
        key = (room_id, conn.person.id)
        if now - self._typing_at.get(key, -1e9) < self.settings.limits.typing_interval:
            return
        self._typing_at[key] = now
        self.publish_ephemeral(room_id, {"type": "typing", "room": room_id, "user": conn.person.public()})
