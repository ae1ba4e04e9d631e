"""Measure the choices issue 3 asks to make by measurement, not by assumption.

    .venv/bin/python bench/choices.py            # ~6 minutes: 3 rounds of every variant
    .venv/bin/python bench/choices.py --rounds 1  # ~2 minutes

1. **WebSocket implementation and event loop**, on our own server (embedded configuration,
   SQLite, every message stored): the same fixed W2 load (10 rooms x 50 sockets, 5 senders
   per room at ``--rate`` msg/s each: 20,000 deliveries/s at the default 8/s) against a fresh
   server per variant, rounds interleaved so every variant sees the same neighbours. The
   figure is the **server's CPU per delivery** (process CPU time / deliveries), which a busy
   neighbour disturbs far less than a saturation search or a latency tail; p50/p99 are
   printed beside it. Variants: our transport (``server.transport.LeanWebSocketProtocol``,
   uvloop; as deployed), uvicorn's stock ``websockets-sansio`` and ``websockets`` (legacy)
   implementations, and ours on asyncio's own loop.
2. **JSON library**: encoding a ``message`` frame and decoding a ``send`` frame with orjson
   and with the standard library's json (median of 7 repeats of 20,000 calls).
3. **Per-message compression**: what permessage-deflate (websockets' own extension, with and
   without context takeover) adds per outgoing ``message`` frame, and how much smaller the
   frame gets. The load generator does not negotiate compression, so this is measured on
   the extension directly.

Prints every figure, writes ``bench/results/choices-<timestamp>.json`` and replaces the
table between the ``choices`` markers in bench/README.md. Holds the same lock as run.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import timeit
import uuid
from datetime import datetime
from typing import Any

from run import CHILDREN, RESULTS, Prepared, Server, flags, loadgen, log, take_lock, write_readme

BEGIN, END = "<!-- choices:begin -->", "<!-- choices:end -->"

VARIANTS: dict[str, tuple[str, ...]] = {
    "ours: LeanWebSocketProtocol + uvloop (deployed)": (),
    "uvicorn websockets-sansio + uvloop": ("--ws", "websockets-sansio"),
    "uvicorn websockets (legacy) + uvloop": ("--ws", "websockets"),
    "ours: LeanWebSocketProtocol + asyncio loop": ("--loop", "asyncio"),
}


def fixed_load(p: Prepared, variant: tuple[str, ...], rate: float, seconds: float, tag: str) -> dict[str, Any]:
    """One fresh server, one W2-shaped step at a fixed rate; server CPU per delivery."""
    server = Server(p.config, RESULTS / "logs" / f"choices-{tag}.log", variant)
    try:
        server.start()
        result = loadgen(
            "fanout",
            server,
            p.manifest,
            p.workdir / f"choices-{tag}.json",
            seconds + 120,
            *flags(group="w2", rooms=10, clients=50, senders=5, rates=f"{rate:g}", duration=seconds, drain=5),
        )
    finally:
        server.stop()
    if "error" in result or not result.get("steps"):
        return {"error": result.get("error", "no step ran")}
    step = result["steps"][0]
    deliveries = step["received_deliveries"]
    cpu_s = step["cpu"]["server_cpu_s"]
    return {
        "deliveries": deliveries,
        "lost": step["lost_deliveries"],
        "deliveries_per_s": step["deliveries_per_s"],
        "server_cpu_s": cpu_s,
        "server_us_per_delivery": round(cpu_s / deliveries * 1e6, 2) if deliveries else None,
        "loadgen_cpu_util": step["cpu"]["loadgen_cpu_util"],
        "others_cores": step["cpu"]["others_cores"],
        "p50_ms": step["latency"]["p50_ms"],
        "p99_ms": step["latency"]["p99_ms"],
    }


def json_micro() -> dict[str, Any]:
    """orjson against the standard library on our two hottest frames."""
    import orjson

    frame = {
        "type": "message",
        "room": 12,
        "seq": 48213,
        "author": {"id": 301, "display_name": "River"},
        "body": "Thank you all for tonight. I made it through the weekend and I want to keep going. " * 2,
        "ts": "2026-11-28T02:51:07.123Z",
        "client_id": str(uuid.uuid4()),
    }
    send = json.dumps({"type": "send", "room": 12, "body": frame["body"], "client_id": frame["client_id"], "ref": 7})
    n = 20_000
    cases = {
        "encode message: orjson": lambda: orjson.dumps(frame).decode(),
        "encode message: json": lambda: json.dumps(frame, separators=(",", ":"), ensure_ascii=False),
        "decode send: orjson": lambda: orjson.loads(send),
        "decode send: json": lambda: json.loads(send),
    }
    out = {}
    for name, fn in cases.items():
        times = timeit.repeat(fn, number=n, repeat=7)
        out[name] = round(statistics.median(times) / n * 1e6, 3)  # µs per call
    return out


def deflate_micro() -> dict[str, Any]:
    """The cost and gain of permessage-deflate on outgoing `message` frames, per socket.

    Every frame differs (seq, client_id, body drawn from a small vocabulary), as in a room;
    identical frames would compress to almost nothing with context takeover and flatter it.
    """
    import itertools
    import random

    from websockets.extensions.permessage_deflate import PerMessageDeflate
    from websockets.frames import Frame, Opcode

    vocabulary = (
        "thank you all for tonight I made it through the weekend and want to keep going today was hard "
        "my sponsor called group helped me breathe one day at a time proud of you here for you"
    )
    words = vocabulary.split()
    rng = random.Random(7)
    texts = [
        json.dumps(
            {
                "type": "message",
                "room": 12,
                "seq": 48213 + i,
                "author": {"id": 300 + i % 50, "display_name": f"Person {i % 50}"},
                "body": " ".join(rng.choice(words) for _ in range(16)),
                "ts": f"2026-11-28T02:51:{i % 60:02d}.123Z",
                "client_id": str(uuid.UUID(int=rng.getrandbits(128))),
            }
        ).encode()
        for i in range(1000)
    ]
    n = 20_000
    out: dict[str, Any] = {"frame_bytes": round(statistics.mean(len(t) for t in texts))}
    for label, no_takeover in (("context takeover", False), ("no context takeover", True)):
        ext = PerMessageDeflate(False, no_takeover, 15, 15)
        sizes = [len(ext.encode(Frame(Opcode.TEXT, t)).data) for t in texts]
        frames = itertools.cycle(texts)
        times = timeit.repeat(
            lambda ext=ext, frames=frames: ext.encode(Frame(Opcode.TEXT, next(frames))), number=n, repeat=7
        )
        out[label] = {
            "us_per_frame": round(statistics.median(times) / n * 1e6, 3),
            "compressed_bytes_mean": round(statistics.mean(sizes)),
        }
    return out


def table(report: dict[str, Any]) -> str:
    rows = report["variants"]
    base = rows[next(iter(VARIANTS))]["median_us_per_delivery"]
    lines = [
        f"Choices measured {report['started']} ({report['rounds']} round(s), fixed load {report['rate']:g} msg/s per "
        f"sender = {report['rate'] * 2500:,.0f} deliveries/s offered, {report['seconds']:g} s each, fresh server per "
        "variant, rounds interleaved; 2 CPUs, shared). Server CPU per delivery: median over rounds (each round's "
        "value in brackets).",
        "",
        "| server variant | server CPU µs per delivery | vs deployed | p50 / p99 ms (median) | lost |",
        "|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        med = row["median_us_per_delivery"]
        each = ", ".join(f"{r.get('server_us_per_delivery', '✗')}" for r in row["rounds"])
        ratio = f"{med / base:.2f}×" if med and base else "—"
        lines.append(
            f"| {name} | **{med}** ({each}) | {ratio} | {row['median_p50_ms']} / {row['median_p99_ms']} | "
            f"{sum(r.get('lost', 0) for r in row['rounds'])} |"
        )
    js = report["json_us_per_call"]
    lines += [
        "",
        "| JSON, µs per call (median of 7 × 20,000) | orjson | json (stdlib) | stdlib ÷ orjson |",
        "|---|---|---|---|",
    ]
    for what in ("encode message", "decode send"):
        o, j = js[f"{what}: orjson"], js[f"{what}: json"]
        lines.append(f"| {what} frame | {o} | {j} | {j / o:.1f}× |")
    d = report["deflate"]
    lines += [
        "",
        f"| permessage-deflate on a `message` frame (mean {d['frame_bytes']} bytes) | µs per frame and socket | "
        "bytes on the wire |",
        "|---|---|---|",
        f"| off (deployed) | 0 | {d['frame_bytes']} |",
    ]
    for label in ("context takeover", "no context takeover"):
        lines.append(f"| on, {label} | {d[label]['us_per_frame']} | {d[label]['compressed_bytes_mean']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=8.0, help="msg/s per sender (x 2,500 = deliveries/s)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--lock-wait", type=float, default=1200)
    args = parser.parse_args(argv)
    _lock, lock_info = take_lock(args.lock_wait)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "rounds": args.rounds,
        "rate": args.rate,
        "seconds": args.seconds,
        "lock": lock_info,
    }
    p = Prepared("embedded")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    try:
        p.setup()
        for round_ in range(1, args.rounds + 1):
            for n, (name, variant) in enumerate(VARIANTS.items()):
                result = fixed_load(p, variant, args.rate, args.seconds, f"{stamp}-{round_}-{n}")
                runs[name].append(result)
                log(f"round {round_} {name}: {result}")
    finally:
        p.teardown()
        CHILDREN.stop_all()

    def med(rows: list[dict[str, Any]], key: str) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return round(statistics.median(values), 2) if values else None

    report["variants"] = {
        name: {
            "rounds": rows,
            "median_us_per_delivery": med(rows, "server_us_per_delivery"),
            "median_p50_ms": med(rows, "p50_ms"),
            "median_p99_ms": med(rows, "p99_ms"),
        }
        for name, rows in runs.items()
    }
    t = time.perf_counter()
    report["json_us_per_call"] = json_micro()
    report["deflate"] = deflate_micro()
    log(f"micro-benchmarks in {time.perf_counter() - t:.1f} s")
    out = RESULTS / f"choices-{stamp}.json"
    out.write_text(json.dumps(report, indent=2))
    text = table(report)
    print(text)
    if not args.no_readme:
        write_readme(text, BEGIN, END)
    log(f"figures: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
