"""The logs of a whole scenario hold no message text, password, token or cookie.

A real server process started the way the Procfile starts it (so uvicorn's own loggers, its
access log included, write what they would in production), at DEBUG, runs through
registration with an invite, sign-in, messages, a crisis message, a report, moderator
actions, a password change, an export link (when the service has one) and logout. Its whole
stderr is then searched for every secret the scenario used. Each line must also be one JSON
object, and the lines the scenario must have written (access lines with request ids, the
socket's open and close) must be there, so an empty or broken capture cannot pass.
"""

from __future__ import annotations

import shlex
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from server.store.database import Database
from tests.support.client import WsClient
from tests.support.lifecycle_cast import ProgramCast, create_program_cast
from tests.support.live import ROOT, ServerProcess
from tests.support.seed import PASSWORD
from tests.support.timing import units

ORIGIN = "http://127.0.0.1:8000"  # ServerProcess's ALLOWED_ORIGINS: the browser's page


class ProcfileServer(ServerProcess):
    """The Procfile's ``web`` command, on this test's port and at DEBUG."""

    def command(self) -> list[str]:
        web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
        words = shlex.split(web.removeprefix("web:").replace("$PORT", str(self.port)))
        assert words[0] == "uvicorn", words
        words = [sys.executable, "-m", "uvicorn", *words[1:], "--log-level", "debug"]
        return ["127.0.0.1" if word == "0.0.0.0" else word for word in words]


@dataclass
class Secrets:
    """Everything the scenario said or was given that must never reach a log."""

    found: dict[str, str] = field(default_factory=dict)

    def add(self, what: str, value: str) -> str:
        self.found[what] = value
        if value.count(".") >= 2:  # a signed token: its signature alone would give it away too
            self.found[f"{what} (signature)"] = value.rsplit(".", 1)[1]
        return value

    def fresh(self, what: str, prefix: str = "") -> str:
        return self.add(what, f"{prefix}{uuid.uuid4().hex}")


class Browser:
    """Cookie and CSRF token, as the chat page sends them."""

    def __init__(self, http: httpx.AsyncClient, secrets: Secrets, who: str) -> None:
        self.http, self.secrets, self.who = http, secrets, who
        self.token = ""
        self.csrf = ""

    def signed_in(self, answer: httpx.Response) -> dict[str, Any]:
        assert answer.status_code in (200, 201), answer.text
        body: dict[str, Any] = answer.json()
        self.token = self.secrets.add(f"{self.who}'s session token", body["token"])
        self.csrf = self.secrets.add(f"{self.who}'s CSRF token", body["csrf_token"])
        self.secrets.add(f"{self.who}'s cookie", answer.cookies["alongside_session"])
        return body

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200, **headers: str) -> Any:
        sent = {"Cookie": f"alongside_session={self.token}", "X-CSRF-Token": self.csrf, **headers}
        answer = await self.http.request(method, path, json=body, headers=sent)
        assert answer.status_code == expect, (method, path, answer.text)
        return answer.json() if answer.content else None


@pytest.fixture
async def scene(sqlite_url: str) -> AsyncIterator[tuple[ProcfileServer, ProgramCast]]:
    db = Database(sqlite_url)
    server = ProcfileServer(sqlite_url, None, LOG_LEVEL="DEBUG")
    server.log_path = Path(sqlite_url.split("///", 1)[1]).with_name("server.log")
    try:
        cast = await create_program_cast(db)
        await server.start()
        yield server, cast
    finally:
        server.close()
        await db.dispose()


async def _scenario(server: ProcfileServer, cast: ProgramCast, secrets: Secrets) -> dict[str, Any]:
    """Run everything once; returns what the log must show happened."""
    secrets.add("the test accounts' password", PASSWORD)
    room, program = cast.cohort_room, cast.program
    async with httpx.AsyncClient(base_url=server.url, timeout=units(10)) as http:
        kim, newbie, pat = (
            Browser(http, secrets, "kim"),
            Browser(http, secrets, "newbie"),
            Browser(http, secrets, "pat"),
        )
        kim.signed_in(await http.post("/api/auth/login", json={"username": "kim", "password": PASSWORD}))
        pat.signed_in(await http.post("/api/auth/login", json={"username": "pat", "password": PASSWORD}))
        invite = await kim.call(
            "POST", f"/api/programs/{program}/invites", {"role": "participant", "cohort": cast.cohort}, 201
        )
        token = secrets.add("invite token", invite["token"])
        assert (await http.get(f"/api/invites/{token}")).json()["valid"] is True
        old_password, new_password = secrets.fresh("first password", "pw-"), secrets.fresh("new password", "pw-")
        wrong = secrets.fresh("a wrong password", "pw-")
        registered = newbie.signed_in(
            await http.post(
                "/api/auth/register",
                json={"username": "newbie", "password": old_password, "display_name": "Newbie", "invite": token},
            )
        )
        me = registered["user"]["id"]
        assert (await http.post("/api/auth/login", json={"username": "newbie", "password": wrong})).status_code == 401
        newbie.signed_in(await http.post("/api/auth/login", json={"username": "newbie", "password": old_password}))

        socket = await WsClient.open(server.ws_url, None, origin=ORIGIN, Cookie=f"alongside_session={newbie.token}")
        assert (await socket.next())["type"] == "hello"
        assert (await socket.join(room))["type"] == "joined"
        said = [await socket.say(room, secrets.fresh(f"message {n}", "body-")) for n in range(3)]
        crisis = await socket.say(room, secrets.add("crisis message", f"i want to end my life {uuid.uuid4().hex}"))
        assert all(answer["type"] == "ack" for answer in [*said, crisis]), said
        peer = await WsClient.open(server.ws_url, pat.token)
        assert (await peer.next())["type"] == "hello"
        assert (await peer.say(room, secrets.fresh("a peer's message", "body-")))["type"] == "ack"
        await peer.close()

        reason = secrets.fresh("report reason", "why-")
        await pat.call("POST", f"/api/rooms/{room}/messages/{said[0]['seq']}/report", {"reason": reason}, 201)
        await pat.call("POST", f"/api/rooms/{room}/messages/{crisis['seq']}/concern", {}, 201)
        await kim.call("GET", "/api/queue")
        await kim.call("GET", f"/api/rooms/{room}/messages?after=0")
        await kim.call("DELETE", f"/api/rooms/{room}/messages/{said[1]['seq']}", {"reason": "removed"})
        await kim.call("POST", f"/api/programs/{program}/warnings", {"user": me, "reason": "be kind"}, 201)
        note = secrets.fresh("a moderator's note", "note-")
        await kim.call("POST", f"/api/programs/{program}/people/{me}/notes", {"body": note}, 201)
        await kim.call("POST", f"/api/rooms/{room}/mutes", {"user": me, "minutes": 5})

        asked = "scenario-request-0001"
        await newbie.call(
            "POST",
            "/api/me/password",
            {"current_password": old_password, "new_password": new_password},
            **{"X-Request-ID": asked},
        )
        exported = await http.post(
            "/api/me/export", headers={"Cookie": f"alongside_session={newbie.token}", "X-CSRF-Token": newbie.csrf}
        )
        if exported.status_code != 404:  # the export may not exist yet in this service
            assert exported.status_code == 201, exported.text
            link = exported.json()["url"]
            secrets.add("export token", link.rsplit("/", 1)[1])
            await newbie.call("GET", link)
        await newbie.call("POST", "/api/auth/logout", expect=204)
        await socket.close()
        await kim.call("POST", "/api/auth/logout", expect=204)
    return {"user": me, "request_id": asked, "exported": exported.status_code != 404}


async def test_the_logs_of_a_whole_scenario_hold_no_secret(scene: tuple[ProcfileServer, ProgramCast]) -> None:
    server, cast = scene
    secrets = Secrets()
    happened = await _scenario(server, cast, secrets)
    server.stop()  # SIGTERM: the process writes its last lines and exits
    text = server.log_path.read_text()

    lines = [orjson.loads(line) for line in text.splitlines() if line.strip()]  # one JSON object a line
    access = [line for line in lines if line.get("logger") == "alongside.http"]
    paths = {line["path"] for line in access}
    assert {"/api/invites/{token}", "/api/auth/register", "/api/me/password", "/api/auth/logout"} <= paths
    if happened["exported"]:
        assert "/api/me/export/{token}" in paths
    assert all(len(line["request_id"]) > 0 for line in access)
    [changed] = [line for line in access if line["request_id"] == happened["request_id"]]
    assert (changed["path"], changed["status"], changed["user"]) == ("/api/me/password", 200, happened["user"])
    sockets = [
        line for line in lines if line.get("msg") in ("ws open", "ws closed") and line.get("user") == happened["user"]
    ]
    assert [line["msg"] for line in sockets] == ["ws open", "ws closed"] and sockets[0]["conn"] == sockets[1]["conn"]

    leaked = [what for what, value in secrets.found.items() if any(piece in text for piece in _pieces(value))]
    assert leaked == [], f"found in the server's log: {leaked}"


def _pieces(secret: str, width: int = 12) -> list[str]:
    """Every run of ``width`` characters of the secret: a log line that cuts a frame or a
    header short (as the websockets library's debug lines do) still gives part of it away."""
    return [secret[start : start + width] for start in range(max(1, len(secret) - width + 1))]
