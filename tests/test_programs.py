"""Programs, cohorts and program rooms through HTTP, with membership following the roster.

Who may call what is in tests/test_program_access.py; here is what the calls do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.world import World, program_world


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _register(world: World, token: str, username: str) -> str:
    body = {"username": username, "password": "a-long-password", "display_name": username.title(), "invite": token}
    answer = await world.call(None, "POST", "/api/auth/register", body)
    assert answer.status_code == 201, answer.text
    session: str = answer.json()["token"]
    return session


async def test_a_program_set_up_from_nothing_through_the_api(world: World) -> None:
    admin = world.cast.admin
    created = await world.call(admin, "POST", "/api/programs", {"name": " Weekend IOP "})
    assert created.status_code == 201, created.text
    program = created.json()
    assert program == {
        "id": program["id"],
        "name": "Weekend IOP",
        "alumni_post_in_cohort": False,
        "hold_first_posts": 0,
        "retention_days": None,
    }
    again = await world.call(admin, "POST", "/api/programs", {"name": "Weekend IOP"})
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    base = f"/api/programs/{program['id']}"

    staff_invite = await world.call(admin, "POST", f"{base}/invites", {"role": "staff", "real_name": "Dr. Rae Lin"})
    rae = await _register(world, staff_invite.json()["token"], "rae")
    cohort = await world.call(rae, "POST", f"{base}/cohorts", {"name": "Fall", "starts_on": "2026-09-07"})
    assert cohort.status_code == 201, cohort.text
    fall = cohort.json()
    assert fall == {
        "id": fall["id"],
        "program": program["id"],
        "name": "Fall",
        "starts_on": "2026-09-07",
        "ends_on": None,
        "room": fall["room"],
    }
    for name, kind in (("Nutrition", "topic"), ("Alumni circle", "alumni")):
        room = await world.call(rae, "POST", f"{base}/rooms", {"name": name, "kind": kind})
        assert room.status_code == 201 and room.json()["kind"] == kind and room.json()["program"] == program["id"]
    assert {name: r["role"] for name, r in (await world.rooms(rae)).items()} == {
        "Fall": "moderator",
        "Nutrition": "moderator",
        "Alumni circle": "moderator",
    }

    invite = await world.call(rae, "POST", f"{base}/invites", {"role": "participant", "cohort": fall["id"]})
    pia = await _register(world, invite.json()["token"], "pia")
    rooms = await world.rooms(pia)
    assert {name: (r["kind"], r["role"], r["program"], r["cohort"]) for name, r in rooms.items()} == {
        "Fall": ("cohort", "member", program["id"], fall["id"]),
        "Nutrition": ("topic", "member", program["id"], None),
    }

    whole = (await world.call(rae, "GET", base)).json()
    assert [c["name"] for c in whole["cohorts"]] == ["Fall"]
    assert [(r["name"], r["kind"]) for r in whole["rooms"]] == [
        ("Fall", "cohort"),
        ("Nutrition", "topic"),
        ("Alumni circle", "alumni"),
    ]
    people = (await world.call(rae, "GET", f"{base}/people")).json()["people"]
    assert [
        (p["user"]["username"], p["user"]["real_name"], p["enrollment"]["role"], p["enrollment"]["cohort"])
        for p in people
    ] == [("rae", "Dr. Rae Lin", "staff", None), ("pia", None, "participant", fall["id"])]
    mine = (await world.call(pia, "GET", "/api/programs")).json()["programs"]
    assert [(p["name"], p["enrollment"]["role"], p["enrollment"]["status"]) for p in mine] == [
        ("Weekend IOP", "participant", "active")
    ]


@pytest.mark.parametrize(
    ("who", "listed"),
    [
        ("admin", {"Evening IOP": None, "Morning IOP": None}),
        ("staff_here", {"Evening IOP": ("staff", "active")}),
        ("staff_elsewhere", {"Morning IOP": ("staff", "active")}),
        ("participant", {"Evening IOP": ("participant", "active")}),
        ("alumnus", {"Evening IOP": ("participant", "alumni")}),
        ("withdrawn", {"Evening IOP": ("participant", "withdrawn")}),
    ],
)
async def test_everyone_sees_their_own_programs(world: World, who: str, listed: dict[str, Any]) -> None:
    answer = await world.call(world.cast.actor(who), "GET", "/api/programs")
    found = {
        p["name"]: None if p["enrollment"] is None else (p["enrollment"]["role"], p["enrollment"]["status"])
        for p in answer.json()["programs"]
    }
    assert found == listed


async def test_letting_alumni_post_in_their_cohort_room_applies_at_once(world: World) -> None:
    cast = world.cast
    path = f"/api/programs/{cast.program}"
    alum = await world.socket(cast.alumnus)
    await alum.join(cast.cohort_room, since=None)
    assert (await alum.say(cast.cohort_room, "still here"))["type"] == "error"  # read-only after graduation

    answer = await world.call(cast.staff_here, "PATCH", path, {"alumni_post_in_cohort": True})
    assert answer.json() == {
        "id": cast.program,
        "name": "Evening IOP",
        "alumni_post_in_cohort": True,
        "hold_first_posts": 0,
        "retention_days": None,
    }
    changed = await alum.until(lambda f: f.get("type") == "member_changed")
    assert (changed[-1]["user"]["id"], changed[-1]["role"]) == (cast.alumnus.person.id, "member")
    assert (await world.rooms(cast.alumnus))["Spring"]["role"] == "member"
    assert (await alum.say(cast.cohort_room, "still here"))["type"] == "ack"
    assert (await world.rooms(cast.participant))["Spring"]["role"] == "member"  # active people are untouched

    await world.call(cast.staff_here, "PATCH", path, {"alumni_post_in_cohort": False})
    assert (await world.rooms(cast.alumnus))["Spring"]["role"] == "reader"
    bad = await world.call(cast.staff_here, "PATCH", path, {"alumni_post_in_cohort": "yes"})
    assert (bad.status_code, bad.json()["field"]) == (400, "alumni_post_in_cohort")
    await alum.close()


async def test_a_deleted_cohort_keeps_its_room_and_history(world: World) -> None:
    cast = world.cast
    client = await world.socket(cast.participant)
    assert (await client.say(cast.cohort_room, "before the end"))["type"] == "ack"
    await client.close()
    assert (await world.call(cast.staff_here, "DELETE", f"/api/cohorts/{cast.cohort}")).status_code == 204
    cohorts = (await world.call(cast.staff_here, "GET", f"/api/programs/{cast.program}/cohorts")).json()["cohorts"]
    assert cohorts == []
    history = await world.call(cast.participant, "GET", f"/api/rooms/{cast.cohort_room}/messages?after=0")
    assert "before the end" in [e.get("body") for e in history.json()["messages"]]
    invite = await world.call(
        cast.staff_here, "POST", f"/api/programs/{cast.program}/invites", {"role": "participant", "cohort": cast.cohort}
    )
    assert (invite.status_code, invite.json()["field"]) == (400, "cohort")
    assert (await world.call(cast.admin, "DELETE", f"/api/cohorts/{cast.cohort}")).status_code == 404
    assert (await world.call(cast.staff_here, "DELETE", f"/api/cohorts/{cast.cohort}")).status_code == 403


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("cohorts", {"name": "Backwards", "starts_on": "2026-05-04", "ends_on": "2026-05-03"}, "ends_on"),
        ("cohorts", {"name": "Someday", "starts_on": "soon"}, "starts_on"),
        ("cohorts", {"name": "  ", "starts_on": "2026-05-04"}, "name"),
        ("cohorts", {"starts_on": "2026-05-04"}, "name"),
        ("rooms", {"name": "Group", "kind": "cohort"}, "kind"),  # cohort rooms come with their cohort
        ("rooms", {"name": "Chat", "kind": "direct"}, "kind"),  # direct rooms come with a counsellor
        ("rooms", {"name": "x" * 101, "kind": "topic"}, "name"),
    ],
)
async def test_program_bodies_are_validated(world: World, path: str, body: dict[str, str], field: str) -> None:
    answer = await world.call(world.cast.staff_here, "POST", f"/api/programs/{world.cast.program}/{path}", body)
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (400, "invalid", field)


async def test_rooms_outside_programs_take_members_from_their_moderators_only(world: World) -> None:
    cast = world.cast
    created = await world.call(cast.staff_elsewhere, "POST", "/api/rooms", {"name": "Book club"})
    room = created.json()["id"]
    members = f"/api/rooms/{room}/members"
    pat_as_moderator = {"username": cast.participant.username, "role": "moderator"}
    assert (await world.call(cast.staff_elsewhere, "POST", members, pat_as_moderator)).status_code == 201
    assert (await world.call(cast.staff_here, "POST", members, {"username": "alum"})).status_code == 403
    assert (await world.call(cast.participant, "POST", members, {"username": "alum"})).status_code == 201
    assert (await world.call(cast.admin, "POST", members, {"username": "kim"})).status_code == 201
    listed = (await world.rooms(cast.alumnus))["Book club"]
    assert listed == {"id": room, "name": "Book club", "kind": "group", "role": "member", "last_seq": 4} | {
        "program": None,
        "cohort": None,
        "observing_until": None,
        "muted_until": None,
        "last_read_seq": 0,
        "unread": 0,
        "latest": None,
    }
    missing = await world.call(cast.admin, "POST", "/api/rooms/999999/members", {"username": "alum"})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (
        await world.call(cast.staff_here, "POST", "/api/rooms/999999/members", {"username": "alum"})
    ).status_code == 403
