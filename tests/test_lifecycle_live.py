"""Graduation and withdrawal done on one server process, seen live by clients on another.

Two processes share the database (PostgreSQL when present) and a real Redis. Their periodic
pass is slowed to 30 s, so everything asserted here must arrive through the broker, live.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from server.store import programs
from server.store.database import Database
from tests.support.client import login
from tests.support.cluster import Cluster, running
from tests.support.lifecycle_cast import ProgramCast, create_program_cast, enroll
from tests.support.live import ServerProcess
from tests.support.redis_server import RedisServer
from tests.support.seed import Account
from tests.support.timing import units

pytestmark = pytest.mark.slow


@dataclass
class Pair(Cluster):
    cast: ProgramCast
    leaver: Account
    alumni_room: int

    @property
    def a(self) -> ServerProcess:
        return self.processes[0]

    @property
    def b(self) -> ServerProcess:
        return self.processes[1]


@pytest.fixture
async def pair(shared_db_url: str, redis_server: RedisServer) -> AsyncIterator[Pair]:
    db = Database(shared_db_url)
    cast = await create_program_cast(db)
    leaver = await enroll(db, "lou", cast.program, cast.cohort)
    async with db.write() as conn:
        await programs.create_program_room(conn, program_id=cast.program, name="Mindfulness", kind="topic")
        alumni, _ = await programs.create_program_room(conn, program_id=cast.program, name="Alumni", kind="alumni")
    await db.dispose()
    async with running(shared_db_url, redis_server.url, SYNC_INTERVAL="30") as processes:
        yield Pair(processes, cast, leaver, alumni)


def _of(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") == kind]


async def test_graduation_on_one_process_is_seen_live_on_another(pair: Pair) -> None:
    cast = pair.cast
    person = f"/api/programs/{cast.program}/people/{cast.participant.person.id}"
    direct = (await pair.call(pair.a, cast.staff_here, "POST", person + "/counsellor", {"username": "kim"}))["room"]
    graduate = await pair.socket(pair.b, await login(pair.b.url, cast.participant.username, cast.participant.password))
    staff = await pair.socket(pair.b, await login(pair.b.url, cast.staff_here.username, cast.staff_here.password))
    for room in (cast.cohort_room, direct):
        await graduate.join(room, since=None, ref=f"j{room}")
    await staff.join(cast.cohort_room, since=None)

    await pair.call(pair.a, cast.staff_here, "POST", person + "/graduate", {"reason": "completed"})

    frames = await graduate.until(lambda f: f.get("type") == "rooms_changed", timeout=5)
    changed = {(f["room"], f["role"]) for f in _of(frames, "member_changed")}
    assert changed == {(cast.cohort_room, "reader"), (direct, "reader")}
    assert _of(frames, "enrollment") == [{"type": "enrollment", "program": cast.program, "status": "alumni"}]
    assert _of(frames, "left") == []  # graduation takes no room away
    seen = await staff.until(lambda f: f.get("type") == "member_changed", timeout=5)
    assert seen[-1]["user"] == cast.participant.person.public()

    # still in the cohort room on B, reading but no longer posting; the alumni room opens at once
    said = await staff.say(cast.cohort_room, "congratulations")
    assert said["type"] == "ack"
    await graduate.wait_seq(cast.cohort_room, said["seq"], timeout=5)
    refused = await graduate.say(cast.cohort_room, "thank you all")
    assert (refused["type"], refused["code"]) == ("error", "read_only")
    assert (await graduate.join(pair.alumni_room, since=0, ref="alumni"))["type"] == "joined"
    joined = await graduate.until(
        lambda f: f.get("type") == "member_added" and f.get("user", {}).get("id") == cast.participant.person.id
    )
    assert joined[-1]["room"] == pair.alumni_room
    assert (await graduate.say(pair.alumni_room, "hello alumni"))["type"] == "ack"
    for client in (graduate, staff):
        await client.close()


async def test_withdrawal_on_one_process_closes_the_persons_sockets_on_another(pair: Pair) -> None:
    cast, leaver = pair.cast, pair.leaver
    token = await login(pair.b.url, leaver.username, leaver.password)
    sockets = [await pair.socket(pair.b, token) for _ in range(2)]
    await sockets[0].join(cast.cohort_room, since=None)
    said = await sockets[0].say(cast.cohort_room, "I may not be here next week")
    assert said["type"] == "ack"
    staff = await pair.socket(pair.b, await login(pair.b.url, cast.staff_here.username, cast.staff_here.password))
    await staff.join(cast.cohort_room, since=said["seq"])

    person = f"/api/programs/{cast.program}/people/{leaver.person.id}"
    await pair.call(pair.a, cast.staff_here, "POST", person + "/withdraw", {"reason": "discharged"})

    for client in sockets:
        frames = await client.until(lambda f: f.get("type") == "error", timeout=5)
        assert frames[-1]["code"] == "unauthorized"
        assert not _of(frames, "message")  # nothing of the room reaches them any more
        await asyncio.wait_for(client.ws.wait_closed(), units(5))
        assert client.ws.close_code == 4001
    removed = await staff.until(lambda f: f.get("type") == "member_removed", timeout=5)
    assert (removed[-1]["user"], removed[-1]["reason"]) == (leaver.person.public(), "enrollment")
    async with httpx.AsyncClient(base_url=pair.b.url) as http:
        me = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401

    history = await pair.call(pair.b, cast.staff_here, "GET", f"/api/rooms/{cast.cohort_room}/messages?after=0")
    events = history["messages"]
    assert "I may not be here next week" in [e.get("body") for e in events]  # history stays for staff
    mine = [e["type"] for e in events if e.get("user", {}).get("id") == leaver.person.id]
    assert mine == ["member_added", "member_removed"]
    await staff.close()


async def test_history_keeps_the_membership_events_of_a_graduation(pair: Pair) -> None:
    cast = pair.cast
    person = f"/api/programs/{cast.program}/people/{cast.participant.person.id}"
    await pair.call(pair.a, cast.admin, "POST", person + "/graduate", {})
    history = await pair.call(pair.b, cast.staff_here, "GET", f"/api/rooms/{cast.cohort_room}/messages?after=0")
    mine = [
        (e["type"], e["role"]) for e in history["messages"] if e.get("user", {}).get("id") == cast.participant.person.id
    ]
    assert mine == [("member_added", "member"), ("member_changed", "reader")]
    record = await pair.call(pair.b, cast.staff_here, "GET", person)
    assert [(m["from"], m["to"]) for m in record["history"]] == [(None, "active"), ("active", "alumni")]
