"""Load generator for Alongside: real WebSocket clients in one asyncio process.

Run as its own process, next to a server started by ``bench/run.py`` (or by hand). Every
mode reads the manifest written by ``bench/seed.py`` (users, tokens, rooms per group) and
writes one JSON result (``--out``) plus a one-line summary on stderr. Every mode is bounded
by ``--max-seconds``: it stops by itself and reports what it has.

Modes::

    login    log in every user of the manifest once (POST /api/auth/login), add tokens
    fanout   W1/W2: rooms x clients per room, S senders per room at R msg/s each; with
             --rates a,b,c it steps the rate up (W2) until loss > 0 or p99 > --p99-limit-ms
    idle     W3: N connections across the group's rooms, all joined, nobody sending;
             server RSS before and after -> KB per connection
    catchup  W4: a client joins, leaves, N messages are sent into the room, the client
             rejoins with ``since``; time until it holds all N, in order
    ingest   W5: one member per room, each sends its next message when the previous ack
             arrives; acknowledged messages/s

``--protocol`` picks how frames travel (our server, the ceiling, or a peer of bench/peers/:
``alongside``, ``ceiling``, ``channels`` take the JSON frames as they are; ``socketio`` wraps
them in Socket.IO packets over a plain WebSocket); everything above the frames (senders,
rates, embedded timestamps, latency, loss) is the same code for every target.

Message bodies carry the send time: ``<tag>|<time.time_ns()>|<padding>``; a receiver's
latency is its receipt time (``time.time_ns()`` when the frame is read) minus that.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import orjson
import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

loads = orjson.loads


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


# ----------------------------------------------------------------------------- protocols


class Protocol:
    """How frames travel to one kind of target; the workload logic above it is the same for all.

    ``alongside`` (our server), ``ceiling`` (bench/ceiling.py) and ``channels``
    (bench/peers/channels_server.py) take the JSON frames of docs/protocol.md as they are;
    ``socketio`` wraps them in Socket.IO packets (see :class:`SocketIOProtocol`). ``decode``
    turns one WebSocket frame into a frame dict; control frames of the transport come back as
    ``{"type": "_control", "reply": TEXT|None}`` and are answered by the reader.
    """

    name = "alongside"

    def url(self, url: str) -> str:
        return url

    async def handshake(self, ws: ClientConnection, timeout: float) -> dict[str, Any]:
        """Wait for the server's greeting; returns the ``hello`` frame (raises if it is not one)."""
        first = loads(await asyncio.wait_for(ws.recv(), timeout))
        if first.get("type") != "hello":
            raise HandshakeError(f"first_frame:{first.get('type')}:{first.get('code')}")
        return first  # type: ignore[no-any-return]

    def encode(self, frame: dict[str, Any]) -> str:
        return dumps(frame)

    decode = staticmethod(loads)


class HandshakeError(Exception):
    pass


class SocketIOProtocol(Protocol):
    """Engine.IO v4 / Socket.IO v5 over a plain WebSocket (bench/peers/socketio_server.py).

    Handshake: the server's open packet ``0{...}``, our namespace connect ``40``, its answer
    ``40{"sid"}``. A client frame ``{"type": T, ...}`` is sent as the event ``T`` with an
    acknowledgement id, ``42<id>["T", {...}]``; the server's acknowledgement ``43<id>[{...}]``
    carries the answer frame (``joined``, ``ack``, ...) and the ``message`` event
    ``42["message", {...}]`` carries the frame itself. Engine.IO pings ``2`` are answered ``3``.
    """

    name = "socketio"
    PING_REPLY: ClassVar[dict[str, Any]] = {"type": "_control", "reply": "3"}
    OTHER: ClassVar[dict[str, Any]] = {"type": "_control", "reply": None}

    def __init__(self) -> None:
        self.ack_ids = 0

    def url(self, url: str) -> str:
        if "/socket.io/" in url:
            return url
        base = url.split("//", 1)
        host = base[-1].split("/", 1)[0]
        return f"{base[0]}//{host}/socket.io/?EIO=4&transport=websocket"

    async def handshake(self, ws: ClientConnection, timeout: float) -> dict[str, Any]:
        opened = await asyncio.wait_for(ws.recv(), timeout)
        if not isinstance(opened, str) or not opened.startswith("0{"):
            raise HandshakeError(f"eio_open:{str(opened)[:20]}")
        await ws.send("40")
        while True:
            raw = await asyncio.wait_for(ws.recv(), timeout)
            if raw == "2":
                await ws.send("3")
                continue
            if isinstance(raw, str) and raw.startswith("40"):
                return {"type": "hello", "limits": None, "engineio": loads(opened[1:]), "socketio": loads(raw[2:])}
            raise HandshakeError(f"sio_connect:{str(raw)[:20]}")

    def encode(self, frame: dict[str, Any]) -> str:
        self.ack_ids += 1
        return f"42{self.ack_ids}{dumps([frame['type'], frame])}"

    def decode(self, raw: str | bytes) -> Any:  # type: ignore[override]
        if isinstance(raw, str):
            raw = raw.encode()
        head = raw[:2]
        if head == b"42":  # an event: ["message", {...}]
            return loads(raw[2:])[1]
        if head == b"43":  # an acknowledgement: 43<id>[{...}]
            return loads(raw[raw.index(b"[", 2) :])[0]
        if raw == b"2":
            return self.PING_REPLY
        if head == b"44":  # connect_error
            return {"type": "error", "code": "socketio_connect_error", "message": bytes(raw[2:]).decode()}
        return self.OTHER


PROTOCOLS = {"alongside": Protocol, "ceiling": Protocol, "channels": Protocol, "socketio": SocketIOProtocol}


# ---------------------------------------------------------------------------------- stats


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def latency_summary(ns_values: list[int]) -> dict[str, Any]:
    values = sorted(v / 1e6 for v in ns_values)
    if not values:
        return {"n": 0, "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.50), 3),
        "p90_ms": round(percentile(values, 0.90), 3),
        "p99_ms": round(percentile(values, 0.99), 3),
        "max_ms": round(values[-1], 3),
        "mean_ms": round(sum(values) / len(values), 3),
    }


class Meter:
    """CPU time of the server, of this process and of the whole machine over a window."""

    def __init__(self, server_pid: int | None, aux_pids: tuple[int, ...] = ()) -> None:
        self.aux_pids = aux_pids
        self.server = None
        if server_pid:
            try:
                self.server = psutil.Process(server_pid)
            except psutil.Error:
                self.server = None
        self.me = psutil.Process()

    def _server_cpu(self) -> float | None:
        if self.server is None:
            return None
        try:
            t = self.server.cpu_times()
            return t.user + t.system
        except psutil.Error:
            return None

    def rss(self) -> int | None:
        if self.server is None:
            return None
        try:
            return self.server.memory_info().rss
        except psutil.Error:
            return None

    def _backends_cpu(self) -> float:
        """PostgreSQL processes (all of them: the server's pool and anyone else's) and our Redis."""
        total = 0.0
        for proc in psutil.process_iter(["name", "cpu_times"]):
            info = proc.info
            if (info["name"] == "postgres" or proc.pid in self.aux_pids) and info["cpu_times"] is not None:
                total += info["cpu_times"].user + info["cpu_times"].system
        return total

    def snapshot(self) -> dict[str, Any]:
        t = self.me.cpu_times()
        machine = psutil.cpu_times()
        return {
            "wall": time.perf_counter(),
            "server": self._server_cpu(),
            "loadgen": t.user + t.system,
            "backends": self._backends_cpu(),
            "busy": sum(machine) - machine.idle - getattr(machine, "iowait", 0.0),
        }

    @staticmethod
    def window(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        wall = b["wall"] - a["wall"]
        out: dict[str, Any] = {"wall_s": round(wall, 3)}
        for key in ("server", "loadgen"):
            if a[key] is None or b[key] is None:
                out[f"{key}_cpu_s"] = None
                out[f"{key}_cpu_util"] = None
            else:
                out[f"{key}_cpu_s"] = round(b[key] - a[key], 3)
                out[f"{key}_cpu_util"] = round((b[key] - a[key]) / wall, 3) if wall > 0 else None
        busy = b["busy"] - a["busy"]
        out["machine_busy_cores"] = round(busy / wall, 3) if wall > 0 else None
        backends = max(0.0, b["backends"] - a["backends"])
        out["postgres_redis_cpu_s"] = round(backends, 3)
        others = busy - (out["server_cpu_s"] or 0) - (out["loadgen_cpu_s"] or 0) - backends
        out["others_cpu_s"] = round(max(0.0, others), 3)
        out["others_cores"] = round(max(0.0, others) / wall, 3) if wall > 0 else None
        out["saturated"] = saturated(out)
        return out


def saturated(cpu: dict[str, Any]) -> str:
    """Which side ran out of CPU: a single-threaded asyncio process near 100% of a core,
    or the machine (2 cores) near full."""
    server = cpu.get("server_cpu_util") or 0.0
    loadgen = cpu.get("loadgen_cpu_util") or 0.0
    machine = cpu.get("machine_busy_cores") or 0.0
    sides = []
    if server >= 0.85:
        sides.append("server")
    if loadgen >= 0.85:
        sides.append("loadgen")
    if not sides and machine >= 1.8:
        sides.append("machine")
    return "+".join(sides) if sides else "none"


class Phase:
    """Counters for one measured stretch (a W1 run, one W2 step, ...)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.latencies: list[int] = []
        self.received_at: list[int] = []  # receipt times (ns), parallel to latencies
        self.ack_latencies: list[int] = []
        self.sent = 0
        self.acks = 0
        self.errors: Counter[str] = Counter()
        self.expected = 0  # deliveries expected from messages sent
        self.received = 0
        self.send_lag_max = 0.0  # how far behind schedule a send went out (loadgen saturation)
        self.send_lag_sum = 0.0


# ------------------------------------------------------------------------------- clients


class DirectConnection(ClientConnection):
    """A client connection that hands each complete, unfragmented text frame to ``on_frame``
    (a plain function) straight from ``data_received``, once ``on_frame`` is set.

    The load generator reads ~100,000 frames/s at the top of W2; through ``websockets``'
    ``recv()`` (its frame parser, a queue, a task switch per frame) that cost ~35 µs of the
    load generator's CPU per frame, so it, not the target, decided the result for the fastest
    targets. Here the frame header is read inline and the payload handed over as bytes; every
    other frame (ping, close, binary, fragments) is passed whole, from a frame boundary, to
    ``websockets``, which handles it as usual (close handshake included). Before ``on_frame``
    is set (the server's greeting), everything goes through ``websockets`` and ``recv()``;
    nothing arrives between the greeting and ``on_frame`` being set, as every target speaks
    only when spoken to after its greeting. Server frames are never masked (RFC 6455 5.1);
    payload UTF-8 is checked by the JSON parser.
    """

    on_frame: Callable[[bytes], None] | None = None
    pending = b""

    def data_received(self, data: bytes) -> None:
        on_frame = self.on_frame
        if on_frame is None:
            super().data_received(data)
            return
        buf = self.pending + data if self.pending else data
        pos, end = 0, len(buf)
        while end - pos >= 2:
            first, size = buf[pos], buf[pos + 1]
            head = 2
            if size == 126:
                if end - pos < 4:
                    break
                size, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif size == 127:
                if end - pos < 10:
                    break
                size, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            elif size > 127:  # a masked frame from a server: let websockets fail the connection
                super().data_received(buf[pos:])
                self.pending = b""
                return
            stop = pos + head + size
            if stop > end:
                break
            if first == 0x81:  # FIN, no extension bits, text
                on_frame(buf[pos + head : stop])
            else:
                super().data_received(buf[pos:stop])
            pos = stop
        self.pending = buf[pos:]


class Client:
    __slots__ = (
        "close_code",
        "close_reason",
        "closed_by_us",
        "frames",
        "gaps",
        "hello",
        "idx",
        "joined",
        "last_seq",
        "out_of_order",
        "reader_task",
        "room",
        "token",
        "user",
        "ws",
    )

    def __init__(self, idx: int, user: int, token: str, room: int) -> None:
        self.idx = idx
        self.user = user
        self.token = token
        self.room = room
        self.ws: ClientConnection | None = None
        self.hello: dict[str, Any] | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.last_seq: int | None = None
        self.joined: asyncio.Future[Any] | None = None
        self.reader_task: asyncio.Task[None] | None = None
        self.out_of_order = 0
        self.gaps = 0
        self.frames: Counter[str] = Counter()
        self.closed_by_us = False

    async def close(self) -> None:
        self.closed_by_us = True
        if self.ws is not None:
            await self.ws.close()


class Load:
    """All clients of one loadgen run, their frame handling and the phases being measured."""

    def __init__(self, url: str, connect_concurrency: int, protocol: str = "alongside") -> None:
        self.proto: Protocol = PROTOCOLS[protocol]()
        self.url = self.proto.url(url)
        self.sem = asyncio.Semaphore(connect_concurrency)
        self.clients: list[Client] = []
        self.phases: dict[str, Phase] = {}
        self.inflight: dict[int, tuple[Phase | None, int, asyncio.Future[Any] | None, Client]] = {}
        self.refs = 0
        self.errors: Counter[str] = Counter()  # errors outside any phase (join, connect)
        self.connect_failures: Counter[str] = Counter()
        self.on_message_hook: Any = None  # catchup mode collects frames itself
        self.background: set[asyncio.Future[Any]] = set()  # replies to transport pings, in flight

    def next_ref(self) -> int:
        self.refs += 1
        return self.refs

    async def open(self, client: Client, timeout: float = 30.0) -> bool:
        async with self.sem:
            try:
                ws = await connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {client.token}"},
                    compression=None,
                    proxy=None,
                    max_size=4 * 1024 * 1024,
                    open_timeout=timeout,
                    ping_interval=None,
                    close_timeout=2,
                    user_agent_header="alongside-bench",
                    create_connection=DirectConnection,
                )
            except Exception as exc:
                self.connect_failures[type(exc).__name__] += 1
                return False
            try:
                first = await self.proto.handshake(ws, timeout)
            except HandshakeError as exc:
                self.connect_failures[str(exc)] += 1
                await ws.close()
                return False
            except Exception as exc:
                self.connect_failures["no_hello:" + type(exc).__name__] += 1
                await ws.close()
                return False
            client.ws = ws
            client.hello = first
            if isinstance(ws, DirectConnection):
                ws.on_frame = self.handler(client)  # before anything else can arrive
            client.reader_task = asyncio.create_task(self.reader(client))
            return True

    async def join(self, client: Client, since: int | None, timeout: float = 30.0) -> dict[str, Any] | None:
        assert client.ws is not None
        loop = asyncio.get_running_loop()
        client.joined = loop.create_future()
        client.last_seq = None
        await client.ws.send(
            self.proto.encode({"type": "join", "room": client.room, "since": since, "ref": f"join-{client.idx}"})
        )
        try:
            result = await asyncio.wait_for(asyncio.shield(client.joined), timeout)
        except TimeoutError:
            self.errors["join_timeout"] += 1
            return None
        if result.get("type") != "joined":
            self.errors[f"join:{result.get('code')}"] += 1
            return None
        return result

    async def open_and_join(self, client: Client, since: int | None = None) -> bool:
        if not await self.open(client):
            return False
        async with self.sem:
            return await self.join(client, since) is not None

    async def reader(self, client: Client) -> None:
        """Handles every frame of the client's socket as it is read, until the socket closes.

        Frames are handled by :meth:`handler` directly from the connection's ``data_received``
        (:class:`DirectConnection`), not through ``recv()``; the receipt time is taken when the
        bytes are read, so latency no longer includes a queue inside the load generator.
        """
        ws = client.ws
        assert ws is not None
        try:
            if isinstance(ws, DirectConnection):
                await ws.wait_closed()
            else:
                handle = self.handler(client)
                async for raw in ws:
                    handle(raw)
        except ConnectionClosed:
            pass
        finally:
            client.close_code = ws.close_code
            client.close_reason = ws.close_reason

    def handler(self, client: Client) -> Callable[[Any], None]:
        """The function that takes one text frame (bytes or str) of ``client``'s socket."""
        ws = client.ws
        assert ws is not None
        phases = self.phases
        inflight = self.inflight
        frames = client.frames
        decode = self.proto.decode
        errors = self.errors
        background = self.background

        def handle(raw: Any) -> None:
            now = time.time_ns()
            try:
                frame = decode(raw)
                kind = frame.get("type")
                if kind == "message":
                    seq = frame["seq"]
                    last = client.last_seq
                    if last is not None:
                        if seq <= last:
                            client.out_of_order += 1
                        elif seq != last + 1:
                            client.gaps += 1
                    if last is None or seq > last:
                        client.last_seq = seq
                    if self.on_message_hook is not None:
                        self.on_message_hook(client, frame, now)
                        return
                    tag, _, rest = frame["body"].partition("|")
                    phase = phases.get(tag)
                    if phase is not None:
                        phase.received += 1
                        phase.latencies.append(now - int(rest.partition("|")[0]))
                        phase.received_at.append(now)
                    else:
                        frames["message_other"] += 1
                    return
                if kind == "ack":
                    entry = inflight.pop(frame.get("ref"), None)  # type: ignore[arg-type]
                    if entry is not None:
                        phase, sent_ns, future, _ = entry
                        if phase is not None:
                            phase.acks += 1
                            phase.ack_latencies.append(now - sent_ns)
                        if future is not None and not future.done():
                            future.set_result(frame)
                    frames["ack"] += 1
                    return
                frames[kind] += 1
                if kind == "_control":
                    if frame["reply"] is not None:
                        task = asyncio.ensure_future(ws.send(frame["reply"]))
                        background.add(task)
                        task.add_done_callback(background.discard)
                    return
                if kind == "error":
                    ref = frame.get("ref")
                    code = str(frame.get("code"))
                    entry = inflight.pop(ref, None) if isinstance(ref, int) else None
                    if entry is not None:
                        phase, _, future, _ = entry
                        if phase is not None:
                            phase.errors[code] += 1
                        else:
                            errors[code] += 1
                        if future is not None and not future.done():
                            future.set_result(frame)
                    else:
                        errors[code] += 1
                        if (
                            isinstance(ref, str)
                            and ref.startswith("join-")
                            and client.joined
                            and not client.joined.done()
                        ):
                            client.joined.set_result(frame)
                elif kind == "joined":
                    if client.joined is not None and not client.joined.done():
                        client.joined.set_result(frame)
                elif kind == "member_added":
                    seq = frame.get("seq")
                    if isinstance(seq, int) and (client.last_seq is None or seq > client.last_seq):
                        client.last_seq = seq
            except Exception as exc:
                errors[f"reader:{type(exc).__name__}"] += 1

        return handle

    async def send(
        self, client: Client, phase: Phase | None, body: str, future: bool = False
    ) -> asyncio.Future[Any] | None:
        assert client.ws is not None
        ref = self.next_ref()
        fut = asyncio.get_running_loop().create_future() if future else None
        sent_ns = time.time_ns()
        self.inflight[ref] = (phase, sent_ns, fut, client)
        await client.ws.send(
            self.proto.encode(
                {"type": "send", "room": client.room, "body": body, "client_id": str(uuid.uuid4()), "ref": ref}
            )
        )
        if phase is not None:
            phase.sent += 1
        return fut

    def alive(self) -> list[Client]:
        return [c for c in self.clients if c.ws is not None and c.close_code is None]

    def close_codes(self) -> dict[str, int]:
        """Connections the server closed (or that died) before we closed them ourselves."""
        return dict(Counter(str(c.close_code) for c in self.clients if c.close_code is not None and not c.closed_by_us))

    def outcome(self) -> dict[str, Any]:
        """What every mode reports about its connections: server closes and client-side errors."""
        return {"close_codes": self.close_codes(), "other_errors": dict(self.errors)}

    async def close_all(self, timeout: float = 10.0) -> None:
        for client in self.clients:
            client.closed_by_us = True
            if client.reader_task is not None:
                client.reader_task.cancel()
        tasks = [asyncio.create_task(c.ws.close()) for c in self.clients if c.ws is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
        for client in self.clients:
            if client.ws is not None and client.ws.transport is not None:
                client.ws.transport.abort()


def body_of(tag: str, size: int) -> str:
    head = f"{tag}|{time.time_ns()}|"
    return head + "x" * max(1, size - len(head))


# ---------------------------------------------------------------------------------- modes


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def tokens_of(manifest: dict[str, Any]) -> list[str]:
    tokens = [u.get("token") for u in manifest["users"]]
    if any(t is None for t in tokens):
        raise SystemExit("the manifest has users without a token: run `loadgen.py login` (or seed --mint-sessions)")
    return tokens  # type: ignore[return-value]


def build_clients(manifest: dict[str, Any], group: str, rooms: int, per_room: int) -> list[Client]:
    """Client j of room r is the room's member j (modulo the members: several sockets per person)."""
    tokens = tokens_of(manifest)
    available = manifest["groups"][group]
    if rooms > len(available):
        raise SystemExit(f"group {group} has {len(available)} rooms, {rooms} asked")
    clients = []
    for room in available[:rooms]:
        members = room["members"]
        for j in range(per_room):
            user = members[j % len(members)]
            clients.append(Client(len(clients), user, tokens[user], room["id"]))
    return clients


async def connect_all(load: Load, since: int | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    results = await asyncio.gather(*(load.open_and_join(c, since) for c in load.clients))
    seconds = time.perf_counter() - started
    return {
        "connections": len(load.clients),
        "joined": sum(results),
        "connect_join_s": round(seconds, 3),
        "connections_per_s": round(len(load.clients) / seconds, 1) if seconds > 0 else None,
        "connect_failures": dict(load.connect_failures),
    }


async def paced_sender(
    load: Load, client: Client, population: int, phase: Phase, rate: float, t0: float, t_end: float, size: int
) -> None:
    """Open loop: sends at fixed times whatever the answers; each send should reach ``population`` sockets."""
    loop = asyncio.get_running_loop()
    interval = 1.0 / rate
    due = t0 + random.uniform(0, interval)
    while due < t_end and client.close_code is None:
        now = loop.time()
        if due > now:
            await asyncio.sleep(due - now)
        lag = loop.time() - due
        phase.send_lag_sum += lag
        if lag > phase.send_lag_max:
            phase.send_lag_max = lag
        try:
            await load.send(client, phase, body_of(phase.tag, size))
            phase.expected += population
        except ConnectionClosed:
            phase.errors["send_on_closed"] += 1
            return
        due += interval


async def drain(load: Load, phase: Phase, timeout: float) -> float:
    """Wait until every expected delivery and ack is in (or the timeout); returns seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        waiting_acks = any(entry[0] is phase for entry in load.inflight.values())
        if phase.received >= phase.expected and not waiting_acks:
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def run_fanout_phase(
    load: Load, meter: Meter, tag: str, rate: float, senders: int, duration: float, size: int, drain_s: float
) -> dict[str, Any]:
    phase = Phase(tag)
    load.phases[tag] = phase
    by_room: dict[int, list[Client]] = {}
    for client in load.alive():
        by_room.setdefault(client.room, []).append(client)
    # every delivery a message should produce: one per open, joined socket in its room
    population = {room: len(members) for room, members in by_room.items()}
    sending = [(c, population[c.room]) for members in by_room.values() for c in members[:senders]]

    closed_before = len(load.close_codes())
    loop = asyncio.get_running_loop()
    before = meter.snapshot()
    t0 = loop.time() + 0.05
    t_end = t0 + duration

    await asyncio.gather(*(paced_sender(load, c, p, phase, rate, t0, t_end, size) for c, p in sending))
    sending_s = loop.time() - t0
    drained = await drain(load, phase, drain_s)
    after = meter.snapshot()
    lost = phase.expected - phase.received
    lat = latency_summary(phase.latencies)
    # the worst latency per 500 ms of receipt time: shows whether slow deliveries are periodic
    timeline: dict[int, int] = {}
    if phase.received_at:
        origin = min(phase.received_at)
        for at, latency in zip(phase.received_at, phase.latencies, strict=True):
            bucket = (at - origin) // 500_000_000
            if latency > timeline.get(bucket, 0):
                timeline[bucket] = latency
    return {
        "tag": tag,
        "rooms": len(by_room),
        "clients": sum(population.values()),
        "senders": len(sending),
        "rate_per_sender": rate,
        "duration_s": round(sending_s, 3),
        "offered_msgs_per_s": round(len(sending) * rate, 2),
        "offered_deliveries_per_s": round(sum(p * rate for _, p in sending), 1),
        "sent": phase.sent,
        "acks": phase.acks,
        "errors": dict(phase.errors),
        "expected_deliveries": phase.expected,
        "received_deliveries": phase.received,
        "lost_deliveries": lost,
        "loss_fraction": round(lost / phase.expected, 6) if phase.expected else None,
        "deliveries_per_s": round(phase.received / sending_s, 1) if sending_s > 0 else None,
        "drain_s": round(drained, 3),
        "latency": lat,
        "max_latency_per_500ms": [round(timeline.get(b, 0) / 1e6, 1) for b in range(max(timeline, default=-1) + 1)],
        "ack_latency": latency_summary(phase.ack_latencies),
        "send_lag_max_ms": round(phase.send_lag_max * 1000, 1),
        "send_lag_mean_ms": round(phase.send_lag_sum / phase.sent * 1000, 2) if phase.sent else None,
        "connections_closed_during": len(load.close_codes()) - closed_before,
        "cpu": Meter.window(before, after),
    }


async def mode_fanout(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    deadline = time.monotonic() + args.max_seconds - 5  # room to report and close
    manifest = load_manifest(args.manifest)
    load = Load(args.url, args.connect_concurrency, args.protocol)
    load.clients = build_clients(manifest, args.group, args.rooms, args.clients)
    setup = await connect_all(load)
    await asyncio.sleep(args.settle)
    rates = [float(r) for r in args.rates.split(",")] if args.rates else [args.rate]
    steps: list[dict[str, Any]] = []
    PARTIAL.update({"mode": "fanout", "setup": setup, "steps": steps})
    verdict = None
    samples: dict[str, dict[str, list[int]]] = {}
    for i, rate in enumerate(rates):
        if time.monotonic() + args.duration + 2 > deadline:
            verdict = f"stopped before rate {rate:g}: out of time (--max-seconds)"
            break
        step = await run_fanout_phase(
            load, meter, f"s{i}", rate, args.senders, args.duration, args.body_size, args.drain
        )
        if args.samples:  # bench/flood.py cuts them into before, during and after
            phase = load.phases[f"s{i}"]
            samples[f"s{i}"] = {"received_at_ns": phase.received_at, "latency_ns": phase.latencies}
        p99 = step["latency"]["p99_ms"]
        step["ok"] = (
            step["lost_deliveries"] == 0
            and step["connections_closed_during"] == 0
            and not step["errors"]
            and p99 is not None
            and p99 <= args.p99_limit_ms
        )
        steps.append(step)
        print(
            f"  step rate={rate:g}/s/sender: {step['deliveries_per_s']} deliveries/s, "
            f"loss {step['lost_deliveries']}, p50 {step['latency']['p50_ms']} ms, p99 {p99} ms, "
            f"server cpu {step['cpu']['server_cpu_util']}, loadgen cpu {step['cpu']['loadgen_cpu_util']}",
            file=sys.stderr,
        )
        if len(rates) > 1 and not step["ok"]:
            verdict = f"stopped at rate {rate:g}: loss {step['lost_deliveries']}, p99 {p99} ms"
            break
        if i + 1 < len(rates):
            await asyncio.sleep(args.pause)
    if args.samples:
        args.samples.write_bytes(orjson.dumps(samples))
    passing = [s for s in steps if s["ok"]]
    result = {
        "mode": "fanout",
        "protocol": args.protocol,
        "url": load.url,
        "setup": setup,
        "steps": steps,
        "out_of_order": sum(c.out_of_order for c in load.clients),
        "seq_gaps": sum(c.gaps for c in load.clients),
        **load.outcome(),
        "frames": dict(sum((c.frames for c in load.clients), Counter())),
        "hello_limits": next((c.hello.get("limits") for c in load.clients if c.hello), None),
    }
    if len(rates) > 1:
        result["max_sustained_deliveries_per_s"] = max((s["deliveries_per_s"] for s in passing), default=0)
        result["max_sustained_rate_per_sender"] = max((s["rate_per_sender"] for s in passing), default=0)
        result["verdict"] = verdict or "every step passed"
    await load.close_all()
    return result


async def mode_idle(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    manifest = load_manifest(args.manifest)
    rooms = manifest["groups"][args.group]
    per_room = max(1, args.connections // len(rooms))
    load = Load(args.url, args.connect_concurrency, args.protocol)
    load.clients = build_clients(manifest, args.group, len(rooms), per_room)
    rss_before = meter.rss()
    before = meter.snapshot()
    setup = await connect_all(load)
    after_join = meter.snapshot()
    await asyncio.sleep(args.settle)
    rss_samples = []
    for _ in range(3):
        rss_samples.append(meter.rss())
        await asyncio.sleep(0.5)
    rss_after = max(r for r in rss_samples if r is not None) if any(rss_samples) else None
    idle_before = meter.snapshot()
    await asyncio.sleep(args.idle_window)
    idle_after = meter.snapshot()
    joined = setup["joined"]
    result = {
        "mode": "idle",
        "setup": setup,
        "server_rss_before_mb": round(rss_before / 2**20, 1) if rss_before else None,
        "server_rss_after_mb": round(rss_after / 2**20, 1) if rss_after else None,
        "kb_per_connection": round((rss_after - rss_before) / 1024 / joined, 2)
        if rss_before and rss_after and joined
        else None,
        "connect_cpu": Meter.window(before, after_join),
        "idle_cpu": Meter.window(idle_before, idle_after),
        **load.outcome(),
        "frames": dict(sum((c.frames for c in load.clients), Counter())),
    }
    await load.close_all()
    return result


async def mode_catchup(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    manifest = load_manifest(args.manifest)
    tokens = tokens_of(manifest)
    room = manifest["groups"][args.group][0]
    receiver_user, sender_user = room["members"][0], room["members"][1 % len(room["members"])]
    load = Load(args.url, 4, args.protocol)
    receiver = Client(0, receiver_user, tokens[receiver_user], room["id"])
    sender = Client(1, sender_user, tokens[sender_user], room["id"])
    load.clients = [receiver, sender]
    result: dict[str, Any] = {"mode": "catchup", "messages": args.messages}

    if not await load.open(receiver):
        raise SystemExit(f"receiver could not connect: {dict(load.connect_failures)}")
    joined = await load.join(receiver, None)
    if joined is None:
        raise SystemExit(f"receiver could not join: {dict(load.errors)}")
    since = joined["last_seq"]
    await receiver.close()
    await asyncio.sleep(0.1)
    receiver.ws = None
    receiver.close_code = None
    receiver.closed_by_us = False

    # the messages it misses: sent as fast as acks return, with a window of in-flight sends
    if not await load.open(sender):
        raise SystemExit("sender could not connect")
    phase = Phase("c")
    load.phases["c"] = phase
    window = asyncio.Semaphore(args.window)
    before = meter.snapshot()

    async def one(k: int) -> None:
        async with window:
            fut = await load.send(sender, phase, f"c|{k}|" + "x" * max(1, args.body_size - 12), future=True)
            await fut  # type: ignore[misc]

    await asyncio.wait_for(asyncio.gather(*(one(k) for k in range(args.messages))), args.max_seconds)
    after = meter.snapshot()
    result["fill"] = {
        "acks": phase.acks,
        "errors": dict(phase.errors),
        "seconds": round(after["wall"] - before["wall"], 3),
        "acks_per_s": round(phase.acks / (after["wall"] - before["wall"]), 1),
        "cpu": Meter.window(before, after),
    }
    await sender.close()

    # the rejoin
    got: list[tuple[int, int]] = []
    done = asyncio.get_running_loop().create_future()
    first_at: list[float] = []
    target = phase.acks

    def collect(client: Client, frame: dict[str, Any], now: int) -> None:
        if client is not receiver:
            return
        body = frame["body"]
        if body.startswith("c|"):
            if not first_at:
                first_at.append(time.perf_counter())
            got.append((frame["seq"], int(body.split("|", 2)[1])))
            if len(got) >= target and not done.done():
                done.set_result(None)

    load.on_message_hook = collect
    before = meter.snapshot()
    t_connect = time.perf_counter()
    if not await load.open(receiver):
        raise SystemExit("receiver could not reconnect")
    t_join = time.perf_counter()
    rejoined = await load.join(receiver, since)
    t_joined = time.perf_counter()
    timed_out = False
    try:
        await asyncio.wait_for(done, args.max_seconds / 2)
    except TimeoutError:
        timed_out = True
    t_done = time.perf_counter()
    after = meter.snapshot()
    seqs = [s for s, _ in got]
    ks = [k for _, k in got]
    # seq order on the socket is the protocol's promise; the sender's order (k) of 100 sends in
    # flight at once is not promised, so it is reported apart
    seq_in_order = seqs == list(range(since + 1, since + 1 + len(seqs)))
    send_order_inversions = sum(1 for a, b in itertools.pairwise(ks) if b < a)
    in_order = seq_in_order and send_order_inversions == 0
    result.update(
        {
            "since": since,
            "rejoin_last_seq": rejoined.get("last_seq") if rejoined else None,
            "received": len(got),
            "expected": target,
            "missing": target - len(set(seqs)),
            "duplicates": len(seqs) - len(set(seqs)),
            "in_order": in_order,
            "seq_in_order": seq_in_order,
            "send_order_inversions": send_order_inversions,
            "timed_out": timed_out,
            "connect_s": round(t_join - t_connect, 4),
            "joined_after_s": round(t_joined - t_join, 4),
            "first_message_after_s": round(first_at[0] - t_join, 4) if first_at else None,
            "catchup_s": round(t_done - t_join, 4),
            "catchup_incl_connect_s": round(t_done - t_connect, 4),
            "messages_per_s": round(len(got) / (t_done - t_join), 1) if t_done > t_join else None,
            "cpu": Meter.window(before, after),
            **load.outcome(),
        }
    )
    await load.close_all()
    return result


async def mode_ingest(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    manifest = load_manifest(args.manifest)
    rooms = manifest["groups"][args.group][: args.rooms]
    load = Load(args.url, args.connect_concurrency, args.protocol)
    load.clients = build_clients(manifest, args.group, len(rooms), 1)
    if args.no_join:
        results = await asyncio.gather(*(load.open(c) for c in load.clients))
        setup = {"connections": len(load.clients), "joined": 0, "opened": sum(results)}
    else:
        setup = await connect_all(load)
    await asyncio.sleep(args.settle)
    phase = Phase("i")
    load.phases["i"] = phase
    loop = asyncio.get_running_loop()
    t_end = loop.time() + args.duration
    in_window = [0]
    size = args.body_size

    async def closed_loop(client: Client) -> None:
        while loop.time() < t_end and client.close_code is None:
            try:
                fut = await load.send(client, phase, body_of("i", size), future=True)
            except ConnectionClosed:
                return
            frame = await fut  # type: ignore[misc]
            if frame.get("type") == "ack" and loop.time() <= t_end:
                in_window[0] += 1

    before = meter.snapshot()
    t0 = loop.time()
    tasks = [asyncio.create_task(closed_loop(c)) for c in load.alive()]
    _, pending = await asyncio.wait(tasks, timeout=args.duration + args.drain)
    for task in pending:
        task.cancel()
    elapsed = min(loop.time(), t_end) - t0
    after = meter.snapshot()
    result = {
        "mode": "ingest",
        "setup": setup,
        "senders": len(tasks),
        "duration_s": round(elapsed, 3),
        "sent": phase.sent,
        "acks": phase.acks,
        "acks_in_window": in_window[0],
        "acked_msgs_per_s": round(in_window[0] / elapsed, 1) if elapsed > 0 else None,
        "errors": dict(phase.errors),
        "unanswered": len(pending),
        "ack_latency": latency_summary(phase.ack_latencies),
        "echo_deliveries": phase.received,
        "echo_latency": latency_summary(phase.latencies),
        "cpu": Meter.window(before, after),
        **load.outcome(),
    }
    await load.close_all()
    return result


async def mode_login(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    import httpx

    manifest = load_manifest(args.manifest)
    sem = asyncio.Semaphore(args.connect_concurrency)
    failures: Counter[str] = Counter()
    timings: list[int] = []

    async with httpx.AsyncClient(base_url=args.base, trust_env=False, timeout=60) as http:

        async def one(user: dict[str, Any]) -> None:
            async with sem:
                t = time.perf_counter_ns()
                response = await http.post(
                    "/api/auth/login", json={"username": user["username"], "password": manifest["password"]}
                )
                timings.append(time.perf_counter_ns() - t)
                if response.status_code != 200:
                    failures[str(response.status_code)] += 1
                    return
                user["token"] = response.json()["token"]

        users = manifest["users"][: args.login_users] if args.login_users else manifest["users"]
        before = meter.snapshot()
        await asyncio.gather(*(one(u) for u in users))
        after = meter.snapshot()
    if args.write_manifest:
        args.write_manifest.write_text(json.dumps(manifest))
    return {
        "mode": "login",
        "users": len(users),
        "failures": dict(failures),
        "latency": latency_summary(timings),
        "logins_per_s": round(len(timings) / (after["wall"] - before["wall"]), 1),
        "cpu": Meter.window(before, after),
    }


PARTIAL: dict[str, Any] = {}  # what a mode has measured so far, reported if it runs out of time

MODES = {"fanout": mode_fanout, "idle": mode_idle, "catchup": mode_catchup, "ingest": mode_ingest, "login": mode_login}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=sorted(MODES))
    p.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    p.add_argument(
        "--protocol",
        choices=sorted(PROTOCOLS),
        default="alongside",
        help="how to speak to the target: our server, bench/ceiling.py, or a peer in bench/peers/ (fanout only)",
    )
    p.add_argument("--base", default="http://127.0.0.1:8000", help="HTTP base (login mode)")
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--write-manifest", type=Path, help="login: write the manifest with tokens here")
    p.add_argument("--login-users", type=int, help="login: only the first N users (the rest keep minted tokens)")
    p.add_argument("--group", default="w1")
    p.add_argument("--rooms", type=int, default=20)
    p.add_argument("--clients", type=int, default=25, help="connections per room")
    p.add_argument("--senders", type=int, default=2, help="senders per room")
    p.add_argument("--rate", type=float, default=2.0, help="messages/s per sender")
    p.add_argument("--rates", help="W2: comma-separated rates to step through")
    p.add_argument("--p99-limit-ms", type=float, default=250.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--drain", type=float, default=10.0, help="max seconds to wait for stragglers")
    p.add_argument("--pause", type=float, default=1.0, help="seconds between W2 steps")
    p.add_argument("--settle", type=float, default=2.0, help="seconds between joining and measuring")
    p.add_argument("--idle-window", type=float, default=5.0, help="idle: seconds of idle CPU measured")
    p.add_argument("--connections", type=int, default=5000)
    p.add_argument("--messages", type=int, default=10000)
    p.add_argument("--window", type=int, default=100, help="catchup: sends in flight while filling")
    p.add_argument("--no-join", action="store_true", help="ingest: send without joining")
    p.add_argument("--body-size", type=int, default=100)
    p.add_argument(
        "--samples", type=Path, help="fanout: write every delivery's receipt time and latency (ns) per step, as JSON"
    )
    p.add_argument("--connect-concurrency", type=int, default=64)
    p.add_argument("--server-pid", type=int)
    p.add_argument("--aux-pid", type=int, action="append", default=[], help="e.g. redis-server, counted as a backend")
    p.add_argument("--max-seconds", type=float, default=300.0, help="hard bound on the whole run")
    p.add_argument("--loop", choices=["auto", "uvloop", "asyncio"], default="auto", help="event loop (auto: uvloop)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    for url in (args.url, args.base):
        host = url.split("//", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if host not in ("127.0.0.1", "localhost", "[::1]"):
            p.error(f"refusing to target {host}: the benchmark only runs against this machine")
    return args


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    meter = Meter(args.server_pid, tuple(args.aux_pid))
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(MODES[args.mode](args, meter), args.max_seconds)
    except TimeoutError:
        result = {"mode": args.mode, **PARTIAL, "error": f"timed out after {args.max_seconds} s"}
        steps = [s for s in result.get("steps", []) if s.get("ok")]
        if steps:
            result["max_sustained_deliveries_per_s"] = max(s["deliveries_per_s"] for s in steps)
            result["max_sustained_rate_per_sender"] = max(s["rate_per_sender"] for s in steps)
            result["verdict"] = "out of time (--max-seconds) after the steps listed"
    result["loadgen_wall_s"] = round(time.perf_counter() - started, 3)
    return result


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop (as uvicorn uses for the servers) unless asked for asyncio's own loop: with the
    asyncio loop, every read costs the load generator tens of µs of Python, and it, not the
    target, became the bottleneck of the fastest targets."""
    if name == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if name == "uvloop":
            raise
        return None
    return uvloop.new_event_loop  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # last resort: whatever happens, this process is gone shortly after --max-seconds
    signal.signal(signal.SIGALRM, lambda *_: os._exit(3))
    signal.alarm(int(args.max_seconds) + 30)
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        result = runner.run(amain(args))
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text)
    else:
        print(text)
    status = 0 if "error" not in result else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
