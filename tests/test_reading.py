"""Read markers over HTTP and the socket: they only move forward, reach my other clients, and
drive the room list's unread counts and latest line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.lifecycle_cast import enroll
from tests.support.seed import Account
from tests.support.world import World, program_world


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _listed(world: World, who: Account, room: int) -> dict[str, Any]:
    answer = await world.call(who, "GET", "/api/rooms")
    assert answer.status_code == 200, answer.text
    return next(r for r in answer.json()["rooms"] if r["id"] == room)


async def _read(world: World, who: Account, room: int, body: Any) -> tuple[int, dict[str, Any]]:
    answer = await world.call(who, "POST", f"/api/rooms/{room}/read", body)
    return answer.status_code, answer.json()


async def test_the_marker_moves_only_forward_and_reaches_my_other_clients(world: World) -> None:
    room, pat = world.cast.cohort_room, world.cast.participant
    phone, laptop = await world.socket(pat), await world.socket(pat)  # neither joins the room: it is my frame
    first = (await phone.say(room, "one"))["seq"]
    second = (await phone.say(room, "two"))["seq"]
    assert await _read(world, pat, room, {"seq": second}) == (200, {"room": room, "last_read_seq": second})
    for client in (phone, laptop):
        assert await client.next() == {"type": "read", "room": room, "last_read_seq": second}
    assert await _read(world, pat, room, {"seq": first}) == (200, {"room": room, "last_read_seq": second})
    assert await _read(world, pat, room, {"seq": second}) == (200, {"room": room, "last_read_seq": second})
    await laptop.send({"type": "ping", "ref": "after"})
    assert await laptop.next() == {"type": "pong", "ref": "after"}  # a marker that did not move says nothing
    assert (await _listed(world, pat, room))["last_read_seq"] == second
    await phone.close()
    await laptop.close()


@pytest.mark.parametrize(
    ("actor", "status", "code"),
    [
        ("participant", 200, None),
        ("alumnus", 200, None),
        ("staff_here", 200, None),
        ("staff_elsewhere", 403, "not_member"),
    ],
)
async def test_members_of_any_role_may_mark_read(world: World, actor: str, status: int, code: str | None) -> None:
    got, body = await _read(world, world.cast.actor(actor), world.cast.cohort_room, {"seq": 1})
    assert got == status and body.get("code") == code


@pytest.mark.parametrize(
    ("body", "field"),
    [({"seq": "3"}, "seq"), ({"seq": -1}, "seq"), ({"seq": 1.0}, "seq"), ({}, "seq"), ({"seq": 1, "at": 2}, "at")],
)
async def test_bad_read_bodies_are_refused(world: World, body: dict[str, Any], field: str) -> None:
    got, answer = await _read(world, world.cast.participant, world.cast.cohort_room, body)
    assert (got, answer["code"], answer["field"]) == (400, "invalid", field)


async def test_a_marker_past_the_end_of_the_room_is_refused(world: World) -> None:
    room, pat = world.cast.cohort_room, world.cast.participant
    last = (await _listed(world, pat, room))["last_seq"]
    got, answer = await _read(world, pat, room, {"seq": last + 1})
    assert (got, answer["code"], answer["field"]) == (400, "invalid", "seq")
    got, answer = await _read(world, pat, 10**9, {"seq": 1})
    assert (got, answer["code"]) == (403, "not_member")


async def test_the_room_list_counts_others_messages_after_my_marker_and_shows_the_latest(world: World) -> None:
    room, pat = world.cast.cohort_room, world.cast.participant
    peer = await enroll(world.db, "pia", world.cast.program, world.cast.cohort)
    before = await _listed(world, pat, room)
    assert (before["last_read_seq"], before["unread"], before["latest"]) == (0, 0, None)

    mine, theirs = await world.socket(pat), await world.socket(peer)
    seqs = [(await theirs.say(room, f"from pia {n}"))["seq"] for n in range(3)]
    own_body = "and from me, " + "x" * 200
    own = await mine.say(room, own_body)
    await theirs.send({"type": "react", "room": room, "target": own["seq"], "emoji": "clap", "on": True, "ref": "r"})
    assert (await theirs.next())["type"] == "ack"

    listed = await _listed(world, pat, room)
    assert (listed["last_read_seq"], listed["unread"]) == (0, 3)  # my message and the reaction do not count
    assert listed["latest"] == {
        "seq": own["seq"],
        "author": {"id": pat.person.id, "display_name": pat.person.display_name},
        "excerpt": own_body[:140],
        "ts": listed["latest"]["ts"],
    }
    assert listed["latest"]["ts"] == (await _message(world, pat, room, own["seq"]))["ts"]
    assert listed["last_seq"] == own["seq"] + 1
    assert (await _listed(world, peer, room))["unread"] == 1

    await _read(world, pat, room, {"seq": seqs[1]})
    assert (await _listed(world, pat, room))["unread"] == 1
    await _read(world, pat, room, {"seq": own["seq"] + 1})
    assert (await _listed(world, pat, room))["unread"] == 0
    await mine.close()
    await theirs.close()


async def _message(world: World, who: Account, room: int, seq: int) -> dict[str, Any]:
    answer = await world.call(who, "GET", f"/api/rooms/{room}/messages?after={seq - 1}&limit=1")
    found: dict[str, Any] = answer.json()["messages"][0]
    return found
