"""`python -m server` as an operator would type it: accounts, programs, lifecycle steps, the demo."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.auth.tokens import Signers
from server.store import enrollments
from server.store import invites as invite_store
from server.store.database import Database
from tests.support.client import WsClient
from tests.support.lifecycle_cast import create_program_cast
from tests.support.live import ROOT, live_server, settings_for
from tests.support.seed import PASSWORD, create_user


def _run(
    args: list[str],
    db_url: str,
    password: str | None = None,
    stdin: str | None = None,
    redis_url: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "ALONGSIDE_ENV": "test", "SECRET_KEYS": "k" * 40}
    env.pop("ALONGSIDE_PASSWORD", None)
    env.pop("REDIS_URL", None)
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
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


def _demo_passwords(output: str) -> dict[str, str]:
    """username -> password from the demo's printed table."""
    rows = [line.split() for line in output.splitlines() if line.startswith("  ")]
    return {row[0]: row[1] for row in rows}


async def _login(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    answer = await http.post("/api/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, (username, answer.text)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def _roles(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    rooms = (await http.get("/api/rooms", headers=headers)).json()["rooms"]
    return {room["name"]: room["role"] for room in rooms}


async def test_demo_creates_what_it_says_and_its_passwords_sign_in(sqlite_url: str) -> None:
    made = await asyncio.to_thread(_run, ["demo"], sqlite_url)
    assert made.returncode == 0, made.stderr
    passwords = _demo_passwords(made.stdout)
    assert set(passwords) == {"morgan", "dr.rivera", "sam.okafor", "jordan", "casey", "riley", "taylor", "quinn"}
    again = await asyncio.to_thread(_run, ["demo"], sqlite_url)
    assert again.returncode == 1 and "exists already" in again.stderr and again.stdout == ""
    async with live_server(settings_for(sqlite_url)) as live, httpx.AsyncClient(base_url=live.url) as http:
        logins = {name: await _login(http, name, password) for name, password in passwords.items()}
        jordan = await _roles(http, logins["jordan"])
        current = next(name for name in jordan if name.endswith(" cohort"))
        assert jordan == {
            current: "member",
            "Mindfulness": "member",
            "Nutrition": "member",
            "Jordan · counsellor": "member",
        }
        taylor = await _roles(http, logins["taylor"])
        past = next(name for name in taylor if name.endswith(" cohort"))
        assert past != current
        assert taylor == {
            past: "reader",
            "Mindfulness": "member",
            "Nutrition": "member",
            "Alumni": "member",
            "Taylor · counsellor": "reader",
        }
        rivera = await _roles(http, logins["dr.rivera"])
        assert rivera == {
            past: "moderator",
            current: "moderator",
            "Mindfulness": "moderator",
            "Nutrition": "moderator",
            "Alumni": "moderator",
            "Jordan · counsellor": "moderator",
            "Casey · counsellor": "moderator",
            "Taylor · counsellor": "moderator",
        }
        assert await _roles(http, logins["morgan"]) == {}  # the admin manages; they belong to no room
        rooms = {r["name"]: r["id"] for r in (await http.get("/api/rooms", headers=logins["taylor"])).json()["rooms"]}
        alumni = (await http.get(f"/api/rooms/{rooms['Alumni']}/messages", headers=logins["taylor"])).json()
        assert [m["body"] for m in alumni["messages"] if m["type"] == "message"] == [
            "Three months out and still going. Coffee on Saturday, anyone?",
            "Count me in.",
        ]
        me = (await http.get("/api/me", headers=logins["taylor"])).json()["user"]
        record = await http.get(f"/api/programs/1/people/{me['id']}", headers=logins["morgan"])
        assert record.json()["enrollment"]["status"] == "alumni"
        assert record.json()["counsellor"]["username"] == "dr.rivera"
        assert record.json()["user"]["real_name"] == "Taylor Brooks"  # staff see real names


async def test_operator_commands_make_a_program_and_move_people(sqlite_url: str) -> None:
    async def cli(*args: str) -> str:
        done = await asyncio.to_thread(_run, list(args), sqlite_url)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    async def refused(*args: str) -> str:
        done = await asyncio.to_thread(_run, list(args), sqlite_url)
        assert done.returncode != 0, args
        return done.stderr

    assert "created program 1 'Day IOP'" in await cli("program", "create", "Day IOP")
    assert "exists already" in await refused("program", "create", "Day IOP")
    assert "created cohort 1 'Spring'" in await cli(
        "cohort", "create", "--program", "1", "Spring", "--starts", "2026-03-02", "--ends", "2026-05-29"
    )
    assert "not a date" in await refused("cohort", "create", "--program", "1", "X", "--starts", "March")
    assert "needs a cohort of this program (--cohort)" in await refused("invite", "create", "--program", "1")
    printed = await cli("invite", "create", "--program", "1", "--cohort", "1", "--uses", "3", "--days", "2")
    token = next(line.split()[1] for line in printed.splitlines() if line.startswith("token:"))
    assert f"/#invite={token}" in printed
    invite_id = Signers(("k" * 40,)).invite.verify(token)
    db = Database(sqlite_url)
    try:
        async with db.read() as conn:
            invite = await invite_store.get(conn, invite_id)
        assert invite is not None and (invite.role, invite.cohort_id, invite.max_uses) == ("participant", 1, 3)
        kim = await create_user(db, "kim", "staff", "Kim")
        ann = await create_user(db, "ann", display_name="Ann")
        async with db.write() as conn:
            await enrollments.enroll(conn, person=kim.person, program_id=1, cohort_id=None, role="staff", by=None)
            await enrollments.enroll(conn, person=ann.person, program_id=1, cohort_id=1, role="participant", by=None)
    finally:
        await db.dispose()
    assert "only participants" in await refused("assign-counsellor", "kim", "ann", "--program", "1")
    assert "ann is not active staff" in await refused("assign-counsellor", "ann", "ann", "--program", "1")
    assert "kim is ann's counsellor" in await cli("assign-counsellor", "ann", "kim", "--program", "1")
    assert "ann is now withdrawn" in await cli("withdraw", "ann", "--program", "1", "--reason", "moved away")
    assert "cannot go from withdrawn to alumni" in await refused("graduate", "ann", "--program", "1")
    assert "ann is now active" in await cli("readmit", "ann", "--program", "1")
    assert "graduated 1 from cohort 1: ann" in await cli("graduate", "--cohort", "1", "--reason", "finished")
    assert "no user 'zed'" in await refused("withdraw", "zed", "--program", "1", "--reason", "x")
    async with live_server(settings_for(sqlite_url)) as live, httpx.AsyncClient(base_url=live.url) as http:
        staff = await _login(http, "kim", PASSWORD)
        record = (await http.get(f"/api/programs/1/people/{ann.person.id}", headers=staff)).json()
    moves = [(m["from"], m["to"], m["by"], m["reason"]) for m in record["history"]]
    assert moves == [
        (None, "active", None, None),
        ("active", "withdrawn", None, "moved away"),
        ("withdrawn", "active", None, None),
        ("active", "alumni", None, "finished"),
    ]
    assert record["counsellor"]["username"] == "kim"


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis", "no-redis"])
async def test_a_withdrawal_at_the_command_line_reaches_a_running_server(
    sqlite_url: str, with_redis: bool, request: pytest.FixtureRequest
) -> None:
    """With Redis the command publishes the change; without it the server's periodic pass
    (SYNC_INTERVAL, 0.5 s in tests) finds the revoked session and closes its socket."""
    redis_url = request.getfixturevalue("redis_server").url if with_redis else None
    db = Database(sqlite_url)
    try:
        cast = await create_program_cast(db)
    finally:
        await db.dispose()
    async with live_server(settings_for(sqlite_url, redis_url)) as live, httpx.AsyncClient(base_url=live.url) as http:
        headers = await _login(http, cast.participant.username, cast.participant.password)
        client = await WsClient.open(live.ws_url, headers["Authorization"].split()[1])
        assert (await client.next())["type"] == "hello"
        await client.join(cast.cohort_room, since=None)
        withdraw = ["withdraw", "pat", "--program", str(cast.program), "--reason", "discharged"]
        done = await asyncio.to_thread(_run, withdraw, sqlite_url, None, None, redis_url)
        assert done.returncode == 0, done.stderr
        frames = await client.until(lambda f: f.get("type") == "error", timeout=5)
        assert frames[-1]["code"] == "unauthorized"
        await client.ws.wait_closed()
        assert client.ws.close_code == 4001
        assert (await http.get("/api/me", headers=headers)).status_code == 401
