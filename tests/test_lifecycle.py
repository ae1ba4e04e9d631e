"""Graduation, withdrawal, readmission and counsellors through HTTP, seen live on WebSockets.

One process here (SQLite, in-process fan-out); tests/test_lifecycle_live.py repeats the
live part across processes with Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from server.store import programs
from tests.support.client import room_events
from tests.support.lifecycle_cast import ACTORS, enroll, new_cohort
from tests.support.seed import Account
from tests.support.world import World, program_world

# what a lifecycle step sends to a person's sockets (other frames, e.g. presence, are not asserted on)
LIFECYCLE_FRAMES = frozenset(
    {"member_added", "member_changed", "member_removed", "left", "enrollment", "rooms_changed", "error"}
)


def person(world: World, who: Account, action: str = "") -> str:
    """The path of someone's enrollment in the cast's program, or of a move of it."""
    path = f"/api/programs/{world.cast.program}/people/{who.person.id}"
    return f"{path}/{action}" if action else path


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


# Who may do what: the same answer for every lifecycle action.
EXPECTED = {
    "admin": 200,
    "staff_here": 200,
    "staff_elsewhere": 403,
    "participant": 403,
    "alumnus": 403,
    "withdrawn": 403,
    "withdrawn_staff": 403,
    "signed_out": 401,
}

# action -> (set-up making a fresh person to act on, then the call; the status that proves it happened)
Act = Callable[[World, Account | None, int], Awaitable[tuple[httpx.Response, str | None]]]


async def _graduate(world: World, who: Account | None, n: int) -> tuple[httpx.Response, str | None]:
    target = await enroll(world.db, f"grad{n}", world.cast.program, world.cast.cohort)
    answer = await world.call(who, "POST", person(world, target, "graduate"), {"reason": "completed"})
    return answer, await _status(world, target)


async def _graduate_cohort(world: World, who: Account | None, n: int) -> tuple[httpx.Response, str | None]:
    cohort, _ = await new_cohort(world.db, world.cast.program, f"Cohort {n}")
    target = await enroll(world.db, f"member{n}", world.cast.program, cohort)
    answer = await world.call(who, "POST", f"/api/cohorts/{cohort}/graduate", {})
    return answer, await _status(world, target)


async def _withdraw(world: World, who: Account | None, n: int) -> tuple[httpx.Response, str | None]:
    target = await enroll(world.db, f"leaver{n}", world.cast.program, world.cast.cohort)
    answer = await world.call(who, "POST", person(world, target, "withdraw"), {"reason": "discharged"})
    return answer, await _status(world, target)


async def _readmit(world: World, who: Account | None, n: int) -> tuple[httpx.Response, str | None]:
    target = await enroll(world.db, f"back{n}", world.cast.program, world.cast.cohort, status="withdrawn")
    answer = await world.call(who, "POST", person(world, target, "readmit"), {})
    return answer, await _status(world, target)


async def _counsellor(world: World, who: Account | None, n: int) -> tuple[httpx.Response, str | None]:
    target = await enroll(world.db, f"client{n}", world.cast.program, world.cast.cohort)
    answer = await world.call(who, "POST", person(world, target, "counsellor"), {"username": "kim"})
    kinds = {room["kind"] for room in (await world.rooms(target)).values()}
    return answer, "assigned" if "direct" in kinds else "none"


async def _read(world: World, who: Account | None, n: int) -> tuple[httpx.Response, str | None]:
    target = await enroll(world.db, f"read{n}", world.cast.program, world.cast.cohort)
    answer = await world.call(who, "GET", person(world, target))
    return answer, None


async def _status(world: World, target: Account) -> str | None:
    answer = await world.call(world.cast.admin, "GET", person(world, target))
    status: str = answer.json()["enrollment"]["status"]
    return status


ACTIONS: dict[str, tuple[Act, str | None, str | None]] = {
    # name: (act, status after when allowed, status after when refused)
    "graduate": (_graduate, "alumni", "active"),
    "graduate cohort": (_graduate_cohort, "alumni", "active"),
    "withdraw": (_withdraw, "withdrawn", "active"),
    "readmit": (_readmit, "active", "withdrawn"),
    "assign counsellor": (_counsellor, "assigned", "none"),
    "read enrollment": (_read, None, None),
}


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_who_may_do_what(world: World, action: str) -> None:
    act, done, untouched = ACTIONS[action]
    withdrawn_staff = await enroll(world.db, "wendy", world.cast.program, None, role="staff", status="withdrawn")
    actors: dict[str, Account | None] = {name: world.cast.actor(name) for name in ACTORS}
    actors.update(withdrawn_staff=withdrawn_staff, signed_out=None)
    got: dict[str, int] = {}
    for n, (name, who) in enumerate(actors.items()):
        answer, status = await act(world, who, n)
        got[name] = answer.status_code
        if answer.status_code != 200:
            assert answer.json()["code"] == ("unauthorized" if who is None else "forbidden"), (name, answer.text)
        if done is not None:
            assert status == (done if answer.status_code == 200 else untouched), (name, status)
    assert got == EXPECTED


async def test_graduation_opens_alumni_rooms_and_leaves_the_rest_read_only(world: World) -> None:
    cast = world.cast
    assigned = await world.call(
        cast.staff_here, "POST", person(world, cast.participant, "counsellor"), {"username": "kim"}
    )
    assert assigned.status_code == 200, assigned.text
    direct = assigned.json()["room"]
    before = await world.rooms(cast.participant)
    assert {name: room["role"] for name, room in before.items()} == {
        "Spring": "member",
        "Mindfulness": "member",
        f"{cast.participant.person.display_name} · counsellor": "member",
    }
    answer = await world.call(cast.staff_here, "POST", person(world, cast.participant, "graduate"), {"reason": "done"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["enrollment"]["status"] == "alumni"
    after = await world.rooms(cast.participant)
    assert {name: room["role"] for name, room in after.items()} == {
        "Spring": "reader",
        "Mindfulness": "member",
        "Alumni": "member",
        f"{cast.participant.person.display_name} · counsellor": "reader",
    }
    assert after["Spring"]["id"] == cast.cohort_room and direct in {room["id"] for room in after.values()}
    history = await world.call(cast.participant, "GET", f"/api/rooms/{cast.cohort_room}/messages?after=0")
    assert history.status_code == 200  # the cohort room's history stays readable
    again = await world.call(cast.staff_here, "POST", person(world, cast.participant, "graduate"), {})
    assert again.status_code == 409 and again.json()["code"] == "conflict"


async def test_the_record_keeps_every_move_with_who_and_why(world: World) -> None:
    cast = world.cast
    target = cast.participant
    for action, body in (
        ("withdraw", {"reason": "missed sessions"}),
        ("readmit", {"reason": "back"}),
        ("graduate", {}),
    ):
        answer = await world.call(cast.staff_here, "POST", person(world, target, action), body)
        assert answer.status_code == 200, (action, answer.text)
    record = (await world.call(cast.admin, "GET", person(world, target))).json()
    assert record["user"]["real_name"] is None and record["user"]["username"] == target.username  # staff view
    assert record["enrollment"]["status"] == "alumni" and record["enrollment"]["cohort"] == cast.cohort
    moves = [(move["from"], move["to"], move["by"], move["reason"]) for move in record["history"]]
    kim = cast.staff_here.person.id
    assert moves == [
        (None, "active", None, None),
        ("active", "withdrawn", kim, "missed sessions"),
        ("withdrawn", "active", kim, "back"),
        ("active", "alumni", kim, None),
    ]
    assert all(move["at"] for move in record["history"])


@pytest.mark.parametrize(
    ("action", "body", "status", "code"),
    [
        ("withdraw", {}, 400, "invalid"),  # a reason is required
        ("withdraw", {"reason": ""}, 400, "invalid"),
        ("withdraw", {"reason": "x" * 501}, 400, "invalid"),
        ("graduate", {"reason": "ok", "extra": 1}, 400, "invalid"),
        ("graduate", None, 400, "invalid"),  # no JSON object
        ("counsellor", {"username": "lee"}, 400, "invalid"),  # staff, but of another program
        ("counsellor", {"username": "alum"}, 400, "invalid"),  # not staff at all
        ("counsellor", {"username": "wendy"}, 400, "invalid"),  # withdrawn staff
        ("counsellor", {"username": "nobody"}, 404, "not_found"),
        ("readmit", {}, 409, "conflict"),  # an active participant cannot be readmitted
    ],
)
async def test_refusals(world: World, action: str, body: Any, status: int, code: str) -> None:
    await enroll(world.db, "wendy", world.cast.program, None, role="staff", status="withdrawn")
    answer = await world.call(world.cast.staff_here, "POST", person(world, world.cast.participant, action), body)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    record = (await world.call(world.cast.admin, "GET", person(world, world.cast.participant))).json()
    assert record["enrollment"]["status"] == "active" and record["direct_room"] is None


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("staff_here", "/api/programs/{program}/people/999999", 404),
        ("staff_here", "/api/programs/{program}/people/abc", 404),
        ("staff_here", "/api/programs/{program}/people/{outsider}", 404),  # staff of another program
        ("admin", "/api/programs/999999/people/{participant}", 404),
        ("staff_here", "/api/programs/999999/people/{participant}", 403),  # only admins learn it is missing
        ("admin", "/api/programs/{other}/people/{participant}", 404),  # not enrolled there
    ],
)
async def test_unknown_programs_and_people(world: World, who: str, path: str, status: int) -> None:
    cast = world.cast
    url = path.format(
        program=cast.program,
        other=cast.other_program,
        participant=cast.participant.person.id,
        outsider=cast.staff_elsewhere.person.id,
    )
    assert (await world.call(cast.actor(who), "GET", url)).status_code == status
    assert (await world.call(cast.actor(who), "POST", url + "/graduate", {})).status_code == status


async def test_cohort_graduation_moves_only_its_active_participants(world: World) -> None:
    cast = world.cast
    other_cohort, _ = await new_cohort(world.db, cast.program, "Summer")
    stays = await enroll(world.db, "summer1", cast.program, other_cohort)
    answer = await world.call(cast.staff_here, "POST", f"/api/cohorts/{cast.cohort}/graduate", {"reason": "ended"})
    assert answer.status_code == 200, answer.text
    graduated = answer.json()["graduated"]
    assert [entry["user"]["username"] for entry in graduated] == ["pat"]
    assert {entry["enrollment"]["status"] for entry in graduated} == {"alumni"}
    for who, status in ((cast.alumnus, "alumni"), (cast.withdrawn, "withdrawn"), (stays, "active")):
        record = (await world.call(cast.admin, "GET", person(world, who))).json()
        assert record["enrollment"]["status"] == status, who.username
    staff = (await world.call(cast.admin, "GET", person(world, cast.staff_here))).json()
    assert staff["enrollment"]["status"] == "active"
    unknown = await world.call(cast.admin, "POST", "/api/cohorts/999999/graduate", {})
    assert (unknown.status_code, unknown.json()["message"]) == (404, "no such cohort")
    assert (await world.call(cast.staff_here, "POST", "/api/cohorts/999999/graduate", {})).status_code == 403


async def test_reassigning_a_counsellor_reuses_the_room_and_removes_the_old_one_live(world: World) -> None:
    cast = world.cast
    second = await enroll(world.db, "sol", cast.program, None, role="staff")
    first = await world.call(
        cast.staff_here, "POST", person(world, cast.participant, "counsellor"), {"username": "kim"}
    )
    room = first.json()["room"]
    kim = await world.socket(cast.staff_here)
    await kim.join(room, since=0)
    said = await kim.say(room, "hello from Kim")
    assert said["type"] == "ack"
    moved = await world.call(cast.admin, "POST", person(world, cast.participant, "counsellor"), {"username": "sol"})
    assert moved.status_code == 200 and moved.json()["room"] == room
    assert moved.json()["counsellor"]["username"] == "sol"
    frames = await kim.until(lambda f: f.get("type") == "left" and f.get("room") == room)
    assert {"type": "member_removed", "user": cast.staff_here.person.public()}.items() <= next(
        f for f in frames if f.get("type") == "member_removed"
    ).items()
    await kim.until(lambda f: f.get("type") == "rooms_changed")
    assert room not in {r["id"] for r in (await world.rooms(cast.staff_here)).values()}
    record = (await world.call(cast.staff_here, "GET", person(world, cast.participant))).json()
    assert (record["direct_room"], record["counsellor"]["username"]) == (room, "sol")
    sol_reads = await world.call(second, "GET", f"/api/rooms/{room}/messages?after=0")
    assert "hello from Kim" in [m.get("body") for m in sol_reads.json()["messages"]]  # the history stays
    await kim.close()


async def test_graduation_is_seen_live_by_the_graduate_and_the_room(world: World) -> None:
    cast = world.cast
    graduate = await world.socket(cast.participant)
    staff = await world.socket(cast.staff_here)
    for client in (graduate, staff):
        await client.join(cast.cohort_room, since=None)
    answer = await world.call(cast.staff_here, "POST", person(world, cast.participant, "graduate"), {})
    assert answer.status_code == 200
    frames = await graduate.until(lambda f: f.get("type") == "rooms_changed")
    assert [f["type"] for f in frames if f["type"] in LIFECYCLE_FRAMES] == [
        "member_changed",
        "enrollment",
        "rooms_changed",
    ]
    changed = next(f for f in frames if f["type"] == "member_changed")
    assert (changed["room"], changed["user"], changed["role"]) == (
        cast.cohort_room,
        cast.participant.person.public(),
        "reader",
    )
    enrollment = next(f for f in frames if f["type"] == "enrollment")
    assert enrollment == {"type": "enrollment", "program": cast.program, "status": "alumni"}
    seen = await staff.until(lambda f: f.get("type") == "member_changed")
    assert seen[-1]["user"] == cast.participant.person.public()  # peers see the display name only
    assert cast.cohort_room in {e["room"] for e in room_events(graduate.seen, cast.cohort_room)}
    alumni = (await world.rooms(cast.participant))["Alumni"]["id"]
    assert (await graduate.join(alumni, since=0))["type"] == "joined"  # the new room opens at once
    assert (await graduate.say(alumni, "hello alumni"))["type"] == "ack"
    refused = await graduate.say(cast.cohort_room, "still here")  # read the history, post no more
    assert (refused["type"], refused["code"], refused["room"]) == ("error", "read_only", cast.cohort_room)
    for client in (graduate, staff):
        await client.close()


async def test_withdrawal_ends_access_at_once_and_history_stays_for_staff(world: World) -> None:
    cast = world.cast
    token = await world.token(cast.participant)
    sockets = [await world.socket(cast.participant) for _ in range(2)]
    await sockets[0].join(cast.cohort_room, since=None)
    said = await sockets[0].say(cast.cohort_room, "see you all")
    assert said["type"] == "ack"
    answer = await world.call(
        cast.staff_here, "POST", person(world, cast.participant, "withdraw"), {"reason": "safety"}
    )
    assert answer.status_code == 200, answer.text
    for client in sockets:  # queued frames are dropped for a closing session: it ends with this
        last = (await client.until(lambda f: f.get("type") == "error"))[-1]
        assert last["code"] == "unauthorized"
    for client in sockets:
        await client.ws.wait_closed()
        assert client.ws.close_code == 4001
    me = await world.call(None, "GET", "/api/me")
    assert me.status_code == 401
    async with world.http() as http:
        assert (await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
        again = await http.post(
            "/api/auth/login", json={"username": cast.participant.username, "password": cast.participant.password}
        )
        rooms = await http.get("/api/rooms", headers={"Authorization": f"Bearer {again.json()['token']}"})
    assert rooms.json()["rooms"] == []  # signing in again opens none of the program's rooms
    history = await world.call(cast.staff_here, "GET", f"/api/rooms/{cast.cohort_room}/messages?after=0")
    events = history.json()["messages"]
    assert "see you all" in [e.get("body") for e in events]
    removed = [e for e in events if e["type"] == "member_removed" and e["user"]["id"] == cast.participant.person.id]
    assert [e["reason"] for e in removed] == ["enrollment"]


async def test_readmission_gives_the_rooms_back(world: World) -> None:
    cast = world.cast
    answer = await world.call(cast.staff_here, "POST", person(world, cast.withdrawn, "readmit"), {"reason": "returns"})
    assert answer.status_code == 200 and answer.json()["enrollment"]["status"] == "active"
    rooms = await world.rooms(cast.withdrawn)
    assert {name: room["role"] for name, room in rooms.items()} == {"Spring": "member", "Mindfulness": "member"}


async def test_a_program_may_let_alumni_keep_posting_in_their_cohort_room(world: World) -> None:
    async with world.db.write() as conn:
        await programs.set_program_options(conn, world.cast.program, alumni_post_in_cohort=True)
    answer = await world.call(world.cast.admin, "POST", person(world, world.cast.participant, "graduate"), {})
    assert answer.status_code == 200
    assert (await world.rooms(world.cast.participant))["Spring"]["role"] == "member"
