"""Servers for tests: uvicorn in the test's own event loop, or separate OS processes.

In-loop servers let a test observe the app and control it; process servers are used where
a test needs several processes or kills one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
import uvicorn

from server.admission import HTTP_PROTOCOL
from server.app import Alongside, create_app
from server.settings import Limits, Settings, load_crisis_resources, load_crisis_settings, load_privacy
from server.transport import OUR_PROTOCOLS, UVICORN_WS_FLAGS, WS_PROTOCOL
from tests.support.timing import units

ROOT = Path(__file__).resolve().parents[2]
TEST_KEYS = ("test-key-newest-0123456789abcdefghijklmnop", "test-key-older-0123456789abcdefghijklmnopq")


def settings_for(database_url: str, redis_url: str | None = None, **changes: object) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        secret_keys=TEST_KEYS,
        allowed_origins=("http://127.0.0.1:8000", "http://testclient.local"),
        sync_interval=0.5,
        presence_ttl=3.0,
        limits=Limits(rate_per_second=1000.0, rate_burst=1000, refused_per_second=1000.0, refused_burst=1000),
        crisis_resources=load_crisis_resources(),
        crisis=load_crisis_settings(),
        privacy=load_privacy(),
    ).with_(**changes)


@dataclass
class Live:
    url: str
    app: Alongside
    server: uvicorn.Server

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[Live]:
    """Run the app under uvicorn in this loop on a free port until the block ends.

    The server's own origin is added to the allowed origins, as a deployment would list it.
    """
    sock = _bound_socket()
    port = sock.getsockname()[1]
    settings = settings.with_(allowed_origins=(*settings.allowed_origins, f"http://127.0.0.1:{port}"))
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        ws=WS_PROTOCOL,
        http=HTTP_PROTOCOL,
        ws_max_size=settings.limits.transport_max_bytes,
        ws_per_message_deflate=False,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + units(10)
    while not server.started:
        if task.done():
            task.result()
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        await asyncio.sleep(0.01)
    try:
        yield Live(url=f"http://127.0.0.1:{port}", app=app, server=server)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, units(15))
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`uvicorn server.app:app` in its own process, configured through the environment."""

    def __init__(self, database_url: str, redis_url: str | None, port: int | None = None, **env: str) -> None:
        self.port = port or free_port()
        self.env = {
            **os.environ,
            "ALONGSIDE_ENV": "test",
            "DATABASE_URL": database_url,
            "SECRET_KEYS": ",".join(TEST_KEYS),
            "ALLOWED_ORIGINS": "http://127.0.0.1:8000",
            "SYNC_INTERVAL": "0.5",
            "PRESENCE_TTL": "3",
            **env,
        }
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        else:
            self.env.pop("REDIS_URL", None)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"alongside-server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def command(self) -> list[str]:
        """How the process is started (a test may start it the way a deployment does)."""
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "server.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *OUR_PROTOCOLS,
            *UVICORN_WS_FLAGS,
            "--log-level",
            "warning",
        ]

    async def start(self) -> None:
        if self._log is None:
            self._log = self.log_path.open("ab")
        log = self._log
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + units(20)
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
                try:
                    if (await client.get(self.url + "/readyz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("server process did not become ready")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=units(15))
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None
