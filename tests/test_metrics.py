"""``GET /metrics``: each figure moves by what a scenario did, and only this machine or the token reads it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.broker import MemoryBroker
from server.hub import Hub
from server.settings import Limits, Settings
from server.store.database import Database
from tests.support.client import WsClient, signed_in_socket
from tests.support.live import Live, live_server, settings_for
from tests.support.redis_server import RedisServer
from tests.support.seed import Account, create_cast
from tests.support.timing import units

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
TOKEN = "a-metrics-token-for-tests-0123456789"


def parse(text: str) -> Samples:
    """Every sample as {(name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@dataclass
class World:
    live: Live
    ann: Account
    ben: Account
    carl: Account
    room: int

    async def scrape(self) -> Samples:
        async with httpx.AsyncClient(base_url=self.live.url, timeout=units(10)) as http:
            response = await http.get("/metrics")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return parse(response.text)

    async def client(self, who: Account) -> WsClient:
        return await signed_in_socket(self.live, who)


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    db = Database(sqlite_url)
    cast = await create_cast(db)
    async with live_server(settings_for(sqlite_url, metrics_token=TOKEN)) as live:
        yield World(live, cast.ann, cast.ben, cast.staff, cast.room)
    await db.dispose()


async def eventually(check: Callable[[Samples], bool], world: World, timeout: float = 5.0) -> Samples:
    """Scrape until ``check(samples)`` holds (closes and presence settle after the frames)."""
    deadline = asyncio.get_running_loop().time() + units(timeout)
    while True:
        samples = await world.scrape()
        if check(samples):
            return samples
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached: {samples}")
        await asyncio.sleep(0.05)


async def test_a_scenario_moves_each_figure_by_what_happened(world: World) -> None:
    before = await world.scrape()
    ann, ben = await world.client(world.ann), await world.client(world.ben)
    joined = await ann.join(world.room)
    await ben.join(world.room)
    for n in range(3):
        assert (await ann.say(world.room, f"hello {n}"))["type"] == "ack"
    await ben.wait_seq(world.room, joined["last_seq"] + 3)
    # refused frames: not JSON, an unknown type, a body over the limit
    await ann.send("{not json")
    await ann.send({"type": "dance", "ref": "x"})
    await ann.say(world.room, "x" * 5000)
    # a late joiner catches up from the start: every stored event is backlog, none is live fan-out
    carl = await world.client(world.carl)
    await carl.join(world.room, since=0)
    # subscribed once its backlog is out: a presence frame comes after it
    await carl.until(lambda f: f.get("type") == "presence")
    during = await world.scrape()

    def moved(name: str, **labels: str) -> float:
        return value(during, name, **labels) - value(before, name, **labels)

    assert value(during, "alongside_connections_open") == 3
    assert moved("alongside_connections_opened_total") == 3
    assert value(during, "alongside_rooms_followed") == 1
    assert value(during, "alongside_room_subscriptions") == 3
    assert moved("alongside_messages_total", outcome="acked") == 3
    assert moved("alongside_messages_total", outcome="refused") == 0
    # each message reached both joined sockets (the sender's own included), counted once per event
    assert moved("alongside_events_delivered_total") == 6
    assert moved("alongside_fanout_seconds_count") == 3
    # each send was acknowledged before the next went out: three batches of one, each committed
    assert moved("alongside_commit_seconds_count") == 3
    assert moved("alongside_commit_seconds_sum") > 0
    assert moved("alongside_backlog_events_total") == joined["last_seq"] + 3
    assert moved("alongside_frames_refused_total", code="invalid") == 2
    assert moved("alongside_frames_refused_total", code="too_large") == 1
    assert value(during, "alongside_broker_connected") == 1
    assert value(during, "process_resident_memory_bytes") > 0

    for client in (ann, ben, carl):
        await client.close()
    after = await eventually(lambda s: value(s, "alongside_connections_open") == 0, world)
    assert value(after, "alongside_rooms_followed") == 0
    assert (
        value(after, "alongside_connections_closed_total", code="peer")
        - value(before, "alongside_connections_closed_total", code="peer")
        == 3
    )


async def test_refused_handshakes_and_rate_limits_are_counted(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    cast = await create_cast(db)
    settings = settings_for(sqlite_url, limits=Limits(rate_per_second=0.1, rate_burst=3))
    async with live_server(settings) as live:
        world = World(live, cast.ann, cast.ben, cast.staff, cast.room)
        for token in ("not-a-token", "another-bad-one"):
            bad = await WsClient.open(live.ws_url, token)
            assert (await bad.next())["code"] == "unauthorized"
            await bad.ended()
        ann = await world.client(cast.ann)
        for n in range(6):
            await ann.send({"type": "ping", "ref": n})
        await ann.until(lambda f: f.get("ref") == 5)
        samples = await world.scrape()
        await ann.close()
    await db.dispose()
    assert value(samples, "alongside_handshakes_refused_total", reason="unauthorized") == 2
    assert value(samples, "alongside_connections_opened_total") == 1
    assert value(samples, "alongside_frames_refused_total", code="rate_limited") == 3


async def test_metrics_are_not_public(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.live.url) as http:
        # through a proxy on this machine (any forwarding header): refused without the token
        relayed = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert relayed.status_code == 403 and relayed.json()["code"] == "forbidden"
        wrong = await http.get("/metrics", headers={"X-Real-IP": "203.0.113.9", "Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        with_token = await http.get(
            "/metrics", headers={"Forwarded": "for=203.0.113.9", "Authorization": f"Bearer {TOKEN}"}
        )
        assert with_token.status_code == 200 and "alongside_connections_open" in with_token.text
    # from another machine: the token, and only the token, lets it in
    remote = httpx.ASGITransport(app=world.live.app, client=("203.0.113.9", 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=remote, base_url="http://alongside") as http:
        assert (await http.get("/metrics")).status_code == 403
        assert (await http.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 403
        assert (await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 200


async def test_without_a_token_only_loopback_reads_them(sqlite_url: str) -> None:
    async with live_server(settings_for(sqlite_url)) as live:
        remote = httpx.ASGITransport(app=live.app, client=("203.0.113.9", 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=remote, base_url="http://alongside") as http:
            assert (await http.get("/metrics", headers={"Authorization": "Bearer "})).status_code == 403
        async with httpx.AsyncClient(base_url=live.url) as http:
            assert (await http.get("/metrics")).status_code == 200


async def test_database_outages_are_counted_once_each() -> None:
    db = Database("postgresql+asyncpg://nobody@127.0.0.1:9/nowhere")  # nothing listens on port 9
    hub = Hub(db, MemoryBroker(), Settings(), "test")
    try:
        assert not await db.ping()
        assert not await db.ping()
    finally:
        await db.dispose()
    assert value(parse(hub.metrics.render().decode()), "alongside_db_unavailable_total") == 2


@pytest.mark.redis
async def test_broker_reconnects_are_counted(sqlite_url: str, redis_server: RedisServer) -> None:
    db = Database(sqlite_url)
    cast = await create_cast(db)
    async with live_server(settings_for(sqlite_url, redis_url=redis_server.url)) as live:
        world = World(live, cast.ann, cast.ben, cast.staff, cast.room)
        ann = await world.client(cast.ann)
        await ann.join(cast.room)
        before = await world.scrape()
        assert value(before, "alongside_broker_connected") == 1
        redis_server.stop()
        await eventually(lambda s: value(s, "alongside_broker_connected") == 0, world, timeout=30)
        redis_server.start()
        after = await eventually(lambda s: value(s, "alongside_broker_connected") == 1, world, timeout=30)
        # sends while Redis was away still commit: the broker is the fast path, never the record
        assert (await ann.say(cast.room, "after", client_id=str(uuid.uuid4())))["type"] == "ack"
        await ann.close()
    await db.dispose()
    moved = value(after, "alongside_broker_reconnects_total") - value(before, "alongside_broker_reconnects_total")
    assert moved == 1
