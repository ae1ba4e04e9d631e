"""Handshake throttling over real sockets (issue 7, bench/flood.py; the rule is server.rules.handshake).

Bad tokens from one address are told ``unauthorized`` and closed ``4001`` until the address's
failure budget is spent, then refused with HTTP 429 before the upgrade while good tokens from
the same address still open; a person whose sockets keep being closed for flooding (1009) or
who keeps presenting a revoked session is refused with 429 and ``retry_after``, before the
session is read, whichever session they come back with.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from websockets.exceptions import InvalidStatus

import server.app as app_module
from server.protocol import CloseCode
from server.settings import Limits
from server.store.database import Database
from server.ws import early_refusal
from tests.support.client import WsClient, login, signed_in_socket
from tests.support.live import Live, live_server, settings_for
from tests.support.seed import Account, create_cast

# three failures per address and two strikes per person, refilled too slowly to matter here
LIMITS = Limits(
    rate_per_second=1000.0,
    rate_burst=1000,
    handshake_failures_per_second=0.001,
    handshake_failures_burst=3,
    handshake_strikes_per_minute=0.06,
    handshake_strikes_burst=2,
)


@dataclass
class World:
    live: Live
    ann: Account
    ben: Account


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    db = Database(sqlite_url)
    cast = await create_cast(db)
    async with live_server(settings_for(sqlite_url, limits=LIMITS)) as live:
        yield World(live, cast.ann, cast.ben)
    await db.dispose()


async def told_to_sign_in(world: World, token: str | None) -> None:
    bad = await WsClient.open(world.live.ws_url, token)
    assert (await bad.next())["code"] == "unauthorized"
    await asyncio.wait_for(bad.ended(), 5)
    assert bad.ws.close_code == CloseCode.SESSION_ENDED


async def throttled(world: World, token: str | None) -> int:
    """The handshake is refused with 429 before the upgrade; its retry_after in seconds."""
    with pytest.raises(InvalidStatus) as caught:
        await WsClient.open(world.live.ws_url, token)
    response = caught.value.response
    assert response.status_code == 429
    body = orjson.loads(response.body)
    assert body["code"] == "rate_limited" and body["retry_after"] >= 1
    assert response.headers["Retry-After"] == str(body["retry_after"])
    return int(body["retry_after"])


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def gone(world: World, who: Account) -> None:
    """Until the server has let go of every socket of this person."""
    hub = world.live.app.state.services.hub
    for _ in range(100):
        if not [conn for conn in hub.connections if conn.person.id == who.person.id]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server still holds the socket")


async def answers_a_ping(client: WsClient) -> None:
    await client.send({"type": "ping", "ref": "p"})
    assert (await client.until(lambda f: f.get("ref") == "p"))[-1] == {"type": "pong", "ref": "p"}
    await client.close()


async def refused_handshakes(world: World, reason: str) -> float:
    async with httpx.AsyncClient(base_url=world.live.url) as http:
        text = (await http.get("/metrics")).text
    line = f'alongside_handshakes_refused_total{{reason="{reason}"}} '
    return sum(float(row[len(line) :]) for row in text.splitlines() if row.startswith(line))


async def test_bad_tokens_past_the_address_budget_get_429_and_good_ones_still_open(world: World) -> None:
    for token in ("forged", None, "another forged one"):
        await told_to_sign_in(world, token)
    errors = Errors()
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(errors)
    try:
        assert await throttled(world, "forged again") >= 1
        assert await throttled(world, None) >= 1
    finally:
        uvicorn_log.removeHandler(errors)
    assert not errors.records, "a refusal before the upgrade is a finished handshake, not an error"
    ann = await signed_in_socket(world.live, world.ann)  # someone else behind the same address
    await answers_a_ping(ann)
    assert await refused_handshakes(world, "unauthorized") == 3
    assert await refused_handshakes(world, "throttled") == 2


async def test_a_throttled_handshake_waits_for_its_answer_and_a_good_one_does_not(world: World) -> None:
    """The deployed tarpit (server.admission.RefusalTarpit): a client that ignores retry_after
    comes back at most once per ``refused_handshake_delay``; nobody else waits for it."""
    token = await login(world.live.url, world.ann.username, world.ann.password)
    for bad in ("forged", None, "another forged one"):
        await told_to_sign_in(world, bad)
    clock = asyncio.get_running_loop().time
    started = clock()
    refused = asyncio.create_task(throttled(world, "forged again"))
    good = await WsClient.open(world.live.ws_url, token)  # from the same address, meanwhile
    assert clock() - started < LIMITS.refused_handshake_delay and not refused.done()
    assert await refused >= 1
    assert clock() - started >= LIMITS.refused_handshake_delay * 0.9
    await answers_a_ping(good)


async def test_a_person_whose_sockets_are_closed_for_flooding_cannot_reconnect_in_a_loop(world: World) -> None:
    limit = world.live.app.state.services.settings.limits.transport_max_bytes
    token = await login(world.live.url, world.ann.username, world.ann.password)
    for _ in range(LIMITS.handshake_strikes_burst):
        flooder = await WsClient.open(world.live.ws_url, token)
        assert (await flooder.next())["type"] == "hello"
        await flooder.send("z" * (limit + 1))
        await asyncio.wait_for(flooder.ended(), 5)
        assert flooder.ws.close_code == CloseCode.TOO_BIG
        await gone(world, world.ann)  # the strike is taken as the server lets the socket go
    retry_after = await throttled(world, token)  # refused before the session is read
    assert retry_after == pytest.approx(60 / LIMITS.handshake_strikes_per_minute, abs=1)
    again = await login(world.live.url, world.ann.username, world.ann.password)
    await throttled(world, again)  # a new sign-in is the same person
    await answers_a_ping(await signed_in_socket(world.live, world.ben))  # nobody else is affected


async def test_a_revoked_session_presented_again_and_again_is_throttled(world: World) -> None:
    token = await login(world.live.url, world.ann.username, world.ann.password)
    async with httpx.AsyncClient(base_url=world.live.url) as http:
        response = await http.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 204
    for _ in range(LIMITS.handshake_strikes_burst):
        await told_to_sign_in(world, token)  # what the browser needs to go to the sign-in page
    await throttled(world, token)


class Calls:
    """The app's WebSocket endpoint, counting the handshakes that reach it."""

    def __init__(self, endpoint: Any) -> None:
        self.endpoint = endpoint
        self.count = 0

    async def __call__(self, *args: Any) -> None:
        self.count += 1
        await self.endpoint(*args)


async def test_refusals_are_answered_before_the_upgrade_reaches_the_app(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deployed HTTP protocol (server.admission) answers 429 and 403 itself; only what it does
    not refuse reaches the endpoint, which still decides (and charges) the rest."""
    calls = Calls(app_module.websocket_endpoint)
    monkeypatch.setattr(app_module, "websocket_endpoint", calls)
    for token in ("forged", None, "another forged one"):
        await told_to_sign_in(world, token)  # the app's own answer: accepted, then 4001
    assert calls.count == 3
    assert await throttled(world, "forged again") >= 1  # the address's budget is spent
    token = await login(world.live.url, world.ann.username, world.ann.password)
    with pytest.raises(InvalidStatus) as caught:
        await WsClient.open(world.live.ws_url, token, origin="https://evil.example")
    assert caught.value.response.status_code == 403
    assert orjson.loads(caught.value.response.body)["code"] == "forbidden"
    assert "Date" in caught.value.response.headers
    assert calls.count == 3  # neither refusal went through the upgrade and the app
    await answers_a_ping(await signed_in_socket(world.live, world.ann))
    assert calls.count == 4
    assert await refused_handshakes(world, "throttled") == 1  # counted once, where it was answered
    assert await refused_handshakes(world, "origin") == 1


async def test_the_early_refusal_judges_an_address_only_when_it_is_the_peers_own(world: World) -> None:
    services = world.live.app.state.services
    for token in ("forged", None, "another forged one"):
        await told_to_sign_in(world, token)
    forged = [(b"authorization", b"Bearer forged")]
    status, headers, body = early_refusal(services, forged, "127.0.0.1") or (0, {}, b"")
    assert status == 429 and int(headers["retry-after"]) >= 1 and orjson.loads(body)["code"] == "rate_limited"
    # behind a proxy the address is the forwarded one, which the app works out: left to it
    assert early_refusal(services, [*forged, (b"x-forwarded-for", b"203.0.113.9")], "127.0.0.1") is None
    assert early_refusal(services, forged, "192.0.2.1") is None  # another address's budget is whole
    token = await login(world.live.url, world.ann.username, world.ann.password)
    assert early_refusal(services, [(b"authorization", f"Bearer {token}".encode())], "127.0.0.1") is None
