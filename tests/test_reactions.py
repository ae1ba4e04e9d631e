"""Reactions and replies over real sockets (SQLite, in-process fan-out): stored, ordered by seq,
fanned out, refused like sends, and the same in history as live."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.client import Frame, WsClient, room_events
from tests.support.lifecycle_cast import enroll
from tests.support.seed import Account
from tests.support.world import World, program_world


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _peer(world: World) -> Account:
    """A second active participant of the cohort."""
    return await enroll(world.db, "pia", world.cast.program, world.cast.cohort)


async def _react(client: WsClient, room: int, target: int, emoji: str, on: bool, ref: str) -> Frame:
    """Send a react frame and wait for its answer (ack or error)."""
    await client.send({"type": "react", "room": room, "target": target, "emoji": emoji, "on": on, "ref": ref})
    frames = await client.until(lambda f: f.get("ref") == ref and f.get("type") in ("ack", "error"))
    return frames[-1]


async def _history(world: World, who: Account, room: int, after: int) -> list[dict[str, Any]]:
    answer = await world.call(who, "GET", f"/api/rooms/{room}/messages?after={after}")
    assert answer.status_code == 200, answer.text
    messages: list[dict[str, Any]] = answer.json()["messages"]
    return messages


async def _last_seq(world: World, who: Account, room: int) -> int:
    answer = await world.call(who, "GET", "/api/rooms")
    return int(next(r["last_seq"] for r in answer.json()["rooms"] if r["id"] == room))


async def test_reactions_are_stored_once_fanned_out_in_seq_order_and_kept_in_history(world: World) -> None:
    room, pat = world.cast.cohort_room, world.cast.participant
    peer = await _peer(world)
    mine, theirs = await world.socket(pat), await world.socket(peer)
    await mine.join(room)
    await theirs.join(room)
    target = (await mine.say(room, "a hard day, but I stayed"))["seq"]

    answers = [
        await _react(theirs, room, target, "heart", True, "r1"),
        await _react(theirs, room, target, "heart", True, "r2"),  # already given: nothing stored
        await _react(theirs, room, target, "clap", True, "r3"),
        await _react(theirs, room, target, "heart", False, "r4"),
        await _react(theirs, room, target, "heart", False, "r5"),  # already taken back
        await _react(mine, room, target, "heart", True, "r6"),  # a reaction to my own message is fine
    ]
    assert [a["seq"] for a in answers] == [target + 1, None, target + 2, target + 3, None, target + 4]
    assert all(a == {"type": "ack", "room": room, "seq": a["seq"], "ref": a["ref"]} for a in answers)

    await mine.wait_seq(room, target + 4)
    await theirs.wait_seq(room, target + 4)
    live = [e for e in room_events(mine.seen, room) if e["seq"] > target]
    assert [e["seq"] for e in live] == [target + 1, target + 2, target + 3, target + 4]
    assert [(e["type"], e["emoji"], e["on"], e["user"]["id"]) for e in live] == [
        ("reaction", "heart", True, peer.person.id),
        ("reaction", "clap", True, peer.person.id),
        ("reaction", "heart", False, peer.person.id),
        ("reaction", "heart", True, pat.person.id),
    ]
    first = live[0]
    assert set(first) == {"type", "room", "seq", "user", "target", "emoji", "on", "ts"}
    assert first["user"] == {"id": peer.person.id, "display_name": peer.person.display_name}
    assert first["target"] == target and first["room"] == room
    assert [e for e in room_events(theirs.seen, room) if e["seq"] > target] == live
    assert await _history(world, pat, room, target) == live
    await mine.close()
    await theirs.close()


async def test_who_may_react_is_who_may_post(world: World) -> None:
    room, cast = world.cast.cohort_room, world.cast
    pat = await world.socket(cast.participant)
    target = (await pat.say(room, "anyone around tonight?"))["seq"]
    outsider, alumnus, staff = (
        await world.socket(cast.staff_elsewhere),
        await world.socket(cast.alumnus),
        await world.socket(cast.staff_here),
    )
    refused = await _react(outsider, room, target, "heart", True, "o")
    assert (refused["code"], refused["room"]) == ("not_member", room)
    assert (await _react(alumnus, room, target, "heart", True, "a"))["code"] == "read_only"
    observe = await world.call(cast.participant, "POST", f"/api/rooms/{room}/observe", {"minutes": 30})
    assert observe.status_code == 200
    observing = await _react(pat, room, target, "heart", True, "p")
    assert observing["code"] == "observing" and observing["until"] == observe.json()["observing_until"]
    unknown = await _react(pat, 10**9, target, "heart", True, "u")
    assert unknown["code"] == "not_member"
    assert await _last_seq(world, cast.participant, room) == target  # nothing was stored
    moderator = await _react(staff, room, target, "pray", True, "s")
    assert moderator["seq"] == target + 1
    for client in (pat, outsider, alumnus, staff):
        await client.close()


async def test_only_a_message_of_the_same_room_can_be_reacted_to(world: World) -> None:
    room, topic, pat = world.cast.cohort_room, world.topic_room, world.cast.participant
    client = await world.socket(pat)
    history = await _history(world, pat, room, 0)
    not_a_message = history[0]["seq"]
    assert history[0]["type"] == "member_added"
    for n in range(3):
        await client.say(room, f"cohort message {n}")
    elsewhere = (await client.say(room, "only in the cohort room"))["seq"]
    assert await _last_seq(world, pat, topic) < elsewhere  # the topic room has no event with that seq
    last = await _last_seq(world, pat, room)
    for target_room, target in ((room, not_a_message), (room, last + 1), (topic, elsewhere)):
        refused = await _react(client, target_room, target, "hug", True, f"t{target}")
        assert (refused["code"], refused["field"], refused["room"]) == ("invalid", "target", target_room)
    bad_emoji = await _react(client, room, elsewhere, "thumbs_down", True, "e")
    assert bad_emoji["code"] == "invalid" and "emoji" in bad_emoji["message"]
    assert await _last_seq(world, pat, room) == last
    await client.close()


async def test_a_reply_carries_its_quote_live_and_in_history(world: World) -> None:
    room, pat = world.cast.cohort_room, world.cast.participant
    peer = await _peer(world)
    mine, theirs = await world.socket(pat), await world.socket(peer)
    await mine.join(room)
    body = "day thirty. " + "I did not think I would get here. " * 8
    target = (await mine.say(room, body))["seq"]
    await theirs.send(
        {"type": "send", "room": room, "body": "so proud of you", "client_id": str(uuid.uuid4()), "reply_to": target}
    )
    ack = await theirs.next()
    assert ack["type"] == "ack" and ack["seq"] == target + 1
    await mine.wait_seq(room, target + 1)
    reply = mine.messages(room)[-1]
    assert reply["body"] == "so proud of you"
    assert reply["reply_to"] == {
        "seq": target,
        "author": {"id": pat.person.id, "display_name": pat.person.display_name},
        "excerpt": body[:140],
    }
    assert "reply_to" not in mine.messages(room)[-2]  # a message that replies to nothing has no reply_to
    assert await _history(world, pat, room, target - 1) == mine.messages(room)[-2:]
    await mine.close()
    await theirs.close()


async def test_a_reply_to_another_room_or_to_a_non_message_is_refused(world: World) -> None:
    room, topic, pat = world.cast.cohort_room, world.topic_room, world.cast.participant
    client = await world.socket(pat)
    member_added = (await _history(world, pat, room, 0))[0]["seq"]
    topic_message = (await client.say(topic, "breathing exercise at noon"))["seq"]
    history = {e["seq"]: e["type"] for e in await _history(world, pat, room, 0)}
    assert history.get(topic_message) != "message"  # that seq is no message of the cohort room
    client_id = str(uuid.uuid4())
    for target in (member_added, topic_message, 10**6):
        await client.send(
            {"type": "send", "room": room, "body": "me too", "client_id": client_id, "reply_to": target, "ref": target}
        )
        refused = (await client.until(lambda f, t=target: f.get("ref") == t))[-1]
        assert refused["type"] == "error"
        assert (refused["code"], refused["field"], refused["client_id"]) == ("invalid", "reply_to", client_id)
    last = await _last_seq(world, pat, room)
    assert not [e for e in await _history(world, pat, room, 0) if e["type"] == "message"]
    own = (await client.say(room, "the first message here"))["seq"]
    await client.send({"type": "send", "room": room, "body": "me too", "client_id": client_id, "reply_to": own})
    assert (await client.next())["seq"] == last + 2  # the refused client_id was never used
    await client.close()
