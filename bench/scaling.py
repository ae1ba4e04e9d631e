"""Throughput and memory against the number of server processes (docs/scaling.md).

A driver script: blocking subprocess calls between measurements are fine here.

One listening socket is bound here and handed to N uvicorn processes (``--fd``), so the
kernel spreads connections across them the way a load balancer would; every room then has
members on every process and fan-out goes through Redis. Storage is PostgreSQL. For each N
it runs the W2 step search (10 rooms x 50 clients, 5 senders per room) and W3 (idle
connections), and prints deliveries/s, p99, RSS per connection and CPU per process.

    .venv/bin/python bench/scaling.py [--processes 1,2,3] [--rates 8,16,24,32,48] [--step 5]

Targets 127.0.0.1 only; every child is ended and the database dropped, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from server.transport import OUR_PROTOCOLS, UVICORN_WS_FLAGS

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
KEY = "bench-scaling-key-0123456789abcdefghijklmnop"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_one(processes: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    name = f"alongside_scale_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    redis_port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SECRET_KEYS": KEY,
        "ALONGSIDE_ENV": "development",
        "LIMIT_RATE_PER_SECOND": "100000",
        "LIMIT_RATE_BURST": "100000",
        "LIMIT_LOGIN_PER_MINUTE_ADDRESS": "100000",
        "LIMIT_LOGIN_BURST_ADDRESS": "100000",
    }
    servers: list[subprocess.Popen[bytes]] = []
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        subprocess.run([PY, "-m", "server", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
        manifest = work / f"manifest-{processes}.json"
        subprocess.run(
            [
                PY,
                "bench/seed.py",
                "--users",
                "600",
                "--group",
                "w2:10:50",
                "--group",
                "w3:100:5",
                "--mint-sessions",
                "--out",
                str(manifest),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        port = listener.getsockname()[1]
        fd = listener.fileno()
        for n in range(processes):
            log = (work / f"server-{processes}-{n}.log").open("wb")
            servers.append(
                subprocess.Popen(
                    [
                        PY,
                        "-m",
                        "uvicorn",
                        "server.app:app",
                        "--fd",
                        str(fd),
                        *OUR_PROTOCOLS,
                        *UVICORN_WS_FLAGS,
                        "--log-level",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                    pass_fds=(fd,),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    if (await http.get(base + "/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # every process through its start-up
        idle_rss = [psutil.Process(s.pid).memory_info().rss for s in servers]
        await loadgen(
            ["idle", "--group", "w3", "--rooms", "100", "--connections", str(args.idle)],
            base,
            manifest,
            work,
            f"w3-{processes}",
        )
        loaded_rss = [psutil.Process(s.pid).memory_info().rss for s in servers]
        cpu0 = [psutil.Process(s.pid).cpu_times() for s in servers]
        t0 = time.monotonic()
        w2 = await loadgen(
            [
                "fanout",
                "--group",
                "w2",
                "--rooms",
                "10",
                "--clients",
                "50",
                "--senders",
                "5",
                "--rates",
                args.rates,
                "--duration",
                str(args.step),
                "--drain",
                "5",
            ],
            base,
            manifest,
            work,
            f"w2-{processes}",
        )
        wall = time.monotonic() - t0
        cpu1 = [psutil.Process(s.pid).cpu_times() for s in servers]
        cores = [round(((b.user + b.system) - (a.user + a.system)) / wall, 2) for a, b in zip(cpu0, cpu1, strict=True)]
        steps = [
            {
                "rate": s["rate_per_sender"],
                "deliveries_per_s": round(s["deliveries_per_s"]),
                "p99_ms": (s.get("latency") or {}).get("p99_ms"),
                "lost": s["lost_deliveries"],
            }
            for s in w2.get("steps", [])
        ]
        return {
            "processes": processes,
            "w2_max_sustained_deliveries_per_s": w2.get("max_sustained_deliveries_per_s"),
            "w2_verdict": w2.get("verdict"),
            "w2_steps": steps,
            "w2_server_cores_each": cores,
            "w3_connections": args.idle,
            "w3_rss_growth_kb_per_connection": round((sum(loaded_rss) - sum(idle_rss)) / 1024 / args.idle, 1),
            "rss_mb_each_idle": [round(r / 2**20, 1) for r in idle_rss],
        }
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        listener.close()
        redis.kill()
        redis.wait()
        admin = await asyncpg.connect(ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def loadgen(mode: list[str], base: str, manifest: Path, work: Path, tag: str) -> dict[str, Any]:
    out = work / f"{tag}.json"
    ws = base.replace("http://", "ws://") + "/ws"
    proc = await asyncio.create_subprocess_exec(
        PY,
        str(ROOT / "bench" / "loadgen.py"),
        *mode,
        "--url",
        ws,
        "--base",
        base,
        "--manifest",
        str(manifest),
        "--max-seconds",
        "240",
        "--out",
        str(out),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.wait_for(proc.wait(), 300)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2,3")
    parser.add_argument("--rates", default="8,16,24,32,48,64")
    parser.add_argument("--step", type=float, default=5.0, help="seconds per W2 step")
    parser.add_argument("--idle", type=int, default=3000, help="idle connections for the memory figure")
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / f"scaling-{time.strftime('%Y%m%d-%H%M%S')}.json")
    )
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        print("redis-server is needed", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="alongside-scaling-"))
    results = []
    try:
        for count in (int(n) for n in args.processes.split(",")):
            result = await run_one(count, args, work)
            results.append(result)
            print(json.dumps(result), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = json.dumps({"machine_cpus": os.cpu_count(), "results": results}, indent=2)
    Path(args.out).write_text(report)  # noqa: ASYNC240
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
