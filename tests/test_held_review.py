"""Hold for review: a held message reaches only its author and the room's moderators until a
moderator approves it (then everyone, with the room's next seq) or rejects it (then nobody).

Over real sockets with in-process fan-out, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from server.store import audit
from tests.support.client import Frame, WsClient
from tests.support.lifecycle_cast import enroll
from tests.support.seed import Account
from tests.support.world import World, program_world


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    """On SQLite and on PostgreSQL: raising, locking and RETURNING differ between them."""
    async with program_world(db_url) as running:
        yield running


async def _hold(world: World, mode: str = "always") -> None:
    answer = await world.call(
        world.cast.staff_here, "PATCH", f"/api/rooms/{world.cast.cohort_room}", {"hold_mode": mode}
    )
    assert answer.status_code == 200, answer.text


async def _first(client: WsClient, frame_type: str, **expected: Any) -> Frame:
    def matches(frame: Frame) -> bool:
        subject = frame.get("item", frame)
        return frame.get("type") == frame_type and all(subject.get(k) == v for k, v in expected.items())

    for frame in client.seen:
        if matches(frame):
            return frame
    return (await client.until(matches))[-1]


def _mentions(client: WsClient, text: str) -> bool:
    return any(text in orjson.dumps(frame).decode() for frame in client.seen)


async def _held_id(world: World, client_id: str) -> int:
    listed = await world.call(world.cast.staff_here, "GET", f"/api/rooms/{world.cast.cohort_room}/held")
    assert listed.status_code == 200, listed.text
    return next(h["id"] for h in listed.json()["held"] if h["client_id"] == client_id)


async def _barrier(world: World, *clients: WsClient) -> int:
    """A moderator's message every client then receives: what was sent before it has arrived."""
    kim = await world.socket(world.cast.staff_here)
    seq: int = (await kim.say(world.cast.cohort_room, f"barrier {uuid.uuid4()}"))["seq"]
    for client in clients:
        await client.wait_seq(world.cast.cohort_room, seq)
    await kim.close()
    return seq


async def test_nobody_but_the_author_and_moderators_ever_receives_a_held_message(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    ria: Account = await enroll(world.db, "ria", cast.program, cast.cohort)
    await _hold(world)
    peer, reader, kim = await world.socket(ria), await world.socket(cast.alumnus), await world.socket(cast.staff_here)
    for client in (peer, reader):
        await client.join(room, since=0)
    secret = f"held words {uuid.uuid4()}"
    pat = await world.socket(cast.participant)
    client_id = str(uuid.uuid4())
    assert (await pat.say(room, secret, client_id=client_id))["type"] == "held"
    item = (await _first(kim, "queue", kind="held"))["item"]
    assert item["excerpt"] == secret and item["target_seq"] is None  # the moderators see it at once

    late = await world.socket(ria)  # joins with since while the message is held
    assert (await late.join(room, since=0))["type"] == "joined"
    history = await world.call(ria, "GET", f"/api/rooms/{room}/messages?after=0")
    assert secret not in history.text
    refused = await world.call(ria, "GET", f"/api/rooms/{room}/held")
    assert refused.status_code == 403  # a member may not list held messages

    rejected = await world.call(
        cast.staff_here, "POST", f"/api/rooms/{room}/held/{item['held_id']}/reject", {"reason": "not here"}
    )
    assert rejected.status_code == 200, rejected.text
    notice = await _first(pat, "held_rejected")
    assert notice == {"type": "held_rejected", "room": room, "client_id": client_id, "reason": "not here"}
    await _barrier(world, peer, reader, late)
    rejoined = await world.socket(cast.alumnus)
    await rejoined.join(room, since=0)
    await _barrier(world, rejoined)
    for client in (peer, reader, late, rejoined):
        assert not _mentions(client, secret)
        assert not [f for f in client.seen if f.get("type") in ("held_rejected", "queue", "alert")]
    async with world.db.read() as conn:
        entries = await audit.entries(conn, audit.Filter(action="held.reject"))
    assert [(e["target_user"], e["reason"]) for e in entries] == [(cast.participant.person.id, "not here")]
    for client in (peer, reader, kim, pat, late, rejoined):
        await client.close()


async def test_approving_posts_it_with_the_next_seq_for_everyone(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    await _hold(world)
    reader, pat = await world.socket(cast.alumnus), await world.socket(cast.participant)
    await reader.join(room, since=None)
    client_id = str(uuid.uuid4())
    assert (await pat.say(room, "please let this through", client_id=client_id))["type"] == "held"
    held_id = await _held_id(world, client_id)
    path = f"/api/rooms/{room}/held/{held_id}/approve"
    approved = await world.call(cast.staff_here, "POST", path)
    assert approved.status_code == 200, approved.text
    seq = approved.json()["seq"]
    await reader.wait_seq(room, seq)
    message = next(f for f in reader.messages(room) if f["seq"] == seq)
    assert (message["body"], message["client_id"], message["author"]["display_name"]) == (
        "please let this through",
        client_id,
        "Pat",
    )
    notice = await _first(pat, "held_approved")
    assert notice == {"type": "held_approved", "room": room, "client_id": client_id, "seq": seq}
    assert (await world.call(cast.staff_here, "POST", path)).status_code == 409  # decided already
    assert (await world.call(cast.staff_here, "GET", f"/api/rooms/{room}/held")).json()["held"] == []
    retry = await pat.say(room, "please let this through", client_id=client_id)
    assert (retry["type"], retry["seq"]) == ("ack", seq)  # a retry now learns its seq: nothing new stored
    async with world.db.read() as conn:
        entries = await audit.entries(conn, audit.Filter(action="held.approve"))
    assert [(e["target"], e["detail"]) for e in entries] == [(f"held {held_id}", {"seq": seq})]
    for client in (reader, pat):
        await client.close()


async def test_a_retry_posted_after_the_hold_ended_is_only_marked_approved(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    await _hold(world, "always")
    pat = await world.socket(cast.participant)
    client_id = str(uuid.uuid4())
    assert (await pat.say(room, "is anyone there", client_id=client_id))["type"] == "held"
    held_id = await _held_id(world, client_id)
    await _hold(world, "off")
    posted = await pat.say(room, "is anyone there", client_id=client_id)  # the client's retry, hold now off
    assert posted["type"] == "ack"
    approved = await world.call(cast.staff_here, "POST", f"/api/rooms/{room}/held/{held_id}/approve")
    assert approved.json() == {"seq": posted["seq"]}
    history = (await world.call(cast.participant, "GET", f"/api/rooms/{room}/messages?after=0")).json()["messages"]
    assert [m["seq"] for m in history if m.get("client_id") == client_id] == [posted["seq"]]
    await pat.close()


async def test_a_held_message_that_signals_a_crisis_still_alerts(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    await _hold(world)
    kim, pat = await world.socket(cast.staff_here), await world.socket(cast.participant)
    assert (await pat.say(room, "I want to kill myself"))["type"] == "held"
    resources = await _first(pat, "crisis_resources")
    assert resources["seq"] is None and resources["room"] == room and resources["resources"]
    alert = (await _first(kim, "alert", kind="crisis"))["item"]
    assert alert["target_seq"] is None and alert["held_id"] is not None and alert["excerpt"] == "I want to kill myself"
    held = (await _first(kim, "queue", kind="held"))["item"]
    assert held["held_id"] == alert["held_id"]
    approved = await world.call(cast.staff_here, "POST", f"/api/rooms/{room}/held/{alert['held_id']}/approve")
    listed = (await world.call(cast.staff_here, "GET", "/api/queue")).json()["items"]
    assert [(i["kind"], i["target_seq"]) for i in listed] == [("crisis", approved.json()["seq"])]  # still to handle
    for client in (kim, pat):
        await client.close()
