"""Changing one's password (POST /api/me/password): the rules of registration, CSRF like every
cookie write, and every other session of the person ended at once, sockets included, on every
process; the session that changed it keeps working."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.store.database import Database
from tests.support.client import WsClient, login
from tests.support.cluster import running
from tests.support.live import Live, live_server, settings_for
from tests.support.redis_server import RedisServer
from tests.support.seed import PASSWORD, Account, create_user
from tests.support.timing import units

NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture
async def served(sqlite_url: str) -> AsyncIterator[tuple[Live, Account]]:
    db = Database(sqlite_url)
    ann = await create_user(db, "ann", display_name="Ann")
    # a long periodic pass: sockets must close because of the change, not the pass's session sweep
    async with live_server(settings_for(sqlite_url, sync_interval=60.0)) as live:
        yield live, ann
    await db.dispose()


async def _sign_in(base_url: str, password: str = PASSWORD) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        answer = await http.post("/api/auth/login", json={"username": "ann", "password": password})
    assert answer.status_code == 200, answer.text
    signed: dict[str, Any] = answer.json()
    return signed


def _cookie(signed: dict[str, Any]) -> dict[str, str]:
    """A browser's headers: the session cookie and the CSRF token."""
    return {"Cookie": f"alongside_session={signed['token']}", "X-CSRF-Token": signed["csrf_token"]}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_change_ends_every_other_session_and_the_old_password(served: tuple[Live, Account]) -> None:
    live, _ = served
    here = await _sign_in(live.url)  # the browser that changes it, by cookie
    phone, laptop = await _sign_in(live.url), await _sign_in(live.url)
    sockets = [await WsClient.open(live.ws_url, signed["token"]) for signed in (phone, laptop)]
    own_socket = await WsClient.open(live.ws_url, here["token"])
    for client in (*sockets, own_socket):
        assert (await client.next())["type"] == "hello"
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    async with httpx.AsyncClient(base_url=live.url) as http:
        answer = await http.post("/api/me/password", json=body, headers=_cookie(here))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"ended_sessions": 2}
        for client in sockets:
            await asyncio.wait_for(client.ws.wait_closed(), units(5))
            assert client.ws.close_code == 4001
        for signed in (phone, laptop):
            refused = await http.get("/api/me", headers=_bearer(signed["token"]))
            assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        assert (await http.get("/api/me", headers=_cookie(here))).status_code == 200  # this one stays
        await own_socket.send({"type": "ping", "ref": "still-here"})
        assert (await own_socket.next())["type"] == "pong"
        old = await http.post("/api/auth/login", json={"username": "ann", "password": PASSWORD})
        assert old.status_code == 401
        late = await WsClient.open(live.ws_url, phone["token"])  # a revoked session cannot reconnect
        assert (await late.next())["code"] == "unauthorized"
        await asyncio.wait_for(late.ws.wait_closed(), units(5))
        assert late.ws.close_code == 4001
    await _sign_in(live.url, NEW_PASSWORD)
    await own_socket.close()


@pytest.mark.parametrize(
    ("headers_of", "body", "status", "code"),
    [
        ("cookie", {"current_password": "not-the-password", "new_password": NEW_PASSWORD}, 403, "forbidden"),
        ("cookie", {"current_password": PASSWORD, "new_password": "short"}, 400, "invalid"),
        ("cookie", {"current_password": PASSWORD, "new_password": " " * 12}, 400, "invalid"),
        ("cookie", {"current_password": PASSWORD}, 400, "invalid"),
        ("cookie", {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "extra": 1}, 400, "invalid"),
        ("cookie_no_csrf", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, 403, "csrf"),
        ("nobody", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, 401, "unauthorized"),
    ],
)
async def test_refused_changes_change_nothing(
    served: tuple[Live, Account], headers_of: str, body: dict[str, Any], status: int, code: str
) -> None:
    live, _ = served
    here, other = await _sign_in(live.url), await _sign_in(live.url)
    headers = {
        "cookie": _cookie(here),
        "cookie_no_csrf": {"Cookie": f"alongside_session={here['token']}"},
        "nobody": {},
    }[headers_of]
    async with httpx.AsyncClient(base_url=live.url) as http:
        answer = await http.post("/api/me/password", json=body, headers=headers)
        assert (answer.status_code, answer.json()["code"]) == (status, code)
        assert (await http.get("/api/me", headers=_bearer(other["token"]))).status_code == 200
    await _sign_in(live.url, PASSWORD)  # the old password still works


async def test_wrong_current_passwords_are_throttled_like_sign_ins(served: tuple[Live, Account]) -> None:
    live, _ = served
    here = await _sign_in(live.url)
    wrong = {"current_password": "not-the-password", "new_password": NEW_PASSWORD}
    async with httpx.AsyncClient(base_url=live.url) as http:
        codes = [
            (await http.post("/api/me/password", json=wrong, headers=_bearer(here["token"]))).status_code
            for _ in range(12)
        ]
        assert codes[0] == 403 and codes[-1] == 429, codes
        right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        assert (await http.post("/api/me/password", json=right, headers=_bearer(here["token"]))).status_code == 429


async def test_a_change_on_one_process_closes_sockets_on_the_other(
    shared_db_url: str, redis_server: RedisServer
) -> None:
    db = Database(shared_db_url)
    try:
        ann = await create_user(db, "ann", display_name="Ann")
        async with running(shared_db_url, redis_server.url, SYNC_INTERVAL="60") as (first, second):
            old = await login(second.url, ann.username, ann.password)
            client = await WsClient.open(second.ws_url, old)
            assert (await client.next())["type"] == "hello"
            here = await login(first.url, ann.username, ann.password)
            body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
            async with httpx.AsyncClient() as http:
                answer = await http.post(first.url + "/api/me/password", json=body, headers=_bearer(here))
                assert answer.status_code == 200, answer.text
                await asyncio.wait_for(client.ws.wait_closed(), units(5))
                assert client.ws.close_code == 4001
                assert (await http.get(second.url + "/api/me", headers=_bearer(old))).status_code == 401
                assert (await http.get(second.url + "/api/me", headers=_bearer(here))).status_code == 200
    finally:
        await db.dispose()
