"""Journey 3 end to end, across two server processes sharing one database and a real Redis:
a participant on one process writes something that signals a crisis; the message reaches
every member as usual, its author alone gets the crisis resources, and the room's moderator,
connected to the other process, gets an alert at once. Unacknowledged, it escalates once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from server.store.database import Database
from tests.support.client import Frame, WsClient
from tests.support.cluster import ProgramCluster, running
from tests.support.lifecycle_cast import create_program_cast, enroll
from tests.support.redis_server import RedisServer
from tests.support.seed import Account
from tests.support.timing import units

pytestmark = pytest.mark.slow

ESCALATE_SECONDS = 2.0


@dataclass
class Pair(ProgramCluster):
    sam: Account  # a second staff member of the program


@pytest.fixture
async def pair(shared_db_url: str, redis_server: RedisServer) -> AsyncIterator[Pair]:
    db = Database(shared_db_url)
    cast = await create_program_cast(db)
    peer = await enroll(db, "ria", cast.program, cast.cohort)
    sam = await enroll(db, "sam", cast.program, None, role="staff")
    await db.dispose()
    minutes = str(units(ESCALATE_SECONDS) / 60)
    async with running(shared_db_url, redis_server.url, ESCALATE_AFTER_MINUTES=minutes) as processes:
        yield Pair(processes, cast, peer, sam)


def _of(client: WsClient, frame_type: str) -> list[Frame]:
    return [frame for frame in client.seen if frame.get("type") == frame_type]


async def test_a_crisis_message_alerts_the_moderator_on_the_other_process_and_helps_its_author(pair: Pair) -> None:
    kim = await pair.client(1, pair.cast.staff_here)  # the room's moderator, on the other process
    ria, reader = await pair.client(1, pair.peer), await pair.client(0, pair.cast.alumnus)
    pat, pat_elsewhere = await pair.client(0, pair.cast.participant), await pair.client(1, pair.cast.participant)
    members = (kim, ria, reader, pat_elsewhere)
    for client in members:
        await client.join(pair.room, since=None)
    body = "I can't do this anymore, I want to end it all"
    ack = await pat.say(pair.room, body)
    assert ack["type"] == "ack"  # delivered as usual: nobody is silenced for asking for help

    alert = (await kim.until(lambda f: f.get("type") == "alert", timeout=5.0))[-1]["item"]
    assert (alert["kind"], alert["room"], alert["target_seq"], alert["excerpt"]) == (
        "crisis",
        pair.room,
        ack["seq"],
        body,
    )
    assert alert["subject"]["username"] == "pat" and alert["overdue"] is False
    for client in members:
        await client.wait_seq(pair.room, ack["seq"])
        assert [m["body"] for m in client.messages(pair.room)] == [body]
    for author in (pat, pat_elsewhere):  # the author's own clients, on both processes
        if not _of(author, "crisis_resources"):
            await author.until(lambda f: f.get("type") == "crisis_resources")
        resources = _of(author, "crisis_resources")
        assert [(r["room"], r["seq"]) for r in resources] == [(pair.room, ack["seq"])]
        assert resources[0]["resources"][0]["contact"] == "Call or text 988"
    for client in (kim, ria, reader):
        assert not _of(client, "crisis_resources")
    for client in (ria, reader, pat, pat_elsewhere):
        assert not _of(client, "alert") and not _of(client, "queue")
    for client in (*members, pat):
        await client.close()


async def test_an_alert_nobody_acknowledges_escalates_once_to_all_program_staff(pair: Pair) -> None:
    sam = await pair.client(0, pair.sam)
    kim = await pair.client(1, pair.cast.staff_here)
    pat = await pair.client(0, pair.cast.participant)
    waited = await pat.say(pair.room, "I took too many pills")
    acked = await pat.say(pair.room, "I keep thinking about killing myself")
    alert = (await kim.until(lambda f: f.get("type") == "alert" and f["item"]["target_seq"] == acked["seq"]))[-1]
    await pair.call(1, pair.cast.staff_here, "POST", f"/api/queue/{alert['item']['id']}/ack")

    overdue = (await sam.until(lambda f: f.get("type") == "alert" and f["item"]["overdue"], timeout=15.0))[-1]
    assert overdue["item"]["target_seq"] == waited["seq"]
    await asyncio.sleep(units(ESCALATE_SECONDS))  # both processes run the pass; one of them won the item
    for client in (sam, kim):
        late = [f for f in _of(client, "alert") if f["item"]["overdue"]]
        assert [f["item"]["target_seq"] for f in late] == [waited["seq"]]
    listed = await pair.call(0, pair.sam, "GET", "/api/queue")
    assert [(i["target_seq"], i["overdue"]) for i in listed["items"]] == [(waited["seq"], True), (acked["seq"], False)]
    for client in (sam, kim, pat):
        await client.close()
