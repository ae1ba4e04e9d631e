"""`python -m server create-user` as an admin would type it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.live import ROOT, live_server, settings_for


def _run(
    args: list[str], db_url: str, password: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "ALONGSIDE_ENV": "test", "SECRET_KEYS": "k" * 40}
    env.pop("ALONGSIDE_PASSWORD", None)
    if password is not None:
        env["ALONGSIDE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_create_user_then_log_in(sqlite_url: str) -> None:
    made = _run(
        ["create-user", "Dana", "--role", "admin", "--display-name", "Dana R"],
        sqlite_url,
        password="a strong passphrase",
    )
    assert made.returncode == 0, made.stderr
    piped = _run(["create-user", "eli"], sqlite_url, stdin="another passphrase\n")
    assert piped.returncode == 0, piped.stderr
    async with live_server(settings_for(sqlite_url)) as live, httpx.AsyncClient(base_url=live.url) as http:
        dana = await http.post("/api/auth/login", json={"username": "dana", "password": "a strong passphrase"})
        assert dana.json()["user"] == {"id": 1, "username": "dana", "display_name": "Dana R", "role": "admin"}
        eli = await http.post("/api/auth/login", json={"username": "eli", "password": "another passphrase"})
        assert eli.json()["user"]["role"] == "participant"


def test_create_user_refuses_bad_input(sqlite_url: str) -> None:
    assert _run(["create-user", "ok-name"], sqlite_url, password="short").returncode == 2
    assert _run(["create-user", "x"], sqlite_url, password="long enough password").returncode == 2
    assert _run(["create-user", "fine", "--role", "king"], sqlite_url, password="long enough password").returncode == 2
    assert _run(["create-user", "fine"], sqlite_url, password="long enough password").returncode == 0
    taken = _run(["create-user", "FINE"], sqlite_url, password="long enough password")
    assert taken.returncode == 1 and "taken" in taken.stderr


def test_production_without_keys_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEYS"}
    env.update(ALONGSIDE_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run(
        [sys.executable, "-m", "server", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "SECRET_KEYS" in result.stderr
