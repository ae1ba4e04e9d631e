"""The soak bench (issue 7, "Operations"): W1 traffic for 20 minutes with a server process
restarted every 5 minutes; memory over time, loss, and p99 latency per minute.

    .venv/bin/python bench/soak.py                 # 20 minutes, 2 processes behind Redis + PostgreSQL
    .venv/bin/python bench/soak.py --minutes 2     # a short run: restarts every 30 s

W1 (shared/BENCHMARKS.md): 20 rooms x 25 connections (one person each), 2 senders per room
at 2 msg/s each, open loop. The configuration is ``redis-pg`` by default: ``--processes``
(2) server processes (``bench/run.py``'s ``Server``, the same flags as every sitting) share
a fresh PostgreSQL database and a private Redis, and clients are spread over them like a
load balancer would. Every ``--restart-every`` seconds (300; with fewer than 20 minutes, a
quarter of the run) the next process in turn is restarted: SIGTERM (``--kill``: SIGKILL),
then started again on the same port. Its clients, closed with 1012 (or cut), reconnect to
the next process that answers (after the browser client's backoff: between half and all of
1 s, 2 s, 4 s, … capped at 30 s), rejoin with ``since`` (the last seq they hold) and resend
what was never acknowledged with the same ``client_id``, as the protocol asks
(docs/protocol.md); a send answered by an error is sent again 2 s later, and a join
answered by ``joined`` and then an error for the same ``ref`` is made again. A graceful
stop is given 30 s before SIGKILL. ``--config embedded`` runs one process on SQLite: its
clients wait for it to come back.

The load generator is this process. Each client keeps, per room, which seqs it received
(a bitmap), so at the end (after draining up to 60 s):

- *loss*: deliveries missing: for every member of a room, every acknowledged seq of that room
  it never received (zero is the promise);
- *duplicates*: a seq a client received twice (across reconnects too);
- *doubled*: a ``client_id`` stored under two seqs (a retry that made a second message);
- *unacknowledged*: sends never acknowledged, even after retries.

Latency is receipt time minus the send time embedded in the body (the first send, so a
message resent after a restart counts its whole wait), bucketed per minute of receipt:
p50/p99/max per minute. Each server process's RSS is sampled every 5 s: per minute and per
incarnation (a restarted process starts a new one), with the growth from its first full
minute to its last. Writes ``bench/results/soak-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import psutil
from loadgen import latency_summary, loop_factory
from run import CHILDREN, RESULTS, Prepared, Server, log, server_log_problems, start_sitting
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOMS, MEMBERS, SENDERS, RATE = 20, 25, 2, 2.0
BODY = 100
# as the browser client (client_web/js/socket.js): full jitter between half and all of a capped
# exponential delay, reset once a connection has lived 10 s
BACKOFF_BASE, BACKOFF_MAX, STABLE_AFTER = 1.0, 30.0, 10.0


def backoff(attempt: int) -> float:
    cap = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** min(attempt, 16))
    return cap / 2 + random.random() * cap / 2


class Stats:
    """Everything the clients measure, shared by all of them."""

    def __init__(self, started: float) -> None:
        self.started = started  # time.time() at the start of sending
        self.latency_by_minute: dict[int, list[int]] = {}
        self.acked: dict[str, tuple[int, int]] = {}  # client_id -> (room, seq)
        self.doubled: set[str] = set()
        self.stored: dict[str, int] = {}  # client_id -> seq, from message frames
        self.errors: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()
        self.reconnects = 0
        self.resume_s: list[float] = []  # from losing a socket to having rejoined
        self.duplicates = 0
        self.join_failed_after_joined = 0  # `joined`, then an error for the same join
        self.gaps = 0
        self.sent = 0
        self.resent = 0


class Member:
    """One connection of one person in one room; reconnects and resumes by itself."""

    def __init__(self, index: int, token: str, room: int, servers: list[str], stats: Stats) -> None:
        self.index = index
        self.token = token
        self.room = room
        self.servers = servers
        self.at = index % len(servers)
        self.stats = stats
        self.ws: ClientConnection | None = None
        self.last_seq: int | None = None
        self.seen = bytearray()
        self.unacked: dict[str, str] = {}  # client_id -> body, in send order
        self.joined: asyncio.Future[dict[str, Any]] | None = None
        self.online = asyncio.Event()
        self.stopping = False
        self.rejoin: asyncio.Future[None] | None = None
        self.retry: set[str] = set()  # sends refused with an error: sent again a little later
        self.sock: ClientConnection | None = None  # the socket being joined or in use
        self.joins: list[tuple[str, int | None, int | None]] = []  # (why, since, joined last_seq): diagnostics
        self.attempt = 0

    def _got(self, seq: int) -> None:
        if seq >= len(self.seen):
            self.seen.extend(b"\0" * (seq + 4096 - len(self.seen)))
        if self.seen[seq]:
            self.stats.duplicates += 1
            return
        self.seen[seq] = 1
        if self.last_seq is not None and seq != self.last_seq + 1:
            self.stats.gaps += 1
        if self.last_seq is None or seq > self.last_seq:
            self.last_seq = seq

    def handle(self, raw: str | bytes) -> None:
        now = time.time_ns()
        frame = orjson.loads(raw)
        kind = frame.get("type")
        stats = self.stats
        if kind == "message" and frame.get("room") == self.room:
            self._got(frame["seq"])
            body = frame.get("body") or ""
            if body.startswith("soak|"):
                sent_ns = int(body.split("|", 2)[1])
                minute = int((now / 1e9 - stats.started) // 60)
                stats.latency_by_minute.setdefault(minute, []).append(now - sent_ns)
                cid = frame.get("client_id")
                known = stats.stored.setdefault(cid, frame["seq"])
                if known != frame["seq"]:
                    stats.doubled.add(cid)
        elif kind == "ack":
            cid = frame.get("client_id")
            self.unacked.pop(cid, None)
            if stats.acked.setdefault(cid, (self.room, frame["seq"]))[1] != frame["seq"]:
                stats.doubled.add(cid)
        elif kind == "joined":
            if self.joined is not None and not self.joined.done():
                self.joined.set_result(frame)
        elif kind == "error":
            stats.errors[str(frame.get("code"))] += 1
            if frame.get("ref") in self.unacked:
                self.retry.add(frame["ref"])
            if frame.get("ref") == "join":
                if self.joined is not None and not self.joined.done():
                    self.joined.set_result(frame)
                elif self.sock is not None:  # the join failed after `joined` came: join again from what we hold
                    stats.join_failed_after_joined += 1
                    self.joins.append(("again", self.last_seq, None))
                    self.rejoin = asyncio.ensure_future(self._join(self.sock, self.last_seq))

    async def _connect(self) -> ClientConnection:
        """The next process that answers, from the one this client was on (a balancer's view),
        after the browser client's backoff."""
        while True:
            if self.attempt:
                await asyncio.sleep(backoff(self.attempt - 1))
            self.attempt += 1
            url = self.servers[self.at]
            try:
                return await connect(
                    url,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    compression=None,
                    proxy=None,
                    open_timeout=10,
                    ping_interval=None,
                    close_timeout=2,
                    max_size=8 * 1024 * 1024,
                )
            except Exception:
                self.at = (self.at + 1) % len(self.servers)

    async def run(self) -> None:
        """Connect, join (with ``since`` after the first time), resend, read until closed; again."""
        first = True
        ready_at = 0.0
        while not self.stopping:
            lost_at = time.monotonic()
            ws = await self._connect()
            try:
                hello = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                if hello.get("type") != "hello":
                    raise ConnectionError(str(hello.get("code")))
                self.joined = asyncio.get_running_loop().create_future()
                reader = asyncio.create_task(self._read(ws))
                since = None if first else self.last_seq
                self.sock = ws
                await self._join(ws, since)
                joined = await asyncio.wait_for(asyncio.shield(self.joined), 30)
                self.joins.append(("join", since, joined.get("last_seq")))
                if joined.get("type") != "joined":
                    raise ConnectionError(str(joined.get("code")))
                if first and self.last_seq is None:
                    self.last_seq = joined["last_seq"]
                if not first:
                    self.stats.reconnects += 1
                    self.stats.resume_s.append(time.monotonic() - lost_at)
                first = False
                self.ws = ws
                self.online.set()
                ready_at = time.monotonic()
                for cid, body in list(self.unacked.items()):  # the same client_id: never a second message
                    self.stats.resent += 1
                    await self._send(ws, cid, body)
                await reader
            except (ConnectionClosed, ConnectionError, OSError, TimeoutError):
                pass
            finally:
                if self.online.is_set() and time.monotonic() - ready_at > STABLE_AFTER:
                    self.attempt = 0
                self.online.clear()
                self.ws = self.sock = None
                if ws.close_code is not None:
                    self.stats.closes[str(ws.close_code)] += 1
                await ws.close()
            if not self.stopping:
                self.at = (self.at + 1) % len(self.servers)  # the one we were on is going away

    async def _join(self, ws: ClientConnection, since: int | None) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            await ws.send(orjson.dumps({"type": "join", "room": self.room, "since": since, "ref": "join"}).decode())

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                self.handle(raw)

    async def _send(self, ws: ClientConnection, cid: str, body: str) -> None:
        frame = {"type": "send", "room": self.room, "body": body, "client_id": cid, "ref": cid}
        await ws.send(orjson.dumps(frame).decode())

    async def sender(self, rate: float, until: float) -> None:
        """Open loop: a message every 1/rate s whatever happens; one sent while offline waits
        (like a real client's outbox) and goes out after the rejoin."""
        loop = asyncio.get_running_loop()
        due = loop.time() + random.uniform(0, 1 / rate)
        while due < until:
            await asyncio.sleep(max(0.0, due - loop.time()))
            cid = str(uuid.uuid4())
            head = f"soak|{time.time_ns()}|"
            body = head + "x" * (BODY - len(head))
            self.unacked[cid] = body
            self.stats.sent += 1
            ws = self.ws
            if ws is not None:
                with contextlib.suppress(ConnectionClosed, OSError):  # else resent after the rejoin
                    await self._send(ws, cid, body)
            due += 1 / rate

    async def retry_refused(self) -> None:
        """Sends answered by an error (``unavailable``, ``internal``, ``rate_limited``) go again,
        with the same ``client_id``, 2 s later (the browser client's first automatic retry)."""
        while not self.stopping:
            await asyncio.sleep(2 + random.random() * 0.5)
            ws = self.ws
            if ws is None or not self.retry:
                continue
            due, self.retry = self.retry, set()
            for cid in due:
                body = self.unacked.get(cid)
                if body is None:
                    continue
                self.stats.resent += 1
                try:
                    await self._send(ws, cid, body)
                except (ConnectionClosed, OSError):
                    break


class Processes:
    """The server processes, restarted in turn; their RSS sampled every 5 s."""

    def __init__(self, p: Prepared, count: int, stamp: str, logs: Path) -> None:
        self.servers = [Server(p.config, logs / f"{stamp}-soak-server{k}.log") for k in range(count)]
        self.incarnation = [0] * count
        self.rss: list[dict[str, Any]] = []
        self.restarts: list[dict[str, Any]] = []

    def start(self) -> None:
        for server in self.servers:
            server.start()

    async def sample(self, started: float) -> None:
        while True:
            for k, server in enumerate(self.servers):
                proc = server.proc
                if proc is None or proc.poll() is not None:
                    continue
                try:
                    rss = psutil.Process(proc.pid).memory_info().rss
                except psutil.Error:
                    continue
                self.rss.append(
                    {
                        "t": round(time.time() - started, 1),
                        "server": k,
                        "life": self.incarnation[k],
                        "mb": round(rss / 2**20, 1),
                    }
                )
            await asyncio.sleep(5)

    async def restart(self, k: int, kill: bool, started: float) -> None:
        server = self.servers[k]
        t = time.time()
        if kill and server.proc is not None:
            server.proc.send_signal(signal.SIGKILL)
        # a graceful stop gets 30 s (run.py gives 10) before SIGKILL: its duration is a figure here
        exit_code = {"exit_code": await asyncio.to_thread(CHILDREN.stop, server.proc, 30.0)} if server.proc else {}
        down = time.time()
        await asyncio.to_thread(server.start)
        self.incarnation[k] += 1
        entry = {
            "at_s": round(t - started, 1),
            "server": k,
            "signal": "SIGKILL" if kill else "SIGTERM",
            "stopped_in_s": round(down - t, 2),
            "back_in_s": round(time.time() - t, 2),
            "exit": exit_code.get("exit_code"),  # -15: stopped by SIGTERM after a clean shutdown
        }
        self.restarts.append(entry)
        log(
            f"restarted server {k} ({entry['signal']}): down {entry['stopped_in_s']} s, "
            f"serving again after {entry['back_in_s']} s"
        )


def per_minute(stats: Stats) -> list[dict[str, Any]]:
    return [{"minute": m, **latency_summary(v)} for m, v in sorted(stats.latency_by_minute.items())]


def memory(rss: list[dict[str, Any]]) -> dict[str, Any]:
    """Per minute (max per server) and per incarnation: its first full minute against its last."""
    by_minute: dict[int, dict[str, float]] = {}
    lives: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in rss:
        minute = int(r["t"] // 60)
        key = f"server{r['server']}"
        by_minute.setdefault(minute, {})[key] = max(by_minute.get(minute, {}).get(key, 0), r["mb"])
        lives.setdefault((r["server"], r["life"]), []).append(r)
    incarnations = []
    for (k, life), samples in sorted(lives.items()):
        t0 = samples[0]["t"]
        first = [s["mb"] for s in samples if 60 <= s["t"] - t0 < 120] or [
            s["mb"] for s in samples[: max(1, len(samples) // 4)]
        ]
        last = [s["mb"] for s in samples if s["t"] > samples[-1]["t"] - 60]
        lived = samples[-1]["t"] - t0
        incarnations.append(
            {
                "server": k,
                "life": life,
                "from_s": t0,
                "lived_s": round(lived, 1),
                "first_minute_mb": round(max(first), 1),
                "last_minute_mb": round(max(last), 1),
                "growth_mb": round(max(last) - max(first), 1),
                "peak_mb": max(s["mb"] for s in samples),
            }
        )
    return {"by_minute": [{"minute": m, **v} for m, v in sorted(by_minute.items())], "incarnations": incarnations}


async def soak(args: argparse.Namespace, p: Prepared, stamp: str, logs: Path) -> dict[str, Any]:
    manifest = json.loads(p.manifest.read_text())
    procs = Processes(p, args.processes, stamp, logs)
    await asyncio.to_thread(procs.start)
    urls = [s.ws_url for s in procs.servers]
    stats = Stats(time.time())
    members: list[Member] = []
    for room in manifest["groups"]["w1"]:
        for user in room["members"][:MEMBERS]:
            members.append(Member(len(members), manifest["users"][user]["token"], room["id"], urls, stats))
    runners = [asyncio.create_task(m.run()) for m in members]
    deadline = time.monotonic() + 120
    while not all(m.online.is_set() for m in members):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{sum(not m.online.is_set() for m in members)} clients could not join")
        await asyncio.sleep(0.2)
    log(f"{len(members)} clients joined across {len(urls)} process(es); sending for {args.minutes:g} min")
    loop = asyncio.get_running_loop()
    stats.started = time.time()
    sampler = asyncio.create_task(procs.sample(stats.started))
    until = loop.time() + args.minutes * 60
    by_room: dict[int, list[Member]] = {}
    for m in members:
        by_room.setdefault(m.room, []).append(m)
    senders = [m for room in by_room.values() for m in room[:SENDERS]]
    tasks = [asyncio.create_task(m.sender(RATE, until)) for m in senders]
    tasks += [asyncio.create_task(m.retry_refused()) for m in senders]
    restart_every = args.restart_every or (300.0 if args.minutes >= 20 else args.minutes * 60 / 4)
    k = logged = 0
    next_restart = loop.time() + restart_every
    while loop.time() < until:
        await asyncio.sleep(min(1.0, max(0.0, until - loop.time())))
        if loop.time() >= next_restart and loop.time() < until - 5:
            await procs.restart(k % len(procs.servers), args.kill, stats.started)
            k += 1
            # the cadence holds, but a slow restart never makes the next one follow at once
            next_restart = max(next_restart + restart_every, loop.time() + restart_every / 2)
        minute = int((time.time() - stats.started) // 60)
        if minute > logged:
            logged = minute
            row = latency_summary(stats.latency_by_minute.get(minute - 1, []))
            log(
                f"minute {minute - 1}: p99 {row['p99_ms']} ms over {row['n']} deliveries; "
                f"sent {stats.sent}, acked {len(stats.acked)}, reconnects {stats.reconnects}"
            )
    # drain: every send acknowledged, every acknowledged seq at every member of its room
    drain_until = time.monotonic() + 60
    while time.monotonic() < drain_until:
        waiting = sum(len(m.unacked) for m in senders)
        missing = _missing(by_room, stats)
        if not waiting and not missing:
            break
        await asyncio.sleep(1.0)
    drained = round(60 - (drain_until - time.monotonic()), 1)
    for m in members:
        m.stopping = True
        if m.ws is not None:
            await m.ws.close()
    for task in [*tasks, *runners, sampler]:
        task.cancel()
    await asyncio.gather(*tasks, *runners, sampler, return_exceptions=True)
    missing = _missing(by_room, stats)
    last_acked: dict[int, int] = {}
    for room, seq in stats.acked.values():
        last_acked[room] = max(seq, last_acked.get(room, 0))
    acked_by_room: dict[int, list[int]] = {}
    for room, seq in stats.acked.values():
        acked_by_room.setdefault(room, []).append(seq)
    missing_at = []
    for m in members:
        gone = sorted(s for s in acked_by_room.get(m.room, []) if s >= len(m.seen) or not m.seen[s])
        if gone:
            missing_at.append({"member": m.index, "room": m.room, "seqs": gone[:50], "joins": m.joins[-10:]})
    behind = [
        {
            "room": m.room,
            "member": m.index,
            "online": m.online.is_set(),
            "last_seq": m.last_seq,
            "room_last_acked": last_acked.get(m.room),
        }
        for m in members
        if m.last_seq is not None and m.last_seq < last_acked.get(m.room, 0)
    ]
    result = {
        "minutes": args.minutes,
        "processes": len(procs.servers),
        "restart_every_s": restart_every,
        "restarts": procs.restarts,
        "clients": len(members),
        "senders": len(senders),
        "sent": stats.sent,
        "acked": len(stats.acked),
        "unacknowledged": sum(len(m.unacked) for m in senders),
        "resent": stats.resent,
        "expected_deliveries": sum(len(by_room[room]) for room, _ in stats.acked.values()),
        "lost_deliveries": missing,
        "duplicates": stats.duplicates,
        "doubled_client_ids": len(stats.doubled),
        "seq_gaps_seen": stats.gaps,
        "members_behind_at_end": behind[:20],
        "members_behind_count": len(behind),
        "members_missing": missing_at[:20],
        "join_failed_after_joined": stats.join_failed_after_joined,
        "drain_s": drained,
        "reconnects": stats.reconnects,
        "resume_s": latency_summary([int(s * 1e9) for s in stats.resume_s]),
        "client_close_codes": dict(stats.closes),
        "errors": dict(stats.errors),
        "latency_per_minute": per_minute(stats),
        "latency_all": latency_summary([v for vs in stats.latency_by_minute.values() for v in vs]),
        "memory": memory(procs.rss),
        "rss_samples": procs.rss,
    }
    result["servers"] = [s.stop() for s in procs.servers]
    result["server_log_problems"] = {f"server{k}": server_log_problems(s.log_path) for k, s in enumerate(procs.servers)}
    return result


def _missing(by_room: dict[int, list[Member]], stats: Stats) -> int:
    missing = 0
    for room, seq in stats.acked.values():
        for m in by_room[room]:
            if seq >= len(m.seen) or not m.seen[seq]:
                missing += 1
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0, help="minutes of traffic (default 20)")
    parser.add_argument("--restart-every", type=float, help="seconds between restarts (300; shorter runs: a quarter)")
    parser.add_argument("--processes", type=int, default=2, help="server processes behind Redis (redis-pg)")
    parser.add_argument("--config", choices=["redis-pg", "embedded"], default="redis-pg")
    parser.add_argument("--kill", action="store_true", help="restart with SIGKILL instead of SIGTERM")
    parser.add_argument("--lock-wait", type=float, default=1200, help="seconds to wait for another sitting")
    args = parser.parse_args(argv)
    if args.config == "embedded":
        args.processes = 1  # SQLite and in-process fan-out: one process
    _lock, stamp, logs, report = start_sitting("soak", args.lock_wait, config=args.config)
    p = Prepared(args.config, users=ROOMS * MEMBERS, groups=[("w1", ROOMS, MEMBERS)])
    p.config.overrides["LIMIT_UPGRADES_PER_SECOND"] = None  # as deployed: restarts are what the pacing is for
    try:
        p.setup()
        with asyncio.Runner(loop_factory=loop_factory("auto")) as runner:
            report["result"] = runner.run(soak(args, p, stamp, logs))
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        report["interrupted"] = True
    except Exception as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
        log(f"FAILED: {report['error']}")
    finally:
        CHILDREN.stop_all()
        p.teardown()
        report["machine"]["loadavg_end"] = os.getloadavg()
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"soak-{stamp}.json"
        out.write_text(json.dumps(report, indent=1, default=str))
    r = report.get("result")
    if r:
        print()
        print(
            f"soak: {r['minutes']:g} min of W1, {r['processes']} process(es) ({args.config}), "
            f"{len(r['restarts'])} restarts"
        )
        print(
            f"  sent {r['sent']:,}, acked {r['acked']:,}, unacknowledged {r['unacknowledged']}, resent {r['resent']}; "
            f"lost deliveries {r['lost_deliveries']} of {r['expected_deliveries']:,}, duplicates {r['duplicates']}, "
            f"doubled client_ids {r['doubled_client_ids']}"
        )
        print(
            f"  reconnects {r['reconnects']} (resume p50 {r['resume_s']['p50_ms']} ms, "
            f"max {r['resume_s']['max_ms']} ms); closes {r['client_close_codes']}; errors {r['errors']}"
        )
        stops = sorted(e["stopped_in_s"] for e in r["restarts"] if e["signal"] == "SIGTERM")
        if stops:
            unclean = sum(e["exit"] != -15 for e in r["restarts"] if e["signal"] == "SIGTERM")
            print(
                f"  graceful stops: {len(stops)}, {stops[0]}-{stops[-1]} s (median {stops[len(stops) // 2]} s); "
                f"{unclean} exited otherwise than a clean SIGTERM (-15; -9: killed after 30 s)"
            )
        print(
            "  p99 per minute (ms): "
            + ", ".join(f"{row['minute']}: {row['p99_ms']}" for row in r["latency_per_minute"])
        )
        for life in r["memory"]["incarnations"]:
            print(
                f"  server{life['server']} life {life['life']}: {life['lived_s']:.0f} s, RSS first minute "
                f"{life['first_minute_mb']} MB -> last minute {life['last_minute_mb']} MB ({life['growth_mb']:+} MB)"
            )
    log(f"results in {out}")
    return 0 if r and not report.get("interrupted") else 1


if __name__ == "__main__":
    sys.exit(main())
