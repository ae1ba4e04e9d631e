"""Warnings and the ladder's mutes, notes on a person, the moderation history, the staff
back-channel and personal mutes, through the public surface of a running server.

The cast is tests/support/lifecycle_cast.py (kim: staff of the program; pat: a participant;
lee: staff of another program) with a topic room; the live effects of warnings and of opening
a back-channel are also checked across two server processes sharing Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.store import programs
from server.store import rooms as room_store
from server.store.database import Database
from tests.support.client import login
from tests.support.cluster import Cluster, running
from tests.support.lifecycle_cast import create_program_cast, enroll
from tests.support.redis_server import RedisServer
from tests.support.world import World, program_world


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _trail(world: World, **query: Any) -> list[dict[str, Any]]:
    params = "&".join(f"{key}={value}" for key, value in query.items())
    answer = await world.call(world.cast.admin, "GET", f"/api/audit?{params}")
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def _of(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") == kind]


async def test_three_warnings_mute_the_person_in_every_room_of_the_program(world: World) -> None:
    cast = world.cast
    pat = await world.socket(cast.participant)
    for room in (cast.cohort_room, world.topic_room):
        await pat.join(room, since=None, ref=f"j{room}")
    warnings = f"/api/programs/{cast.program}/warnings"
    body = {"user": cast.participant.person.id, "reason": "personal attacks"}

    for _ in range(2):
        answer = await world.call(cast.staff_here, "POST", warnings, {**body, "room": cast.cohort_room})
        assert answer.status_code == 201, answer.text
        assert answer.json()["muted_until"] is None
        frame = (await pat.until(lambda f: f.get("type") == "warning"))[-1]
        assert frame == {
            "type": "warning",
            "program": cast.program,
            "reason": "personal attacks",
            "expires_at": answer.json()["warning"]["expires_at"],
            "muted_until": None,
        }
    said = await pat.say(cast.cohort_room, "still allowed to talk")
    assert said["type"] == "ack"

    third = await world.call(cast.staff_here, "POST", warnings, body)
    assert third.status_code == 201, third.text
    until = third.json()["muted_until"]
    assert until is not None and third.json()["warning"]["mute_minutes"] == 60  # config/moderation.toml
    assert sorted(third.json()["muted_rooms"]) == sorted([cast.cohort_room, world.topic_room])
    # the predicate looks at everything read so far: the frames it returns may not hold the warning
    await pat.until(lambda f: len(_of(pat.seen, "muted")) == 2 and len(_of(pat.seen, "warning")) == 3)
    assert _of(pat.seen, "warning")[-1]["muted_until"] == until
    assert {(f["room"], f["until"], f["reason"]) for f in _of(pat.seen, "muted")} == {
        (cast.cohort_room, until, "personal attacks"),
        (world.topic_room, until, "personal attacks"),
    }
    refused = await pat.say(world.topic_room, "can I still post?")
    assert (refused["type"], refused["code"], refused["until"]) == ("error", "muted", until)
    await pat.close()

    entries = await _trail(world, action="person.warn", target_user=cast.participant.person.id)
    assert len(entries) == 3
    assert entries[0]["actor"]["username"] == "kim" and entries[0]["reason"] == "personal attacks"
    assert entries[0]["detail"]["mute_minutes"] == 60 and entries[0]["detail"]["muted_until"] == until
    assert entries[2]["room"] == cast.cohort_room and "mute_minutes" not in entries[2]["detail"]


async def test_warnings_are_only_for_the_programs_participants(world: World) -> None:
    cast = world.cast
    warnings = f"/api/programs/{cast.program}/warnings"
    cases = [
        ({"user": cast.staff_here.person.id, "reason": "x"}, 409, "conflict"),  # staff are not warned
        ({"user": cast.staff_elsewhere.person.id, "reason": "x"}, 404, "not_found"),  # not enrolled here
        ({"user": 999999, "reason": "x"}, 404, "not_found"),
        ({"user": cast.participant.person.id, "reason": "   "}, 400, "invalid"),
        ({"user": cast.participant.person.id, "reason": "x", "room": 999999}, 400, "invalid"),
        ({"user": cast.participant.person.id}, 400, "invalid"),
    ]
    for body, status, code in cases:
        answer = await world.call(cast.staff_here, "POST", warnings, body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), (body, answer.text)
    assert await _trail(world, action="person.warn") == []


async def test_notes_and_the_moderation_history(world: World) -> None:
    cast = world.cast
    person = f"/api/programs/{cast.program}/people/{cast.participant.person.id}"
    added = await world.call(cast.staff_here, "POST", person + "/notes", {"body": "Quiet this week; check in Tuesday"})
    assert added.status_code == 201, added.text
    note = added.json()["note"]
    assert note["body"] == "Quiet this week; check in Tuesday" and note["author"]["username"] == "kim"
    await world.call(
        cast.staff_here,
        "POST",
        f"/api/programs/{cast.program}/warnings",
        {"user": cast.participant.person.id, "reason": "spam"},
    )

    for who in (cast.participant, cast.staff_elsewhere):
        for path in (person + "/notes", person + "/moderation"):
            refused = await world.call(who, "GET", path)
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        refused = await world.call(who, "POST", person + "/notes", {"body": "sneaky"})
        assert refused.status_code == 403

    pat = await world.socket(cast.participant)
    said = await pat.say(world.topic_room, "you are all idiots")
    await pat.close()
    reported = await world.call(
        cast.alumnus, "POST", f"/api/rooms/{world.topic_room}/messages/{said['seq']}/report", {"reason": "rude"}
    )
    assert reported.status_code == 201, reported.text

    listed = await world.call(cast.staff_here, "GET", person + "/notes")
    assert listed.json() == {"notes": [note]}
    history = (await world.call(cast.admin, "GET", person + "/moderation")).json()
    assert history["user"]["real_name"] is None and history["user"]["username"] == "pat"
    assert history["enrollment"]["status"] == "active"
    assert [w["reason"] for w in history["warnings"]] == ["spam"] and history["active_warnings"] == 1
    assert history["mutes"] == []
    assert [(q["kind"], q["target_seq"], q["subject"]["username"]) for q in history["queue"]] == [
        ("report", said["seq"], "pat")
    ]
    assert history["notes"] == [note]
    assert [e["action"] for e in history["audit"]] == ["person.warn", "person.note"]
    assert all("Quiet" not in str(e) for e in history["audit"])  # the trail never holds a note's text
    assert history["audit"][0]["target_user"]["username"] == "pat"

    # a peer moderator (a participant who moderates a room of the program) sees display names only
    pia = await enroll(world.db, "pia", cast.program, cast.cohort)
    async with world.db.write() as conn:
        await room_store.set_member(conn, room_id=world.topic_room, person=pia.person, role="moderator")
    peer_view = (await world.call(pia, "GET", person + "/moderation")).json()
    assert peer_view["user"] == cast.participant.person.public()
    assert peer_view["notes"][0]["author"] == {"id": cast.staff_here.person.id, "display_name": "Kim"}
    assert peer_view["audit"][0]["actor"] == {"id": cast.staff_here.person.id, "display_name": "Kim"}
    assert peer_view["queue"][0]["subject"] == cast.participant.person.public()


async def test_the_back_channel_is_for_staff_only(world: World) -> None:
    cast = world.cast
    path = f"/api/rooms/{cast.cohort_room}/backchannel"
    opened = await world.call(cast.staff_here, "POST", path)
    assert opened.status_code == 201, opened.text
    staff_room = opened.json()["id"]
    assert opened.json()["parent"] == cast.cohort_room
    again = await world.call(cast.admin, "POST", path)
    assert (again.status_code, again.json()["id"]) == (200, staff_room)

    assert (await world.rooms(cast.staff_here))["Spring (staff)"] == {
        **(await world.rooms(cast.staff_here))["Spring (staff)"],
        "id": staff_room,
        "kind": "staff",
        "role": "moderator",
    }
    assert "Spring (staff)" in await world.rooms(cast.admin)  # the admin who opened it joined it
    assert all(room["kind"] != "staff" for room in (await world.rooms(cast.participant)).values())

    for who in (cast.participant, cast.staff_elsewhere):
        refused = await world.call(who, "POST", path)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    add = await world.call(cast.admin, "POST", f"/api/rooms/{staff_room}/members", {"username": "pat"})
    assert (add.status_code, add.json()["code"]) == (403, "forbidden")
    pat = await world.socket(cast.participant)
    assert (await pat.join(staff_room, since=0))["code"] == "not_member"
    await pat.close()
    nested = await world.call(cast.staff_here, "POST", f"/api/rooms/{staff_room}/backchannel")
    assert nested.status_code == 404  # a back-channel has no back-channel

    # staff who join the program later get it; staff who leave lose it
    newcomer = await enroll(world.db, "nia", cast.program, None, role="staff")
    assert (await world.rooms(newcomer))["Spring (staff)"]["role"] == "moderator"
    withdrawn = await world.call(
        cast.admin, "POST", f"/api/programs/{cast.program}/people/{newcomer.person.id}/withdraw", {"reason": "left"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    async with world.db.read() as conn:
        assert await room_store.role_in(conn, staff_room, newcomer.person.id) is None

    kim = await world.socket(cast.staff_here)
    assert (await kim.join(staff_room, since=0))["type"] == "joined"
    assert (await kim.say(staff_room, "Pat seemed low tonight; please check in"))["type"] == "ack"
    await kim.close()
    entries = await _trail(world, action="backchannel.create")
    assert [(e["actor"]["username"], e["room"], e["target"]) for e in entries] == [
        ("kim", staff_room, f"room {cast.cohort_room}")
    ]


async def test_personal_mutes_are_mine_alone(world: World) -> None:
    cast = world.cast
    alum = cast.alumnus.person
    first = await world.call(cast.participant, "POST", "/api/me/mutes", {"user": alum.id})
    assert first.status_code == 201, first.text
    assert [(m["id"], m["display_name"]) for m in first.json()["mutes"]] == [(alum.id, alum.display_name)]
    again = await world.call(cast.participant, "POST", "/api/me/mutes", {"user": alum.id})
    assert again.status_code == 200 and len(again.json()["mutes"]) == 1
    assert set(again.json()["mutes"][0]) == {"id", "display_name", "since"}  # no real name: peers see display names

    assert len((await world.call(cast.participant, "GET", "/api/me/mutes")).json()["mutes"]) == 1
    assert (await world.call(cast.alumnus, "GET", "/api/me/mutes")).json() == {"mutes": []}
    assert (
        await world.call(cast.participant, "POST", "/api/me/mutes", {"user": cast.participant.person.id})
    ).status_code == 400
    assert (await world.call(cast.participant, "POST", "/api/me/mutes", {"user": 999999})).status_code == 404
    assert (await world.call(None, "GET", "/api/me/mutes")).status_code == 401

    # the muted person can still post, and nobody else's view changes
    alumnus = await world.socket(cast.alumnus)
    assert (await alumnus.say(world.topic_room, "hello all"))["type"] == "ack"
    await alumnus.close()
    removed = await world.call(cast.participant, "DELETE", f"/api/me/mutes/{alum.id}")
    assert (removed.status_code, removed.json()) == (200, {"mutes": []})
    assert (await world.call(cast.participant, "DELETE", f"/api/me/mutes/{alum.id}")).status_code == 404
    assert await _trail(world, actor=cast.participant.person.id) == []  # not audited


@pytest.mark.slow
async def test_warnings_and_the_back_channel_reach_another_process(
    shared_db_url: str, redis_server: RedisServer
) -> None:
    db = Database(shared_db_url)
    cast = await create_program_cast(db)
    async with db.write() as conn:
        topic, _ = await programs.create_program_room(conn, program_id=cast.program, name="Mindfulness", kind="topic")
    await db.dispose()
    async with running(shared_db_url, redis_server.url, SYNC_INTERVAL="30") as processes:
        cluster = Cluster(processes)
        a, b = processes
        pat, kim = await cluster.client(b, cast.participant), await cluster.client(b, cast.staff_here)
        await pat.join(topic, since=None)
        admin = {"Authorization": f"Bearer {await login(a.url, 'admin', cast.admin.password)}"}
        async with httpx.AsyncClient(base_url=a.url, headers=admin) as http:
            for _ in range(3):
                answer = await http.post(
                    f"/api/programs/{cast.program}/warnings", json={"user": cast.participant.person.id, "reason": "r"}
                )
                assert answer.status_code == 201, answer.text
            opened = await http.post(f"/api/rooms/{cast.cohort_room}/backchannel")
            assert opened.status_code == 201, opened.text
            trail = {
                action: (await http.get(f"/api/audit?action={action}")).json()["entries"]
                for action in ("person.warn", "backchannel.create")
            }
        until = answer.json()["muted_until"]
        frames = await pat.until(lambda f: f.get("type") == "muted", timeout=5)
        assert len(_of(frames, "warning")) == 3 and frames[-1]["until"] == until
        refused = await pat.say(topic, "hello?")
        assert (refused["code"], refused["until"]) == ("muted", until)
        await kim.until(lambda f: f.get("type") == "rooms_changed", timeout=5)  # kim is in the back-channel now
        assert (await kim.join(opened.json()["id"], since=0))["type"] == "joined"
        for client in (pat, kim):
            await client.close()
        assert [len(trail["person.warn"]), len(trail["backchannel.create"])] == [3, 1]
