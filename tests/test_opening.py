"""Sockets opening together take turns: upgrading (limits.upgrades_per_turn) and reading their
session (limits.sessions_read_at_once).

Fifty sockets opening at once (a flood's reconnects, a reconnect storm after a process died)
read fifty sessions; taking turns keeps the rooms' traffic flowing between them. Every
socket still opens.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

import server.ws
from server.admission import UpgradePacer
from server.settings import ConfigError, Limits, load_settings
from server.store.database import Database
from tests.support.client import WsClient, login
from tests.support.live import Live, live_server, settings_for
from tests.support.seed import Cast, create_cast

SOCKETS = 12


@contextlib.asynccontextmanager
async def _served(
    sqlite_url: str, turns: int, upgrades: int = 2, rate: float = 0.0, burst: int = 1
) -> AsyncIterator[tuple[Live, Cast]]:
    """A live server whose handshakes read their session ``turns`` at a time, upgraded
    ``upgrades`` per turn of the loop and ``rate`` a second (0: no rate), and its cast."""
    db = Database(sqlite_url)
    try:
        cast = await create_cast(db)
        settings = settings_for(sqlite_url)
        limits = replace(
            settings.limits,
            sessions_read_at_once=turns,
            upgrades_per_turn=upgrades,
            upgrades_per_second=rate,
            upgrade_burst=burst,
        )
        async with live_server(settings.with_(limits=limits)) as live:
            yield live, cast
    finally:
        await db.dispose()


async def test_sockets_opening_at_once_read_their_sessions_in_turns(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading = 0
    most = 0
    real = server.ws.active_session

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reading, most
        reading += 1
        most = max(most, reading)
        try:
            await asyncio.sleep(0.02)  # a slow read: the others arrive meanwhile
            return await real(*args, **kwargs)
        finally:
            reading -= 1

    monkeypatch.setattr(server.ws, "active_session", counted)
    async with _served(sqlite_url, turns=3) as (live, cast):
        tokens = [await login(live.url, cast.ann.username, cast.ann.password) for _ in range(SOCKETS)]
        clients = await asyncio.gather(*(WsClient.open(live.ws_url, token) for token in tokens))
        hellos = await asyncio.gather(*(client.next() for client in clients))
        assert [hello["type"] for hello in hellos] == ["hello"] * SOCKETS  # every socket opened
        assert most == 3
        for client in clients:
            await client.close()


async def test_sockets_opening_at_once_are_upgraded_one_per_turn_and_all_open(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The served app hands uvicorn's protocol its pacer (server.admission): every upgrade goes
    through it, and none is lost while it waits its turn."""
    paced = 0
    real = UpgradePacer.submit

    def counted(self: UpgradePacer, connection: Any) -> None:
        nonlocal paced
        paced += 1
        real(self, connection)

    monkeypatch.setattr(UpgradePacer, "submit", counted)
    async with _served(sqlite_url, turns=4, upgrades=1) as (live, cast):
        tokens = [await login(live.url, cast.ann.username, cast.ann.password) for _ in range(SOCKETS)]
        clients = await asyncio.gather(*(WsClient.open(live.ws_url, token) for token in tokens))
        hellos = await asyncio.gather(*(client.next() for client in clients))
        assert [hello["type"] for hello in hellos] == ["hello"] * SOCKETS
        assert paced == SOCKETS
        for client in clients:
            await client.close()


async def test_sockets_opening_at_once_past_the_upgrade_rate_wait_for_it_and_all_open(sqlite_url: str) -> None:
    """At 20 upgrades a second in bursts of 2, eight sockets opening together: the first two
    open at once, the other six one every 50 ms, so the last opens at least 0.3 s after
    they were asked for (a bound the rate guarantees however fast or busy the machine is; the
    first ones' answers may come late, so the bound is not from them)."""
    async with _served(sqlite_url, turns=4, upgrades=4, rate=20.0, burst=2) as (live, cast):
        tokens = [await login(live.url, cast.ann.username, cast.ann.password) for _ in range(8)]

        async def opened(token: str) -> tuple[WsClient, float]:
            """A socket once upgraded (its handshake's answer is the upgrade), and when."""
            client = await WsClient.open(live.ws_url, token)
            return client, asyncio.get_running_loop().time()

        asked = asyncio.get_running_loop().time()
        answered = await asyncio.gather(*(opened(token) for token in tokens))
        clients = [client for client, _ in answered]
        assert [(await client.next())["type"] for client in clients] == ["hello"] * 8  # every socket opened
        last = max(at for _, at in answered)
        assert last - asked >= 0.3 - 0.01  # the loop's clock resolution
        for client in clients:
            await client.close()


async def test_a_socket_that_gets_no_turn_is_told_the_store_is_unavailable(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that never ends (a database that does not answer) holds the only turn: the next
    socket waits TURN_WAIT, then gets ``unavailable`` and 1013 like any socket in an outage."""
    stuck, answer = asyncio.Event(), asyncio.Event()
    real = server.ws.active_session

    async def first_hangs(*args: Any, **kwargs: Any) -> Any:
        if not stuck.is_set():
            stuck.set()
            await answer.wait()  # the database answers once the test has seen the other socket
        return await real(*args, **kwargs)

    monkeypatch.setattr(server.ws, "active_session", first_hangs)
    monkeypatch.setattr(server.ws, "TURN_WAIT", 0.3)
    async with _served(sqlite_url, turns=1) as (live, cast):
        token = await login(live.url, cast.ann.username, cast.ann.password)
        hanging = asyncio.create_task(WsClient.open(live.ws_url, token))
        await stuck.wait()
        waiting = await WsClient.open(live.ws_url, token)
        refused = await waiting.next()
        assert refused["type"] == "error" and refused["code"] == "unavailable"
        await waiting.ws.wait_closed()
        assert waiting.ws.close_code == 1013
        answer.set()
        first = await hanging  # the stuck read, answered at last, opens its socket
        assert (await first.next())["type"] == "hello"
        await first.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [("sessions_read_at_once", "0"), ("upgrades_per_turn", "0"), ("upgrade_burst", "0"), ("upgrades_per_second", "-1")],
)
def test_at_least_one_socket_opens_at_a_time(monkeypatch: pytest.MonkeyPatch, field: str, value: str) -> None:
    """With none, no socket would ever open (a negative rate means nothing): refused from the
    config and the environment."""
    kind = type(getattr(Limits(), field))
    with pytest.raises(ConfigError, match=field):
        Limits(**{field: kind(value)})
    monkeypatch.setenv(f"LIMIT_{field.upper()}", value)
    with pytest.raises(ConfigError, match=field):
        load_settings()
