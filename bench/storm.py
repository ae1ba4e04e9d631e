"""The reconnect storm bench: what pacing WebSocket upgrades (``limits.upgrades_per_second``)
costs the people reconnecting, and what it spares the rooms already open.

    .venv/bin/python bench/storm.py                      # rates 0 (none), 100, 200; 3 rounds (about 8 minutes)
    .venv/bin/python bench/storm.py --rates 0,100 --rounds 1

A process restart or a proxy's reload sends every client of a process back at once: the
legitimate twin of a flood's first wave (bench/flood.py), which the upgrade rate is there to
spread. Each run starts a fresh server (``bench/run.py``'s ``Server`` on a database seeded once
by its ``Prepared``) with one rate (``0``: turns only, as before 2026-11-29), starts W1-like
traffic in a ``bench/loadgen.py fanout`` process (20 rooms x 25 connections, 2 senders per
room at 2 msg/s) recording every delivery, waits the *before* window, and then opens
``--sockets`` (500) sockets at once for the 50 people of their own (10 sockets each, valid
sessions), each reading its ``hello``. The storm's client runs under ``SCHED_IDLE``, as the
flood's does: a real storm's clients are not on the server's cores. A *control* run (no
storm) goes with each round. Runs go in a rotating order (round 1: 0, 100, 200, control;
round 2: control, 200, 100, 0; ...) so a drift of the shared machine falls on every arm.

Reported per run and as medians per arm: how long the storm's sockets took to open (from the
storm's start to each ``hello``: p50 and the last), how many opened, and the rooms' latency
p50/p99 before and in the storm's first 5 s (with the control runs' same window), and the p99
of each of those 5 seconds. Writes ``bench/results/storm-<timestamp>.json``.

What it leaves out: a real reconnect also joins its rooms with ``since`` and catches up;
here the storm's people are members of no room, so only the handshake is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from flood import FLOODERS, MEASURED_MEMBERS, attacker_priority, by_second, med, shape, w1_traffic, wait_joined, window
from run import CHILDREN, RESULTS, Prepared, Server, log, start_sitting
from websockets.asyncio.client import connect

STORM_S = 5.0  # the window measured from the storm's start
RATE_SETTING, BURST_SETTING = "LIMIT_UPGRADES_PER_SECOND", "LIMIT_UPGRADE_BURST"


async def storm(server: Server, tokens: list[str], sockets: int) -> dict[str, Any]:
    """Open ``sockets`` sockets at once (the tokens in turn), each until its ``hello``; close them
    all once every one has answered (or 60 s passed) and the measured window is over (their
    closing together is not part of a reconnect storm)."""
    started = time.time_ns()
    t0 = time.perf_counter()
    opened: list[float] = []
    failures: Counter[str] = Counter()
    held = []

    async def one(k: int) -> None:
        try:
            ws = await connect(
                server.ws_url,
                additional_headers={"Authorization": f"Bearer {tokens[k % len(tokens)]}"},
                compression=None,
                proxy=None,
                open_timeout=60,
                ping_interval=None,
                close_timeout=2,
            )
            hello = orjson.loads(await asyncio.wait_for(ws.recv(), 60))
            if hello.get("type") != "hello":
                raise RuntimeError(f"first frame {hello.get('type')}")
            opened.append(time.perf_counter() - t0)
            held.append(ws)
        except Exception as exc:
            failures[type(exc).__name__] += 1

    with attacker_priority("idle"):
        await asyncio.gather(*(one(k) for k in range(sockets)))
        await asyncio.sleep(max(0.0, STORM_S + 1.0 - (time.perf_counter() - t0)))
        await asyncio.gather(*(ws.close() for ws in held), return_exceptions=True)
    opened.sort()
    return {
        "started_ns": started,
        "sockets": sockets,
        "opened": len(opened),
        "failures": dict(failures),
        "open_p50_s": round(statistics.median(opened), 3) if opened else None,
        "open_last_s": round(opened[-1], 3) if opened else None,
    }


async def one_run(
    p: Prepared, n: int, arm: str, sockets: int, s: dict[str, Any], logs: Path, stamp: str
) -> dict[str, Any]:
    """One run of ``arm``: a rate (a storm against a server with that upgrade rate) or "control"."""
    manifest = json.loads(p.manifest.read_text())
    tokens = [u["token"] for u in manifest["users"][-FLOODERS:]]  # people in no measured room
    p.config.overrides[RATE_SETTING] = "0" if arm == "control" else arm
    server = Server(p.config, logs / f"{stamp}-storm-{n}-server.log")
    server.start()
    samples_path = p.workdir / f"storm-samples-{n}.json"
    traffic_s = s["before_s"] + STORM_S + 10
    out: dict[str, Any] = {"run": n, "arm": arm}
    try:
        traffic = w1_traffic(server, p, s, p.workdir / f"storm-w1-{n}.json", traffic_s, samples_path)
        await wait_joined(server, s["rooms"] * s["clients"], 120)
        traffic_from = time.time_ns() + int(1.0e9)
        await asyncio.sleep(1.0 + s["before_s"])
        if arm == "control":
            start = time.time_ns()
            await asyncio.sleep(STORM_S)
        else:
            out["storm"] = await storm(server, tokens, sockets)
            start = out["storm"]["started_ns"]
        w1 = await traffic
        step = (w1.get("steps") or [{}])[0]
        out["w1_loss"] = step.get("lost_deliveries")
        data = orjson.loads(samples_path.read_bytes()).get("s0", {"received_at_ns": [], "latency_ns": []})
        out["latency"] = {
            "before": window(data, traffic_from, start),
            "first_5s": window(data, start, start + int(STORM_S * 1e9)),
        }
        out["p99_by_second"] = [p99 for _, _, p99 in by_second(data, start, start + int(STORM_S * 1e9), start)]
    finally:
        out["server"] = server.stop()
    return out


def order(arms: list[str], round_no: int) -> list[str]:
    """Round 1 in the given order, round 2 reversed, round 3 rotated by one, ...: every arm
    takes each place in turn."""
    shift = round_no // 2
    turned = arms[shift % len(arms) :] + arms[: shift % len(arms)]
    return turned if round_no % 2 == 0 else turned[::-1]


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    storms = [r["storm"] for r in runs if "storm" in r]
    return {
        "runs": len(runs),
        "before_p99_ms": med([r["latency"]["before"]["p99_ms"] for r in runs]),
        "first_5s_p50_ms": med([r["latency"]["first_5s"]["p50_ms"] for r in runs]),
        "first_5s_p99_ms": med([r["latency"]["first_5s"]["p99_ms"] for r in runs]),
        "first_5s_p99_runs": [r["latency"]["first_5s"]["p99_ms"] for r in runs],
        "open_p50_s": med([x["open_p50_s"] for x in storms]),
        "open_last_s": med([x["open_last_s"] for x in storms]),
        "opened_all": all(x["opened"] == x["sockets"] for x in storms),
        "lost": [r.get("w1_loss") for r in runs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="0,100,200", help="upgrade rates to compare (0: turns only)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each arm (medians reported)")
    parser.add_argument("--sockets", type=int, default=500, help="sockets in the storm")
    parser.add_argument("--burst", type=int, help="the upgrade burst of every arm (default: the server's)")
    parser.add_argument("--lock-wait", type=float, default=1200, help="seconds to wait for another sitting")
    args = parser.parse_args(argv)
    arms = [str(int(float(r))) for r in args.rates.split(",")] + ["control"]
    s = shape(quick=False)
    _lock, stamp, logs, report = start_sitting(
        "storm", args.lock_wait, sockets=args.sockets, arms=arms, burst=args.burst
    )
    p = Prepared("embedded", users=s["rooms"] * MEASURED_MEMBERS + FLOODERS, groups=[("w1", s["rooms"], 25)])
    p.config.overrides = {} if args.burst is None else {BURST_SETTING: str(args.burst)}
    report["runs"] = []
    try:
        p.setup()
        n = 0
        for round_no in range(args.rounds):
            for arm in order(arms, round_no):
                n += 1
                try:
                    result = asyncio.run(one_run(p, n, arm, args.sockets, s, logs, stamp))
                except Exception as exc:
                    result = {"run": n, "arm": arm, "error": f"{type(exc).__name__}: {exc}"}
                report["runs"].append(result)
                lat = result.get("latency", {}).get("first_5s", {})
                log(
                    f"run {n} ({arm}): {result.get('error') or ''}storm {result.get('storm')}; "
                    f"first 5 s p50 {lat.get('p50_ms')} / p99 {lat.get('p99_ms')} ms; "
                    f"by second {result.get('p99_by_second')}; lost {result.get('w1_loss')}"
                )
    except KeyboardInterrupt:
        report["interrupted"] = True
    finally:
        CHILDREN.stop_all()
        p.teardown()
    done = [r for r in report["runs"] if "error" not in r]
    report["by_arm"] = {arm: summary([r for r in done if r["arm"] == arm]) for arm in arms}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"storm-{stamp}.json"
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nreconnect storm of {args.sockets} sockets, medians over {args.rounds} round(s):")
    for arm, m in report["by_arm"].items():
        what = "no storm" if arm == "control" else f"rate {arm}/s" if arm != "0" else "no rate (turns only)"
        opened = (
            ""
            if arm == "control"
            else f"opened p50 {m['open_p50_s']} s, last {m['open_last_s']} s (all: {m['opened_all']}); "
        )
        print(
            f"  {what:>22}: {opened}rooms' first 5 s p50 {m['first_5s_p50_ms']} / p99 {m['first_5s_p99_ms']} ms "
            f"(runs {m['first_5s_p99_runs']}), before p99 {m['before_p99_ms']} ms; lost {m['lost']}"
        )
    log(f"results in {out}")
    return 0 if done and not report.get("interrupted") else 1


if __name__ == "__main__":
    sys.exit(main())
