"""Run the benchmark workloads (W1-W5 of shared/BENCHMARKS.md) against both configurations.

    .venv/bin/python bench/run.py            # full run, medians of 3 (about 12-14 minutes)
    .venv/bin/python bench/run.py --quick    # shorter workloads, 1 run (about 3 minutes)

For each configuration, the embedded default (SQLite in a temporary directory, no Redis)
and Redis + PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards, and a
private ``redis-server`` on a free port), it migrates, seeds (bench/seed.py), starts the
server with uvicorn, and for each run starts a *fresh* server process and runs W3 (idle
memory, first, so freed memory of earlier workloads does not hide growth), W1, W4 and W5,
each as a separate ``bench/loadgen.py`` process. W2 (saturation search) runs once per
configuration on a fresh server, and once against the bare ``websockets`` ceiling
(bench/ceiling.py). Every figure is printed, the whole result is written to
``bench/results/<timestamp>.json`` and a table replaces the one between the markers in
``bench/README.md``.

Everything listens on and targets 127.0.0.1 only. Every child process is ended, and the
temporary database and directory removed, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import psutil

from server.transport import OUR_PROTOCOLS, UVICORN_WS_FLAGS

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
RESULTS = BENCH / "results"
README = BENCH / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
W2_BEGIN, W2_END = "<!-- w2:begin -->", "<!-- w2:end -->"
PLOT = BENCH / "w2_latency.png"
HOST = "127.0.0.1"
PG = {"host": HOST, "port": 5432, "user": "postgres"}

# shapes: (name, rooms, members per room) seeded once per configuration
USERS = 500
GROUPS = [("w1", 20, 25), ("w2", 10, 50), ("w3", 100, 5), ("w4", 1, 2), ("w5", 100, 1)]


def shapes(quick: bool) -> dict[str, Any]:
    return {
        "w1": {"rooms": 20, "clients": 25, "senders": 2, "rate": 2.0, "duration": 6.0 if quick else 20.0},
        "w2": {
            "rooms": 10,
            "clients": 50,
            "senders": 5,
            # up to 128/s per sender (320,000 deliveries/s): since ours writes a connection's waiting
            # frames in one system call it passed every step of a ladder that ended at 64
            "rates": [2, 8, 16, 32, 64, 96, 128] if quick else [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128],
            # the peers start lower: Channels does not pass 2/s per sender, and a search whose first
            # step fails says nothing; the steps they share with ours are the same
            "peer_rates": [0.5, 1, 2, 4, 8, 16, 32] if quick else [0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48],
            "duration": 3.0 if quick else 6.0,
        },
        "w3": {"connections": 1000 if quick else 5000, "idle_window": 3.0},
        "w4": {"messages": 10000},
        "w5": {"rooms": 100, "duration": 5.0 if quick else 15.0},
    }


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------- child processes


class Children:
    """Every process this run starts, so each one is ended (by its pid) whatever happens."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], env: dict[str, str], log_path: Path | None = None) -> subprocess.Popen[bytes]:
        if log_path is None:
            proc = subprocess.Popen(
                args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        else:
            with open(log_path, "ab") as out:
                proc = subprocess.Popen(
                    args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 10.0) -> int | None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc in self.procs:
            self.procs.remove(proc)
        return proc.returncode

    def stop_all(self) -> None:
        for proc in list(self.procs):
            try:
                self.stop(proc, grace=5.0)
            except Exception as exc:
                print(f"could not stop pid {proc.pid}: {exc}", file=sys.stderr)


CHILDREN = Children()


def run_checked(args: list[str], env: dict[str, str], timeout: float) -> str:
    proc = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])}... failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def get_json(url: str, timeout: float = 2.0) -> tuple[int, Any]:
    handler = urllib.request.ProxyHandler({})  # never through a proxy
    opener = urllib.request.build_opener(handler)
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def start_redis(log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private, empty redis-server on a free port (no persistence); its process and URL."""
    port = free_port()
    proc = CHILDREN.start(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ],
        os.environ.copy(),
        log_path,
    )
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            if redis.Redis(host=HOST, port=port, socket_timeout=1).ping():
                break
        except redis.RedisError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            CHILDREN.stop(proc)
            raise RuntimeError("redis-server did not start")
        time.sleep(0.1)
    return proc, f"redis://{HOST}:{port}/0"


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited ({proc.returncode})") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen within {seconds:g} s") from None
            time.sleep(0.1)


# our server runs on its own transport (server/transport.py, as in the Procfile); the peers
# get uvicorn's websockets-sansio, which that transport extends, and the same other flags
UVICORN_FLAGS = ["--ws", "websockets-sansio", *UVICORN_WS_FLAGS, "--log-level", "warning"]


# ------------------------------------------------------------------------ configurations


class Config:
    """One way to run the server: its environment, its backing services, their teardown."""

    def __init__(self, name: str, workdir: Path, secret: str) -> None:
        self.name = name
        self.workdir = workdir
        self.secret = secret
        self.database_url = ""
        self.redis_url: str | None = None
        self.redis_proc: subprocess.Popen[bytes] | None = None
        self.pg_database: str | None = None
        # environment changes of a bench of its own (None: unset, the server's default applies)
        self.overrides: dict[str, str | None] = {}

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LIMIT_", "REDIS_", "DATABASE_"))}
        for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(key, None)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "ALONGSIDE_ENV": "development",
                "SECRET_KEYS": self.secret,
                "LIMIT_RATE_PER_SECOND": "100000",
                "LIMIT_RATE_BURST": "100000",
                # the load generator logs everyone in from one address: lift the login throttle too
                "LIMIT_LOGIN_PER_MINUTE_ADDRESS": "100000",
                "LIMIT_LOGIN_BURST_ADDRESS": "100000",
                # the workloads open their sockets together and measure what follows: the upgrade
                # rate a deployment paces them at (100 a second) would only lengthen set-up (W3's
                # 5,000 sockets: 50 s). flood.py, storm.py and soak.py keep the deployed one
                "LIMIT_UPGRADES_PER_SECOND": "0",
                "LOG_LEVEL": "WARNING",
                "NO_PROXY": "*",
            }
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        for key, value in self.overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    async def _pg(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(database="postgres", timeout=10, **PG)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def setup(self) -> None:
        if self.name == "embedded":
            self.database_url = f"sqlite+aiosqlite:///{self.workdir / 'bench.db'}"
            return
        self.pg_database = f"alongside_bench_{os.getpid()}_{secrets.token_hex(3)}"
        asyncio.run(self._pg(f'CREATE DATABASE "{self.pg_database}"'))
        self.database_url = f"postgresql+asyncpg://{PG['user']}@{HOST}:{PG['port']}/{self.pg_database}"
        self.redis_proc, self.redis_url = start_redis(self.workdir / "redis.log")

    def teardown(self) -> None:
        if self.redis_proc is not None:
            CHILDREN.stop(self.redis_proc)
            self.redis_proc = None
        if self.pg_database:
            try:
                asyncio.run(self._pg(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)'))
            except Exception as exc:
                print(f"could not drop database {self.pg_database}: {exc}", file=sys.stderr)
            self.pg_database = None


class Server:
    def __init__(self, config: Config, log_path: Path, variant: tuple[str, ...] = ()) -> None:
        self.config = config
        self.log_path = log_path
        self.variant = variant  # uvicorn flags that override ours (bench/choices.py compares them)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/ws"

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.proc = CHILDREN.start(
            [
                PY,
                "-m",
                "uvicorn",
                "server.app:app",
                "--host",
                HOST,
                "--port",
                str(self.port),
                *UVICORN_FLAGS,
                *OUR_PROTOCOLS,
                *self.variant,
            ],
            self.config.env(),
            self.log_path,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                status, _ = get_json(self.base + "/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server was not ready within 30 s")

    def stats(self) -> dict[str, Any]:
        try:
            p = psutil.Process(self.proc.pid)  # type: ignore[union-attr]
            t = p.cpu_times()
            return {
                "cpu_s": round(t.user + t.system, 2),
                "rss_mb": round(p.memory_info().rss / 2**20, 1),
                "threads": p.num_threads(),
            }
        except (psutil.Error, AttributeError):
            return {}

    def stop(self) -> dict[str, Any]:
        info = self.stats()
        if self.proc is not None:
            info["exit_code"] = CHILDREN.stop(self.proc)
            info["alive_until_stop"] = True
        return info


def loadgen(
    mode: str,
    server: Server | None,
    manifest: Path,
    out: Path,
    max_seconds: float,
    *extra: str,
    url: str | None = None,
    pid: int | None = None,
    aux_pid: int | None = None,
    protocol: str = "alongside",
) -> dict[str, Any]:
    args = [
        PY,
        str(BENCH / "loadgen.py"),
        mode,
        "--manifest",
        str(manifest),
        "--out",
        str(out),
        "--max-seconds",
        str(int(max_seconds)),
        "--protocol",
        protocol,
        *extra,
    ]
    if server is not None:
        args += ["--url", server.ws_url, "--base", server.base]
        pid = server.proc.pid  # type: ignore[union-attr]
    if url is not None:
        args += ["--url", url]
    if pid is not None:
        args += ["--server-pid", str(pid)]
    if server is not None and server.config.redis_proc is not None:
        args += ["--aux-pid", str(server.config.redis_proc.pid)]
    if aux_pid is not None:
        args += ["--aux-pid", str(aux_pid)]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    proc = CHILDREN.start(args, env, out.with_suffix(".log"))
    try:
        proc.wait(max_seconds + 60)
    except subprocess.TimeoutExpired:
        CHILDREN.stop(proc)
        return {"error": f"loadgen {mode} did not finish in {max_seconds + 60} s"}
    CHILDREN.stop(proc)
    if not out.exists():
        tail = out.with_suffix(".log").read_text()[-2000:] if out.with_suffix(".log").exists() else ""
        return {"error": f"loadgen {mode} wrote no result (exit {proc.returncode}): {tail}"}
    return json.loads(out.read_text())


def server_log_problems(path: Path) -> dict[str, int]:
    """Warnings, errors and tracebacks the server logged, as {message: how many times}."""
    found: dict[str, int] = {}
    if not path.exists():
        return found
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if isinstance(entry, dict):
            if entry.get("level") not in ("warning", "error", "critical"):
                continue
            key = f"{entry.get('level')}: {entry.get('logger')}: {entry.get('msg')}"
            key = re.sub(r"\b\d+\b", "N", key)  # "dropped 106 publishes" and "dropped 3 publishes" are one
        elif any(w in line for w in ("ERROR", "WARNING", "Traceback", "Exception")):
            key = line.strip()[:200]
        else:
            continue
        found[key] = found.get(key, 0) + 1
    return found


# ---------------------------------------------------------------------------- the sitting


class Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def allows(self, seconds: float) -> bool:
        return self.left() > seconds


class Prepared:
    """A configuration with its database migrated and seeded, for the whole sitting
    (bench/flood.py and bench/soak.py seed their own ``users`` and ``groups``)."""

    def __init__(self, name: str, users: int = USERS, groups: list[tuple[str, int, int]] = GROUPS) -> None:
        self.name = name
        self.users = users
        self.groups = groups
        self.workdir = Path(tempfile.mkdtemp(prefix=f"alongside-bench-{name}-"))
        self.config = Config(name, self.workdir, secrets.token_urlsafe(48))
        self.manifest = self.workdir / "manifest.json"
        self.result: dict[str, Any] = {"runs": [], "problems": []}
        self.failed = False

    def setup(self) -> None:
        t = time.perf_counter()
        self.config.setup()
        env = self.config.env()
        run_checked([PY, "-m", "server", "migrate"], env, 120)
        seed_args = [PY, str(BENCH / "seed.py"), "--users", str(self.users), "--out", str(self.manifest)]
        seed_args.append("--mint-sessions")
        for group, rooms, members in self.groups:
            seed_args += ["--group", f"{group}:{rooms}:{members}"]
        run_checked(seed_args, env, 300)
        self.result["setup_s"] = round(time.perf_counter() - t, 1)
        self.result["seed_s"] = json.loads(self.manifest.read_text()).get("seed_seconds")
        log(
            f"{self.name}: migrated and seeded in {self.result['setup_s']} s ({self.users} users, "
            f"{sum(g[1] for g in self.groups)} rooms)"
        )

    def teardown(self) -> None:
        self.config.teardown()
        shutil.rmtree(self.workdir, ignore_errors=True)


def run_once(p: Prepared, run: int, args: argparse.Namespace, shape: dict[str, Any], stamp: str, logs: Path) -> None:
    """One run on a fresh server process: (login sample), W3, W1, W4, W5."""
    name, manifest, workdir = p.name, p.manifest, p.workdir
    server = Server(p.config, logs / f"{stamp}-{name}-run{run}-server.log")
    one: dict[str, Any] = {"run": run}
    try:
        server.start()
        if run == 1 and args.login_users:
            # the real login path, for a sample of users (argon2 allows only a few per second here)
            one["login"] = loadgen(
                "login",
                server,
                manifest,
                workdir / "login.json",
                120,
                "--login-users",
                str(args.login_users),
                "--connect-concurrency",
                "4",
                "--write-manifest",
                str(manifest),
            )
            lg = one["login"]
            log(
                f"{name}: HTTP login of {lg.get('users')} users: {lg.get('logins_per_s')}/s, "
                f"p50 {dig(lg, 'latency', 'p50_ms')} ms, failures {lg.get('failures')}"
            )
        w3 = shape["w3"]
        one["w3"] = loadgen(
            "idle",
            server,
            manifest,
            workdir / f"w3-{run}.json",
            240,
            "--group",
            "w3",
            "--connections",
            str(w3["connections"]),
            "--idle-window",
            str(w3["idle_window"]),
        )
        print_w3(name, run, one["w3"])
        w1 = shape["w1"]
        one["w1"] = loadgen(
            "fanout",
            server,
            manifest,
            workdir / f"w1-{run}.json",
            w1["duration"] + 120,
            *flags(
                group="w1",
                rooms=w1["rooms"],
                clients=w1["clients"],
                senders=w1["senders"],
                rate=w1["rate"],
                duration=w1["duration"],
            ),
        )
        print_w1(name, run, one["w1"])
        one["w4"] = loadgen(
            "catchup",
            server,
            manifest,
            workdir / f"w4-{run}.json",
            180,
            *flags(group="w4", messages=shape["w4"]["messages"]),
        )
        print_w4(name, run, one["w4"])
        w5 = shape["w5"]
        one["w5"] = loadgen(
            "ingest",
            server,
            manifest,
            workdir / f"w5-{run}.json",
            w5["duration"] + 90,
            *flags(group="w5", rooms=w5["rooms"], duration=w5["duration"]),
        )
        print_w5(name, run, one["w5"])
    finally:
        one["server"] = server.stop()
        one["server_log_problems"] = server_log_problems(server.log_path)
        if one["server_log_problems"]:
            log(f"{name} run {run}: the server logged problems, see {server.log_path}")
        p.result["runs"].append(one)


def run_w2_on(p: Prepared, shape: dict[str, Any], stamp: str, logs: Path, seconds: float, round_: int = 1) -> None:
    """One W2 search on a fresh server; rounds go to ``w2_rounds`` (``w2`` is the first, as before)."""
    server = Server(p.config, logs / f"{stamp}-{p.name}-w2-{round_}-server.log")
    try:
        server.start()
        w2 = run_w2(server, None, p.manifest, p.workdir / "w2.json", shape["w2"], seconds)
    finally:
        info = server.stop()
        problems = server_log_problems(server.log_path)
        p.result.setdefault("w2_server", info)
        logged = p.result.setdefault("w2_server_log_problems", {})
        for message, count in problems.items():
            logged[message] = logged.get(message, 0) + count
    p.result.setdefault("w2", w2)
    p.result.setdefault("w2_rounds", []).append(w2)
    print_w2(p.name, w2)


def flags(**options: Any) -> list[str]:
    """Load generator options as command-line flags: ``rooms=5`` becomes ``--rooms 5``."""
    return [part for name, value in options.items() for part in (f"--{name.replace('_', '-')}", str(value))]


def run_w2(
    server: Server | None,
    url: str | None,
    manifest: Path,
    out: Path,
    w2: dict[str, Any],
    max_seconds: float,
    pid: int | None = None,
    aux_pid: int | None = None,
    protocol: str = "alongside",
    rates: list[float] | None = None,
) -> dict[str, Any]:
    """The step search; the loadgen starts no step that would not end within max_seconds."""
    return loadgen(
        "fanout",
        server,
        manifest,
        out,
        max_seconds,
        *flags(
            group="w2",
            rooms=w2["rooms"],
            clients=w2["clients"],
            senders=w2["senders"],
            rates=",".join(f"{r:g}" for r in (rates or w2["rates"])),
            duration=w2["duration"],
            drain=5,
        ),
        url=url,
        pid=pid,
        aux_pid=aux_pid,
        protocol=protocol,
    )


def synthetic_manifest(path: Path, groups: dict[str, tuple[int, int]]) -> Path:
    """A manifest for targets without accounts (the ceiling, the peers): room ids and members
    only, one user per connection, every token a dummy."""
    users = max(rooms * members for rooms, members in groups.values())
    manifest = {
        "password": "",
        "users": [{"index": i, "id": i, "username": f"c{i}", "token": "none"} for i in range(users)],
        "groups": {
            name: [{"id": r + 1, "members": list(range(r * members, (r + 1) * members))} for r in range(rooms)]
            for name, (rooms, members) in groups.items()
        },
    }
    path.write_text(json.dumps(manifest))
    return path


def run_ceiling(shape: dict[str, Any], stamp: str, logs: Path, seconds: float, tag: str = "") -> dict[str, Any]:
    """W2 against the bare websockets server; it needs a manifest only for the room ids and tokens."""
    workdir = Path(tempfile.mkdtemp(prefix="alongside-bench-ceiling-"))
    try:
        w2 = shape["w2"]
        manifest = synthetic_manifest(workdir / "manifest.json", {"w2": (w2["rooms"], w2["clients"])})
        port = free_port()
        proc = CHILDREN.start(
            [PY, str(BENCH / "ceiling.py"), "--port", str(port)], os.environ.copy(), logs / f"{stamp}-ceiling{tag}.log"
        )
        try:
            wait_for_port(port, proc, "the ceiling server", 10)
            return run_w2(None, f"ws://{HOST}:{port}/ws", manifest, workdir / "w2.json", w2, seconds, pid=proc.pid)
        finally:
            CHILDREN.stop(proc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# the peers of bench/peers/: (ASGI application, loadgen protocol, WebSocket path, label)
PEERS: dict[str, tuple[str, str, str, str]] = {
    "socketio": (
        "bench.peers.socketio_server:app",
        "socketio",
        "/socket.io/?EIO=4&transport=websocket",
        "python-socketio",
    ),
    "channels": ("bench.peers.channels_server:application", "channels", "/ws", "Django Channels"),
}


class PeerServer:
    """A peer (bench/peers/) under uvicorn with our server's flags, on its own fresh redis-server."""

    def __init__(self, name: str, workdir: Path, log_path: Path) -> None:
        self.name = name
        self.app, self.protocol, self.path, _ = PEERS[name]
        self.workdir = workdir
        self.log_path = log_path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.redis_proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}{self.path}"

    def start(self) -> None:
        self.redis_proc, redis_url = start_redis(self.log_path.with_suffix(".redis.log"))
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("DJANGO_")}
        env.update({"REDIS_URL": redis_url, "PYTHONPATH": str(ROOT), "NO_PROXY": "*"})
        self.proc = CHILDREN.start(
            [PY, "-m", "uvicorn", self.app, "--host", HOST, "--port", str(self.port), *UVICORN_FLAGS],
            env,
            self.log_path,
        )
        wait_for_port(self.port, self.proc, f"the {self.name} peer")

    def stop(self) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if self.proc is not None:
            try:
                p = psutil.Process(self.proc.pid)
                t = p.cpu_times()
                info = {"cpu_s": round(t.user + t.system, 2), "rss_mb": round(p.memory_info().rss / 2**20, 1)}
            except psutil.Error:
                pass
            info["exit_code"] = CHILDREN.stop(self.proc)  # the server before its Redis
            self.proc = None
        if self.redis_proc is not None:
            CHILDREN.stop(self.redis_proc)
            self.redis_proc = None
        return info


def peer_log_problems(path: Path) -> dict[str, int]:
    """Every line a peer logged (uvicorn runs at --log-level warning, so any line is news),
    as {line: how many times}; traceback frames are left out, their last line is kept."""
    found: dict[str, int] = {}
    if not path.exists():
        return found
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip() or line.startswith((" ", "Traceback")):
            continue
        key = re.sub(r"\b\d+\b", "N", line.strip()[:200])
        found[key] = found.get(key, 0) + 1
    return found


def run_peer(
    name: str,
    shape: dict[str, Any],
    stamp: str,
    logs: Path,
    seconds: float,
    round_: int,
    result: dict[str, Any],
    w1: bool,
    w2: bool = True,
) -> None:
    """W1 and/or W2 against one peer, each on a fresh peer process with a fresh Redis;
    appends to ``result`` (``w1``, ``w2_rounds``, ``problems``, ``log_problems``)."""
    _, protocol, _, label = PEERS[name]
    workdir = Path(tempfile.mkdtemp(prefix=f"alongside-bench-{name}-"))
    w1_shape, w2_shape = shape["w1"], shape["w2"]
    manifest = synthetic_manifest(
        workdir / "manifest.json",
        {"w1": (w1_shape["rooms"], w1_shape["clients"]), "w2": (w2_shape["rooms"], w2_shape["clients"])},
    )
    logged = result.setdefault("log_problems", {})
    try:
        if w1:
            server = PeerServer(name, workdir, logs / f"{stamp}-{name}-w1.log")
            try:
                server.start()
                result["w1"] = loadgen(
                    "fanout",
                    None,
                    manifest,
                    workdir / "w1.json",
                    w1_shape["duration"] + 120,
                    "--group",
                    "w1",
                    "--rooms",
                    str(w1_shape["rooms"]),
                    "--clients",
                    str(w1_shape["clients"]),
                    "--senders",
                    str(w1_shape["senders"]),
                    "--rate",
                    str(w1_shape["rate"]),
                    "--duration",
                    str(w1_shape["duration"]),
                    url=server.url,
                    pid=server.proc.pid,  # type: ignore[union-attr]
                    aux_pid=server.redis_proc.pid,  # type: ignore[union-attr]
                    protocol=protocol,
                )
            finally:
                result["w1_server"] = server.stop()
                for message, count in peer_log_problems(server.log_path).items():
                    logged[message] = logged.get(message, 0) + count
            print_w1(label, 1, result["w1"])
        if not w2:
            return
        server = PeerServer(name, workdir, logs / f"{stamp}-{name}-w2-{round_}.log")
        try:
            server.start()
            w2_result = run_w2(
                None,
                server.url,
                manifest,
                workdir / "w2.json",
                w2_shape,
                max(seconds, 30.0),
                pid=server.proc.pid,  # type: ignore[union-attr]
                aux_pid=server.redis_proc.pid,  # type: ignore[union-attr]
                protocol=protocol,
                rates=w2_shape["peer_rates"],
            )
        finally:
            result.setdefault("w2_servers", []).append(server.stop())
            for message, count in peer_log_problems(server.log_path).items():
                logged[message] = logged.get(message, 0) + count
        result.setdefault("w2_rounds", []).append(w2_result)
        print_w2(label, w2_result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -------------------------------------------------------------------------------- figures


def dig(d: Any, *path: Any) -> Any:
    for key in path:
        if d is None:
            return None
        if isinstance(key, int):
            d = d[key] if isinstance(d, list) and len(d) > key else None
        else:
            d = d.get(key) if isinstance(d, dict) else None
    return d


FIGURES = {
    # name: (workload, path into that workload's result)
    "w1_deliveries_per_s": ("w1", ("steps", 0, "deliveries_per_s")),
    "w1_expected": ("w1", ("steps", 0, "expected_deliveries")),
    "w1_received": ("w1", ("steps", 0, "received_deliveries")),
    "w1_lost": ("w1", ("steps", 0, "lost_deliveries")),
    "w1_p50_ms": ("w1", ("steps", 0, "latency", "p50_ms")),
    "w1_p99_ms": ("w1", ("steps", 0, "latency", "p99_ms")),
    "w1_max_ms": ("w1", ("steps", 0, "latency", "max_ms")),
    "w1_acks": ("w1", ("steps", 0, "acks")),
    "w1_ack_p50_ms": ("w1", ("steps", 0, "ack_latency", "p50_ms")),
    "w1_server_cpu": ("w1", ("steps", 0, "cpu", "server_cpu_util")),
    "w1_loadgen_cpu": ("w1", ("steps", 0, "cpu", "loadgen_cpu_util")),
    "w1_others_cores": ("w1", ("steps", 0, "cpu", "others_cores")),
    "w1_backends_cpu_s": ("w1", ("steps", 0, "cpu", "postgres_redis_cpu_s")),
    "w1_machine_cores": ("w1", ("steps", 0, "cpu", "machine_busy_cores")),
    "w3_connections": ("w3", ("setup", "joined")),
    "w3_kb_per_conn": ("w3", ("kb_per_connection",)),
    "w3_rss_before_mb": ("w3", ("server_rss_before_mb",)),
    "w3_rss_after_mb": ("w3", ("server_rss_after_mb",)),
    "w3_conn_per_s": ("w3", ("setup", "connections_per_s")),
    "w3_connect_server_cpu": ("w3", ("connect_cpu", "server_cpu_util")),
    "w3_connect_loadgen_cpu": ("w3", ("connect_cpu", "loadgen_cpu_util")),
    "w3_idle_server_cpu": ("w3", ("idle_cpu", "server_cpu_util")),
    "w4_catchup_s": ("w4", ("catchup_s",)),
    "w4_first_message_s": ("w4", ("first_message_after_s",)),
    "w4_received": ("w4", ("received",)),
    "w4_missing": ("w4", ("missing",)),
    "w4_server_cpu": ("w4", ("cpu", "server_cpu_util")),
    "w4_loadgen_cpu": ("w4", ("cpu", "loadgen_cpu_util")),
    "w5_acked_per_s": ("w5", ("acked_msgs_per_s",)),
    "w5_ack_p50_ms": ("w5", ("ack_latency", "p50_ms")),
    "w5_ack_p99_ms": ("w5", ("ack_latency", "p99_ms")),
    "w5_server_cpu": ("w5", ("cpu", "server_cpu_util")),
    "w5_loadgen_cpu": ("w5", ("cpu", "loadgen_cpu_util")),
    "w5_machine_cores": ("w5", ("cpu", "machine_busy_cores")),
    "w5_others_cores": ("w5", ("cpu", "others_cores")),
    "w5_backends_cpu_s": ("w5", ("cpu", "postgres_redis_cpu_s")),
}


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (workload, path) in FIGURES.items():
        values = [dig(run.get(workload), *path) for run in runs]
        values = [v for v in values if isinstance(v, (int, float))]
        out[name] = statistics.median(values) if values else None
        out[name + "_all"] = values
    for workload in ("w1", "w3", "w4", "w5"):
        out[workload + "_saturated"] = [saturated_of(workload, run.get(workload)) for run in runs]
    out["w4_in_order_all"] = [dig(run.get("w4"), "in_order") for run in runs]
    out["w4_seq_in_order_all"] = [dig(run.get("w4"), "seq_in_order") for run in runs]
    out["w4_send_inversions_all"] = [dig(run.get("w4"), "send_order_inversions") for run in runs]
    out["w1_errors_all"] = [dig(run.get("w1"), "steps", 0, "errors") for run in runs]
    out["close_codes_all"] = {w: [dig(run.get(w), "close_codes") for run in runs] for w in ("w1", "w3", "w4", "w5")}
    return out


def w4_order_cells(m: dict[str, Any]) -> list[str]:
    """Per run: received, ✓ if delivered in seq order (the protocol's promise), and how often the
    seq order differed from the order the 100-in-flight sends were made (not promised)."""
    cells = []
    runs = zip(
        m.get("w4_received_all", []),
        m.get("w4_in_order_all", []),
        m.get("w4_seq_in_order_all", []) or [None] * len(m.get("w4_in_order_all", [])),
        m.get("w4_send_inversions_all", []) or [None] * len(m.get("w4_in_order_all", [])),
        strict=False,
    )
    for received, in_order, seq_ok, inversions in runs:
        ok = in_order if seq_ok is None else seq_ok  # older results: one flag for both
        cell = f"{fmt(received)} {'✓' if ok else '✗'}"
        if inversions:
            cell += f" ({inversions} send-order inversion{'s' if inversions != 1 else ''})"
        cells.append(cell)
    return cells


def saturated_of(workload: str, result: Any) -> str | None:
    key = {
        "w1": ("steps", 0, "cpu", "saturated"),
        "w3": ("connect_cpu", "saturated"),
        "w4": ("cpu", "saturated"),
        "w5": ("cpu", "saturated"),
    }[workload]
    return dig(result, *key)


def print_w1(name: str, run: int, r: dict[str, Any]) -> None:
    s = dig(r, "steps", 0) or {}
    if "error" in r or not s:
        log(f"{name} run {run} W1: {r.get('error')}")
        return
    lat, cpu = s["latency"], s["cpu"]
    log(
        f"{name} run {run} W1: {s['deliveries_per_s']} deliveries/s, received {s['received_deliveries']}/"
        f"{s['expected_deliveries']} (lost {s['lost_deliveries']}), latency p50 {lat['p50_ms']} p99 {lat['p99_ms']} "
        f"max {lat['max_ms']} ms, acks {s['acks']}/{s['sent']}, errors {s['errors']}, closes {r['close_codes']}, "
        f"cpu server {cpu['server_cpu_util']} loadgen {cpu['loadgen_cpu_util']} "
        f"pg+redis {cpu['postgres_redis_cpu_s']}s others {cpu['others_cores']} cores -> {cpu['saturated']}"
    )


def print_w2(name: str, r: dict[str, Any]) -> None:
    if "error" in r:
        log(f"{name} W2: {r['error']}")
        return
    log(
        f"{name} W2: max sustained {r.get('max_sustained_deliveries_per_s')} deliveries/s "
        f"(rate {r.get('max_sustained_rate_per_sender')}/s per sender); {r.get('verdict')}"
    )


def print_w3(name: str, run: int, r: dict[str, Any]) -> None:
    if "error" in r:
        log(f"{name} run {run} W3: {r['error']}")
        return
    log(
        f"{name} run {run} W3: {r['setup']['joined']} joined in {r['setup']['connect_join_s']} s, RSS "
        f"{r['server_rss_before_mb']} -> {r['server_rss_after_mb']} MB = {r['kb_per_connection']} KB/connection, "
        f"failures {r['setup']['connect_failures']}, closes {r['close_codes']}, "
        f"connect cpu server {r['connect_cpu']['server_cpu_util']} loadgen {r['connect_cpu']['loadgen_cpu_util']}, "
        f"idle server cpu {r['idle_cpu']['server_cpu_util']}"
    )


def print_w4(name: str, run: int, r: dict[str, Any]) -> None:
    if "error" in r:
        log(f"{name} run {run} W4: {r['error']}")
        return
    log(
        f"{name} run {run} W4: {r['received']}/{r['expected']} in {r['catchup_s']} s after rejoin "
        f"(first after {r['first_message_after_s']} s), in order {r['in_order']}, missing {r['missing']}, "
        f"fill {r['fill']['acks_per_s']} acks/s"
    )


def print_w5(name: str, run: int, r: dict[str, Any]) -> None:
    if "error" in r:
        log(f"{name} run {run} W5: {r['error']}")
        return
    log(
        f"{name} run {run} W5: {r['acked_msgs_per_s']} acked msgs/s ({r['senders']} senders), ack p50 "
        f"{r['ack_latency']['p50_ms']} p99 {r['ack_latency']['p99_ms']} ms, errors {r['errors']}, "
        f"cpu server {r['cpu']['server_cpu_util']} loadgen {r['cpu']['loadgen_cpu_util']} pg+redis "
        f"{r['cpu']['postgres_redis_cpu_s']}s others {r['cpu']['others_cores']} cores -> {r['cpu']['saturated']}"
    )


# -------------------------------------------------------------------------------- report


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(report: dict[str, Any]) -> str:
    configs = report["configs"]
    names = list(configs)
    m = {n: configs[n].get("median", {}) for n in names}
    w2 = {n: median_round(w2_rounds(configs[n])) or {} for n in names}

    def row(label: str, fn: Any) -> str:
        return "| " + label + " | " + " | ".join(fn(n) for n in names) + " |"

    def med(key: str, digits: int = 1) -> Any:
        return lambda n: fmt(m[n].get(key), digits)

    def sat(workload: str) -> Any:
        return lambda n: ", ".join(s or "?" for s in m[n].get(workload + "_saturated", [])) or "–"

    def cores(w: str) -> Any:
        def cell(n: str) -> str:
            med_ = m[n]
            wall = 1.0
            backends = med_.get(f"{w}_backends_cpu_s")
            # pg+redis is CPU seconds over the window; shown per second of the window
            window = {"w1": shapes(report["quick"])["w1"]["duration"], "w5": shapes(report["quick"])["w5"]["duration"]}
            wall = window.get(w, 1.0)
            parts = [
                fmt(med_.get(f"{w}_server_cpu"), 2),
                fmt(med_.get(f"{w}_loadgen_cpu"), 2),
                fmt(backends / wall if isinstance(backends, (int, float)) else None, 2),
                fmt(med_.get(f"{w}_others_cores"), 2),
            ]
            return " / ".join(parts)

        return cell

    def frac(n: str) -> str:
        ratio = same_round_ratio(w2_rounds(configs[n]), ceiling_rounds(report))
        return "–" if ratio is None else f"{ratio:.0%}"

    runs = {n: len(configs[n].get("runs", [])) for n in names}
    lines = [
        f"Run {report['started']} ({'--quick' if report['quick'] else 'full'}; median of "
        + ", ".join(f"{runs[n]} run(s) for {n}" for n in names)
        + f"; {report['machine']['cpus']} CPUs, shared). "
        f"CPU columns are cores used by that process over the measured window (1.0 = one core busy); "
        f"'saturated' lists the side at ≥ 0.85 of a core per run ('machine' = both cores busy, "
        f"'none' = neither).",
        "",
        "| figure | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        row("**W1** deliveries/s (offered 2,000)", med("w1_deliveries_per_s")),
        row(
            "W1 received / expected deliveries",
            lambda n: f"{fmt(m[n].get('w1_received'))} / {fmt(m[n].get('w1_expected'))}",
        ),
        row("W1 lost deliveries (each run)", lambda n: ", ".join(fmt(v) for v in m[n].get("w1_lost_all", [])) or "–"),
        row(
            "W1 latency p50 / p99 / max (ms)",
            lambda n: " / ".join(fmt(m[n].get(k)) for k in ("w1_p50_ms", "w1_p99_ms", "w1_max_ms")),
        ),
        row(
            "W1 acks (each run) / ack p50 ms",
            lambda n: ", ".join(fmt(v) for v in m[n].get("w1_acks_all", [])) + f" / {fmt(m[n].get('w1_ack_p50_ms'))}",
        ),
        row(
            "W1 errors (each run)",
            lambda n: "; ".join(json.dumps(e) if e else "none" for e in m[n].get("w1_errors_all", [])) or "–",
        ),
        row("W1 CPU cores: server / loadgen / pg+redis / others", cores("w1")),
        row("W1 saturated", sat("w1")),
        row("**W2** highest sustained deliveries/s", lambda n: fmt(w2[n].get("max_sustained_deliveries_per_s"))),
        row("W2 as a fraction of the ceiling (more in the W2 section)", frac),
        row("W2 stopped because", lambda n: str(w2[n].get("verdict", w2[n].get("error", "not run")))),
        row("**W3** connections joined", med("w3_connections")),
        row(
            "W3 server RSS before → after (MB)",
            lambda n: f"{fmt(m[n].get('w3_rss_before_mb'))} → {fmt(m[n].get('w3_rss_after_mb'))}",
        ),
        row("W3 server RSS per connection (KB)", med("w3_kb_per_conn")),
        row("W3 connect+join rate (conn/s)", med("w3_conn_per_s")),
        row(
            "W3 CPU while connecting server / loadgen",
            lambda n: f"{fmt(m[n].get('w3_connect_server_cpu'), 2)} / {fmt(m[n].get('w3_connect_loadgen_cpu'), 2)}",
        ),
        row("W3 server CPU while idle (cores)", med("w3_idle_server_cpu", 3)),
        row("**W4** catch-up of 10,000 after rejoin (s)", med("w4_catchup_s", 3)),
        row("W4 first message after (s)", med("w4_first_message_s", 3)),
        row(
            "W4 received, in seq order (each run)",
            lambda n: ", ".join(w4_order_cells(m[n])) or "–",
        ),
        row(
            "W4 CPU server / loadgen",
            lambda n: f"{fmt(m[n].get('w4_server_cpu'), 2)} / {fmt(m[n].get('w4_loadgen_cpu'), 2)}",
        ),
        row("**W5** acknowledged messages/s (100 senders)", med("w5_acked_per_s")),
        row(
            "W5 ack latency p50 / p99 (ms)",
            lambda n: f"{fmt(m[n].get('w5_ack_p50_ms'))} / {fmt(m[n].get('w5_ack_p99_ms'))}",
        ),
        row("W5 CPU cores: server / loadgen / pg+redis / others", cores("w5")),
        row("W5 saturated", sat("w5")),
    ]
    lines += w1_peers_table(report)
    problems = [f"{n}: {p}" for n in names for p in configs[n].get("problems", [])]
    for n in names:
        logged: dict[str, int] = {}
        sources = [run.get("server_log_problems") for run in configs[n].get("runs", [])]
        sources.append(configs[n].get("w2_server_log_problems"))
        for source in sources:
            if isinstance(source, dict):
                for message, count in source.items():
                    logged[message] = logged.get(message, 0) + count
        problems += [f"{n} server logged `{message}` × {count}" for message, count in logged.items()]
    if problems:
        lines += ["", "Problems seen: " + "; ".join(problems)]
    lines += overlap_note(report)
    lines += ["", f"Full figures: `bench/results/{report['stamp']}.json`."]
    return "\n".join(lines)


def w1_peers_table(report: dict[str, Any]) -> list[str]:
    """W1 against the peers (one run each), next to our medians."""
    configs = report.get("configs", {})
    peers = report.get("peers") or {}
    lines: list[str] = []
    w1_rows = []
    for n, c in configs.items():
        m = c.get("median") or {}
        if m.get("w1_deliveries_per_s") is not None:
            w1_rows.append(
                f"| ours, {n} (median) | {fmt(m.get('w1_deliveries_per_s'))} | "
                f"{', '.join(fmt(v) for v in m.get('w1_lost_all', []))} | "
                f"{fmt(m.get('w1_p50_ms'))} / {fmt(m.get('w1_p99_ms'))} / {fmt(m.get('w1_max_ms'))} | "
                f"{fmt(m.get('w1_server_cpu'), 2)} / {fmt(m.get('w1_loadgen_cpu'), 2)} | "
                f"{', '.join(str(x) for x in m.get('w1_saturated', []))} |"
            )
    for peer in peers.values():
        step = dig(peer.get("w1"), "steps", 0)
        if step:
            lat, cpu = step["latency"], step["cpu"]
            w1_rows.append(
                f"| {peer.get('label')} | {fmt(step['deliveries_per_s'])} | {fmt(step['lost_deliveries'])} | "
                f"{fmt(lat['p50_ms'])} / {fmt(lat['p99_ms'])} / {fmt(lat['max_ms'])} | "
                f"{fmt(cpu['server_cpu_util'], 2)} / {fmt(cpu['loadgen_cpu_util'], 2)} | {cpu['saturated']} |"
            )
    if any(not r.startswith("| ours") for r in w1_rows):
        lines += [
            "",
            "W1 (2,000 deliveries/s offered) against the peers, one run each, next to ours:",
            "",
            "| target | deliveries/s | lost | latency p50 / p99 / max (ms) | CPU server / loadgen | saturated |",
            "|---|---|---|---|---|---|",
            *w1_rows,
        ]
    return lines


def step_line(s: dict[str, Any]) -> str:
    cpu = s["cpu"]
    return (
        f"{s['rate_per_sender']:g}/s → {fmt(s['deliveries_per_s'])} dl/s, p99 {fmt(s['latency']['p99_ms'])} ms, "
        f"lost {s['lost_deliveries']}, cores srv {fmt(cpu['server_cpu_util'], 2)} lg {fmt(cpu['loadgen_cpu_util'], 2)} "
        f"others {fmt(cpu.get('others_cores'), 2)}"
    )


def write_readme(text: str, begin: str = BEGIN, end: str = END) -> None:
    if not README.exists():
        return
    current = README.read_text()
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        _, tail = rest.split(end, 1)
        README.write_text(f"{head}{begin}\n{text}\n{end}{tail}")


# ------------------------------------------------------------------------ W2 against the others


def w2_rounds(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The W2 searches of one target (older result files have a single ``w2``)."""
    rounds = result.get("w2_rounds")
    if rounds is None and result.get("w2"):
        rounds = [result["w2"]]
    return list(rounds or [])


def ceiling_rounds(report: dict[str, Any]) -> list[dict[str, Any]]:
    rounds = report.get("ceiling_rounds")
    if rounds is None and report.get("ceiling"):
        rounds = [report["ceiling"]]
    return list(rounds or [])


def best_of(w2: dict[str, Any] | None) -> float | None:
    if not w2 or not w2.get("steps"):
        return None
    value = w2.get("max_sustained_deliveries_per_s")
    return float(value) if isinstance(value, (int, float)) else None


def offered_of(w2: dict[str, Any] | None) -> float | None:
    """The offered deliveries/s of the last step that passed (loss 0: all of them arrived).
    Ratios use it: the measured rate of a step differs from it by a few deliveries of timing
    jitter, which must not decide whether 3.0x of a ladder step is "3x"."""
    if not w2 or not w2.get("steps"):
        return None
    passing = [s["offered_deliveries_per_s"] for s in w2["steps"] if s.get("ok")]
    return float(max(passing)) if passing else 0.0


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The round whose highest sustained figure is the median (the lower middle for an even count)."""
    measured = sorted((r for r in rounds if best_of(r) is not None), key=lambda r: best_of(r) or 0.0)
    if not measured:
        return rounds[0] if rounds else None
    return measured[(len(measured) - 1) // 2]


def same_round_ratio(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> float | None:
    """Median over the rounds of ours ÷ theirs, each ratio taken within one round (same sitting,
    same neighbours); ``inf`` when theirs passed no step while ours did."""
    ratios = []
    for a, b in zip(ours, theirs, strict=False):
        x, y = offered_of(a), offered_of(b)
        if x is None or y is None:
            continue
        ratios.append(x / y if y > 0 else (float("inf") if x > 0 else float("nan")))
    ratios = [r for r in ratios if r == r]  # drop nan
    return statistics.median(ratios) if ratios else None


def w2_targets(report: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(key, label, rounds) of every target of the W2 sitting: ours, the ceiling, the peers."""
    targets = [(n, f"ours, {n}", w2_rounds(c)) for n, c in report.get("configs", {}).items()]
    if ceiling_rounds(report):
        targets.append(("ceiling", "ceiling (bare websockets)", ceiling_rounds(report)))
    for name, peer in (report.get("peers") or {}).items():
        if w2_rounds(peer):
            targets.append((name, peer.get("label", name), w2_rounds(peer)))
    return targets


def sides(step: dict[str, Any] | None) -> str:
    """The CPU of one W2 step: server / load generator / Redis+PostgreSQL / others, and who saturated."""
    if not step:
        return "–"
    cpu = step["cpu"]
    wall = cpu.get("wall_s") or 0
    backends = cpu.get("postgres_redis_cpu_s")
    backend_cores = backends / wall if isinstance(backends, (int, float)) and wall else None
    return (
        f"{fmt(cpu.get('server_cpu_util'), 2)} / {fmt(cpu.get('loadgen_cpu_util'), 2)} / "
        f"{fmt(backend_cores, 2)} / {fmt(cpu.get('others_cores'), 2)} → {cpu.get('saturated')}"
    )


def ratio_cell(ratio: float | None, target: float, percent: bool = False) -> str:
    if ratio is None:
        return "–"
    if ratio == float("inf"):
        return "∞ (it passed no step) ✓"
    # truncated, not rounded: a ratio just under its target never prints as the target
    if percent:
        text = f"{math.floor(ratio * 1000) / 10:.1f}%"
    else:
        text = f"{math.floor(ratio * 100) / 100:.2f}×" if ratio < 10 else f"{math.floor(ratio * 10) / 10:.1f}×"
    return f"{text} {'✓' if ratio >= target else '✗'}"


TARGETS = {"socketio": ("python-socketio", 3.0), "channels": ("Django Channels", 10.0)}


def w2_table(report: dict[str, Any]) -> str:
    """The W2 sitting: every target's highest sustained rate, who saturated, and ours as ratios."""
    targets = w2_targets(report)
    rounds_n = max((len(r) for _, _, r in targets), default=0)
    configs = report.get("configs", {})
    peers = report.get("peers") or {}
    lines = [
        f"W2 sitting {report['started']} ({'--quick' if report['quick'] else 'full'}; {rounds_n} round(s), "
        f"median shown; every search on a fresh server process, the peers each on a fresh redis-server; "
        f"{report['machine']['cpus']} CPUs, shared). CPU columns: cores used by the server / the load generator "
        f"/ Redis+PostgreSQL / everything else on the machine (other people's work) over the step (1.0 = one "
        f"core busy), then the side at ≥ 0.85 of a core ('machine' = both cores busy without either process at "
        f"a core, 'none' = neither).",
        "",
        "| target | highest sustained deliveries/s (each round) | stopped because | CPU at the last passing step "
        "| CPU at the step that failed |",
        "|---|---|---|---|---|",
    ]
    for _, label, rounds in targets:
        median = median_round(rounds) or {}
        steps = median.get("steps") or []
        passing = [s for s in steps if s.get("ok")]
        failed = next((s for s in steps if not s.get("ok")), None)
        each = ", ".join(fmt(None if best_of(r) is None else round(best_of(r) or 0)) for r in rounds)
        lines.append(
            f"| {label} | **{fmt(best_of(median))}** ({each}) | {median.get('verdict', median.get('error', '–'))} "
            f"| {sides(passing[-1] if passing else None)} | {sides(failed)} |"
        )
    ceiling = ceiling_rounds(report)
    if configs and (ceiling or any(w2_rounds(p) for p in peers.values())):
        head = ["ours ÷"]
        cols: list[tuple[list[dict[str, Any]], float, bool]] = []
        for name, (label, target) in TARGETS.items():
            if name in peers and w2_rounds(peers[name]):
                head.append(f"{label} (target ≥ {target:g}×)")
                cols.append((w2_rounds(peers[name]), target, False))
        if ceiling:
            head.append("ceiling (target ≥ 75%)")
            cols.append((ceiling, 0.75, True))
        lines += ["", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for n, c in configs.items():
            cells = [ratio_cell(same_round_ratio(w2_rounds(c), theirs), t, pct) for theirs, t, pct in cols]
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "Each ratio is taken within one round (the same sitting, the same neighbours), then the median over "
            "the rounds, from the offered rate of each side's last passing step (every delivery of it arrived). "
            "✓ = the target is met, ✗ = not met.",
        ]
    med_ceiling = median_round(ceiling)
    if med_ceiling and med_ceiling.get("steps"):
        steps = med_ceiling["steps"]
        passing = [s for s in steps if s.get("ok")]
        last = passing[-1]["cpu"] if passing else None
        if last and (last.get("loadgen_cpu_util") or 0) >= 0.85:
            server = last.get("server_cpu_util") or 0
            if server >= 0.85:
                note = (
                    f"At the ceiling's last passing step both the bare server ({server:.2f}) and the load "
                    f"generator ({last['loadgen_cpu_util']:.2f}) were at a core each: the 2-core machine was "
                    f"full, so the ceiling is what this machine does with the load generator on it."
                )
            else:
                note = (
                    f"At the ceiling's last passing step the load generator was at {last['loadgen_cpu_util']:.2f} "
                    f"core and the bare server at {server:.2f}: the ceiling is load-generator-bound, the bare "
                    f"server can do at least its figure, and ours ÷ ceiling is an upper bound."
                )
            lines += ["", note]
    for _, label, rounds in targets:
        median = median_round(rounds) or {}
        if median.get("steps"):
            lines += ["", f"W2 steps, {label}: " + "; ".join(step_line(s) for s in median["steps"])]
    problems = []
    for peer in peers.values():
        problems += [f"{peer.get('label')}: {p}" for p in peer.get("problems", [])]
        problems += [f"{peer.get('label')} logged `{m}` × {k}" for m, k in (peer.get("log_problems") or {}).items()]
        disorder = sum((r.get("out_of_order") or 0) for r in w2_rounds(peer))
        if disorder:
            problems.append(
                f"{peer.get('label')}: {fmt(disorder)} messages arrived with a lower seq than one before them "
                f"(its seq is only a counter taken before the publish: concurrent sends reach Redis in another "
                f"order; nothing is lost)"
            )
    if problems:
        lines += ["", "Seen on the peers: " + "; ".join(problems)]
    lines += overlap_note(report)
    lines += ["", f"Full figures: `bench/results/{report['stamp']}.json`. Plot: `bench/w2_latency.png`."]
    return "\n".join(lines)


def overlap_note(report: dict[str, Any]) -> list[str]:
    pid = (report.get("lock") or {}).get("overlapped_with_pid")
    if not pid:
        return []
    return ["", f"**This sitting overlapped with another sitting of run.py (pid {pid}) on the same cores.**"]


def publish(report: dict[str, Any], readme: bool, plot: bool) -> None:
    """Print the tables, write them into bench/README.md, draw the W2 plot."""
    full = any(c.get("runs") for c in report.get("configs", {}).values())
    if full:
        text = table(report)
        print()
        print(text)
        if readme:
            write_readme(text)
    if w2_targets(report):
        text = w2_table(report)
        print()
        print(text)
        if readme:
            write_readme(text, W2_BEGIN, W2_END)
        if plot:
            try:
                from w2plot import plot_w2

                plot_w2(report, PLOT)
                log(f"W2 plot: {PLOT}")
            except Exception as exc:  # the plot is a convenience; the figures are in the JSON
                log(f"could not draw the W2 plot: {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------- main

LOCK = Path(tempfile.gettempdir()) / "alongside-bench.lock"


def take_lock(wait: float) -> tuple[IO[str], dict[str, Any]]:
    """One sitting at a time on this machine: two sittings on the same 2 cores measure each
    other. Waits up to ``wait`` seconds for the other one (the lock goes with its process,
    however it ends), then runs anyway and says so in the result."""
    handle = open(LOCK, "a+")  # noqa: SIM115 (held for the whole sitting)
    started = time.monotonic()
    holder = ""
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not holder:
                handle.seek(0)
                holder = handle.read().strip() or "?"
                log(f"another sitting (pid {holder}) is running; waiting up to {wait:g} s for it to end")
            if time.monotonic() - started > wait:
                log(f"still running after {wait:g} s: going ahead, the figures will include its load")
                return handle, {"waited_s": round(wait, 1), "overlapped_with_pid": holder}
            time.sleep(2)
            continue
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle, {"waited_s": round(time.monotonic() - started, 1), "overlapped_with_pid": None}


def on_signal(signum: int, _frame: Any) -> None:
    """SIGTERM ends a sitting as Ctrl-C does: its servers are stopped and its result written."""
    raise KeyboardInterrupt(f"signal {signum}")


def start_sitting(bench: str, lock_wait: float, **about: Any) -> tuple[IO[str], str, Path, dict[str, Any]]:
    """What every sitting of a single bench (flood, soak) starts with: the machine's lock (held
    while the handle lives), SIGTERM as Ctrl-C, a stamp, the logs folder, and the report's head
    (``about`` is what the bench adds about its run, between when it started and the lock)."""
    lock, lock_info = take_lock(lock_wait)
    signal.signal(signal.SIGTERM, on_signal)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "bench": bench,
        "stamp": stamp,
        "started": datetime.now().isoformat(timespec="seconds"),
        **about,
        "lock": lock_info,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "loadavg_start": os.getloadavg()},
    }
    return lock, stamp, logs, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short workloads, 1 run (about 4-5 minutes)")
    parser.add_argument("--runs", type=int, help="runs per configuration (median); default 3, --quick 1")
    parser.add_argument("--configs", default="embedded,redis-pg", help="comma-separated: embedded, redis-pg")
    parser.add_argument(
        "--only", choices=["w2"], help="w2: only W2 of both configurations, the ceiling and the peers (no W1, W3-W5)"
    )
    parser.add_argument(
        "--w2-rounds", type=int, help="W2 searches per target (median); default 1, with --only w2: 3 (--quick: 1)"
    )
    parser.add_argument("--no-w2", dest="w2", action="store_false", help="skip W2, the ceiling and the peers' W2")
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="skip the peers (bench/peers/)")
    parser.add_argument("--login-users", type=int, default=10, help="users logged in over HTTP (the rest: minted)")
    parser.add_argument("--budget", type=float, help="seconds; workloads that would not fit are skipped")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the tables in bench/README.md")
    parser.add_argument("--no-plot", action="store_true", help="do not draw bench/w2_latency.png")
    parser.add_argument("--table-from", type=Path, help="only rewrite the README tables (and plot) from a result JSON")
    parser.add_argument(
        "--lock-wait",
        type=float,
        default=1200,
        help="seconds to wait for another sitting of run.py on this machine to end (default 1200)",
    )
    args = parser.parse_args(argv)
    if args.table_from:
        report = json.loads(args.table_from.read_text())
        publish(report, readme=not args.no_readme, plot=not args.no_plot)
        return 0
    only_w2 = args.only == "w2"
    if only_w2 and not args.w2:
        parser.error("--only w2 and --no-w2 leave nothing to run")
    args.runs = args.runs or (1 if args.quick else 3)
    rounds = args.w2_rounds or (3 if only_w2 and not args.quick else 1)
    per_round = 200 if args.quick else 480
    _lock, lock_info = take_lock(args.lock_wait)
    budget = Budget(args.budget or (per_round * rounds + 30 if only_w2 else 300 if args.quick else 1140))
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in configs:
        if c not in ("embedded", "redis-pg"):
            parser.error(f"unknown configuration {c!r}")
    peers = list(PEERS) if args.peers else []
    signal.signal(signal.SIGTERM, on_signal)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    shape = shapes(args.quick)
    report: dict[str, Any] = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "stamp": stamp,
        "quick": args.quick,
        "only": args.only,
        "runs": 0 if only_w2 else args.runs,
        "w2_rounds": rounds if args.w2 else 0,
        "shapes": shape,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_start": os.getloadavg(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "configs": {},
        "peers": {name: {"label": PEERS[name][3], "problems": []} for name in peers},
        "lock": lock_info,
    }
    started = time.perf_counter()
    prepared: dict[str, Prepared] = {}
    try:
        for name in configs:
            p = prepared[name] = Prepared(name)
            report["configs"][name] = p.result
            try:
                p.setup()
            except Exception as exc:
                p.failed = True
                p.result["problems"].append(f"setup: {type(exc).__name__}: {exc}")
                log(f"{name}: setup FAILED: {exc}")
        # the required figures first (run 1 of both, the peers' W1), then the W2 rounds (the ceiling,
        # both configurations, the peers), then the runs for medians; targets alternate so all see
        # the same neighbours on this shared machine
        plan: list[tuple[Any, ...]] = []
        if not only_w2:
            plan += [("run", 1, n) for n in configs]
            plan += [("peer_w1", name) for name in peers]
        if args.w2:
            for k in range(1, rounds + 1):
                plan += [("ceiling", k)] + [("w2", k, n) for n in configs] + [("peer", k, name) for name in peers]
        if not only_w2:
            plan += [("run", k, n) for k in range(2, args.runs + 1) for n in configs]
        run_cost: dict[str, float] = {}
        # what one W2 search needs to go through every step of ours (connecting, each step, its drain
        # and pause): it is given at least this, so a search is cut short by the budget only if the
        # budget has nothing left (a peer stops early and leaves the rest to the searches after it)
        w2 = shape["w2"]
        w2_min = len(w2["rates"]) * (w2["duration"] + 2.5) + 25
        # a search is started while this much is left (a few steps); it may then use up to its share
        w2_start = 30.0 if args.quick else 60.0
        w2_kinds = ("w2", "ceiling", "peer")

        def w2_share(item: tuple[Any, ...]) -> float:
            """A fair share of what is left among the W2 searches still to run (at least w2_min, at most 300 s)."""
            left = sum(1 for i in plan[plan.index(item) :] if i[0] in w2_kinds)
            return min(300.0, max((budget.left() - 3) / left, w2_min))

        for item in plan:
            kind = item[0]
            if kind == "ceiling":
                if not budget.allows(w2_start):
                    report.setdefault("ceiling_rounds", []).append({"error": "skipped: time budget"})
                    continue
                log(f"== W2 ceiling (bare websockets server), round {item[1]}")
                try:
                    result = run_ceiling(shape, stamp, logs, w2_share(item), tag=f"-{item[1]}")
                except Exception as exc:
                    result = {"error": f"{type(exc).__name__}: {exc}"}
                report.setdefault("ceiling_rounds", []).append(result)
                report.setdefault("ceiling", result)
                print_w2("ceiling", result)
                continue
            if kind in ("peer", "peer_w1"):
                name = item[-1]
                peer = report["peers"][name]
                try:
                    if kind == "peer_w1":
                        if not budget.allows(shape["w1"]["duration"] + 20):
                            peer["problems"].append("W1 skipped: time budget")
                            continue
                        log(f"== {PEERS[name][3]}: W1")
                        run_peer(name, shape, stamp, logs, 0, 0, peer, w1=True, w2=False)
                    else:
                        if not budget.allows(w2_start):
                            peer["problems"].append(f"W2 round {item[1]} skipped: time budget")
                            continue
                        log(f"== {PEERS[name][3]}: W2, round {item[1]}")
                        run_peer(name, shape, stamp, logs, w2_share(item), item[1], peer, w1=False, w2=True)
                except Exception as exc:
                    peer["problems"].append(f"{item}: {type(exc).__name__}: {exc}")
                    log(f"{name} {item}: FAILED: {exc}")
                continue
            p = prepared[item[-1]]
            if p.failed:
                continue
            try:
                if kind == "w2":
                    if not budget.allows(w2_start):
                        p.result["problems"].append(f"W2 round {item[1]} skipped: time budget")
                        continue
                    log(f"== {p.name}: W2, round {item[1]}")
                    run_w2_on(p, shape, stamp, logs, w2_share(item), item[1])
                else:
                    run = item[1]
                    cost = run_cost.get(p.name, 0.0)
                    if run > 1 and not budget.allows(cost + 5):
                        p.result["problems"].append(f"run {run} skipped: time budget")
                        continue
                    log(f"== {p.name}: run {run}")
                    t = time.perf_counter()
                    run_once(p, run, args, shape, stamp, logs)
                    run_cost[p.name] = max(run_cost.get(p.name, 0.0), time.perf_counter() - t)
            except Exception as exc:
                p.result["problems"].append(f"{item}: {type(exc).__name__}: {exc}")
                log(f"{p.name} {item}: FAILED: {exc}")
        for p in prepared.values():
            p.result["median"] = medians(p.result["runs"])
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        report["interrupted"] = True
    finally:
        CHILDREN.stop_all()
        for p in prepared.values():
            p.teardown()
            p.result.setdefault("median", medians(p.result["runs"]))
        report["wall_s"] = round(time.perf_counter() - started, 1)
        report["machine"]["loadavg_end"] = os.getloadavg()
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"{stamp}.json"
        out.write_text(json.dumps(report, indent=1, default=str))
        complete = not report.get("interrupted")
        publish(report, readme=not args.no_readme and complete, plot=not args.no_plot and complete)
        log(f"done in {report['wall_s']} s; results in {out}")
    return 1 if report.get("interrupted") else 0


if __name__ == "__main__":
    sys.exit(main())
