"""Structured logs: request ids (honoured from a proxy when well-formed, echoed), one access
line per HTTP request with the route's template, and WebSocket open/close lines; every line
written while handling a request or socket names it."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from server.logs import ContextFilter, JsonFormatter
from server.store.database import Database
from tests.support.client import WsClient
from tests.support.live import Live
from tests.support.seed import Account, Cast, create_cast
from tests.support.timing import units


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def where(self, **wanted: Any) -> list[dict[str, Any]]:
        return [line for line in self.lines() if all(line.get(k) == v for k, v in wanted.items())]


@pytest.fixture
def captured() -> Iterator[Captured]:
    """The server's log lines at DEBUG, as configure_logging formats them."""
    capture = Captured()
    handler = logging.StreamHandler(capture.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("alongside")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
async def cast(live: Live, sqlite_url: str) -> AsyncIterator[Cast]:
    db = Database(sqlite_url)
    try:
        yield await create_cast(db)
    finally:
        await db.dispose()


async def _token(live: Live, who: Account) -> str:
    async with httpx.AsyncClient(base_url=live.url) as http:
        answer = await http.post("/api/auth/login", json={"username": who.username, "password": who.password})
    token: str = answer.json()["token"]
    return token


@pytest.mark.parametrize(
    ("presented", "kept"),
    [
        ("3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", True),
        ("req.42:edge-1_a", True),
        ("has space", False),
        ("x" * 129, False),
        ("tab\tinside", False),
        ("semi;colon", False),
        ('quote"brace}', False),
        (None, False),
    ],
)
async def test_a_request_id_is_honoured_when_well_formed_and_echoed(
    live: Live, captured: Captured, presented: str | None, kept: bool
) -> None:
    headers = {} if presented is None else {"X-Request-ID": presented}
    async with httpx.AsyncClient(base_url=live.url) as http:
        answer = await http.get("/healthz", headers=headers)
    echoed = answer.headers["x-request-id"]
    if kept:
        assert echoed == presented
    else:
        assert echoed != presented and len(echoed) == 16 and int(echoed, 16) >= 0
    [line] = captured.where(logger="alongside.http", request_id=echoed)
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert isinstance(line["ms"], float)


async def test_the_access_line_names_the_route_not_the_path_or_query(
    live: Live, cast: Cast, captured: Captured
) -> None:
    token = await _token(live, cast.ann)
    secret = "not-a-real-invite-token-but-secret"
    async with httpx.AsyncClient(base_url=live.url) as http:
        preview = await http.get(f"/api/invites/{secret}?t={secret}")
        history = await http.get(
            f"/api/rooms/{cast.room}/messages?after=0&x={secret}", headers={"Authorization": f"Bearer {token}"}
        )
        refused = await http.get("/api/me")
        missing = await http.get("/no/such/page")
    lines = {line["request_id"]: line for line in captured.where(logger="alongside.http")}
    assert secret not in captured.stream.getvalue()
    assert token not in captured.stream.getvalue()
    expected = [
        (preview, "/api/invites/{token}", None),
        (history, "/api/rooms/{room_id}/messages", cast.ann.person.id),
        (refused, "/api/me", None),
        (missing, "/no/such/page", None),
    ]
    for answer, path, user in expected:
        line = lines[answer.headers["x-request-id"]]
        assert (line["path"], line["status"], line.get("user")) == (path, answer.status_code, user), line
    sign_in = [line for line in captured.where(logger="alongside.http", path="/api/auth/login")]
    assert sign_in and sign_in[0]["user"] == cast.ann.person.id  # known once signed in


async def test_a_socket_has_a_connection_id_on_every_line_of_it(live: Live, cast: Cast, captured: Captured) -> None:
    token = await _token(live, cast.ann)
    client = await WsClient.open(live.ws_url, token)
    assert (await client.next())["type"] == "hello"
    await client.send(b"\x00binary")  # answered with an error; nothing is logged about its content
    assert (await client.next())["code"] == "invalid"
    await client.close()
    refused = await WsClient.open(live.ws_url, "forged-token")
    await refused.next()
    await refused.ws.wait_closed()
    for _ in range(int(units(50))):  # the server writes its close line once it saw the close
        if captured.where(msg="ws closed"):
            break
        await asyncio.sleep(0.02)
    [opened] = captured.where(msg="ws open")
    [closed] = captured.where(msg="ws closed")
    [no_session] = captured.where(msg="ws refused: no valid session")
    assert opened["conn"] == closed["conn"] and len(opened["conn"]) == 16
    assert opened["user"] == closed["user"] == cast.ann.person.id
    assert (closed["close"], closed["by"]) == (1000, "client")
    assert no_session["conn"] != opened["conn"] and "user" not in no_session and no_session["close"] == 4001
    assert all("request_id" not in line for line in captured.where(conn=opened["conn"]))
