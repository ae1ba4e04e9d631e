"""Invite links and registration through HTTP: the happy path into the rooms, and every refusal.

A refused registration must leave no trace: no account, no enrollment, no use counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from server.auth.tokens import Signers
from server.store.database import utcnow
from server.store.models import Enrollment, Invite, User
from tests.support.live import TEST_KEYS
from tests.support.world import REGISTER_PASSWORD, World, program_world

SIGNERS = Signers(TEST_KEYS)
PASSWORD = REGISTER_PASSWORD


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def register(world: World, invite: str, username: str, **extra: str) -> httpx.Response:
    return await world.register(invite, username, **extra)


async def traces(world: World) -> tuple[int, int, int]:
    """(accounts, enrollments, invite uses): what a registration leaves behind."""
    async with world.db.read() as conn:
        people = (await conn.execute(select(func.count()).select_from(User))).scalar_one()
        enrolled = (await conn.execute(select(func.count()).select_from(Enrollment))).scalar_one()
        uses = (await conn.execute(select(func.coalesce(func.sum(Invite.uses), 0)))).scalar_one()  # type: ignore[arg-type]
    return int(people), int(enrolled), int(uses)


async def test_registering_lands_the_person_in_their_rooms_signed_in(world: World) -> None:
    cast = world.cast
    peer = await world.socket(cast.participant)
    await peer.join(cast.cohort_room, since=None)
    invite = await world.invite(real_name="Sam Rivera")
    assert invite["url"] == f"{world.live.url}/#invite={invite['token']}"
    assert (invite["max_uses"], invite["uses"], invite["remaining"], invite["valid"]) == (1, 0, 1, True)
    assert invite["expires_at"] > (utcnow() + timedelta(days=6, hours=23)).isoformat()[:19]  # the default: 7 days

    answer = await register(world, invite["token"], " Sam.R ", display_name=" Sam 🌱 ")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["user"] == {
        "id": body["user"]["id"],
        "username": "sam.r",
        "display_name": "Sam 🌱",
        "role": "participant",
    }
    assert body["csrf_token"] and "alongside_session=" in answer.headers["set-cookie"]
    token = body["token"]

    rooms = await world.rooms(token)
    assert {name: (room["kind"], room["role"]) for name, room in rooms.items()} == {
        "Spring": ("cohort", "member"),
        "Mindfulness": ("topic", "member"),
    }
    assert rooms["Spring"] | {"last_seq": 0} == {
        "id": cast.cohort_room,
        "name": "Spring",
        "kind": "cohort",
        "role": "member",
        "last_seq": 0,
        "program": cast.program,
        "cohort": cast.cohort,
        "observing_until": None,
        "muted_until": None,
        "last_read_seq": 0,
        "unread": 0,
        "latest": None,
    }
    added = await peer.until(lambda f: f.get("type") == "member_added" and f["user"]["id"] == body["user"]["id"])
    assert added[-1]["user"] == {"id": body["user"]["id"], "display_name": "Sam 🌱"}  # peers: display name only

    newcomer = await world.socket(token)
    assert (await newcomer.join(cast.cohort_room, since=0))["type"] == "joined"
    said = await newcomer.say(cast.cohort_room, "hi everyone, first day")
    assert said["type"] == "ack"
    heard = await peer.until(lambda f: f.get("type") == "message")
    assert heard[-1]["body"] == "hi everyone, first day"

    roster = (await world.call(cast.staff_here, "GET", f"/api/programs/{cast.program}/people")).json()["people"]
    sam = next(entry for entry in roster if entry["user"]["username"] == "sam.r")
    assert sam["user"]["real_name"] == "Sam Rivera"  # staff know who the invite was for
    assert sam["enrollment"] | {"id": 0} == {
        "id": 0,
        "user": body["user"]["id"],
        "program": cast.program,
        "cohort": cast.cohort,
        "role": "participant",
        "status": "active",
    }
    listed = (await world.call(cast.staff_here, "GET", f"/api/programs/{cast.program}/invites")).json()["invites"]
    assert [(i["id"], i["uses"], i["remaining"], i["valid"], i["code"]) for i in listed] == [
        (invite["id"], 1, 0, False, "invite_used")
    ]
    for client in (peer, newcomer):
        await client.close()


async def test_a_staff_invite_makes_program_staff(world: World) -> None:
    invite = await world.invite(role="staff", cohort=None)
    answer = await register(world, invite["token"], "dana")
    assert answer.status_code == 201, answer.text
    token = answer.json()["token"]
    assert answer.json()["user"]["role"] == "staff"
    rooms = await world.rooms(token)
    assert {name: room["role"] for name, room in rooms.items()} == {
        "Spring": "moderator",
        "Mindfulness": "moderator",
        "Alumni": "moderator",
    }
    people = await world.call(token, "GET", f"/api/programs/{world.cast.program}/people")
    assert people.status_code == 200  # manages the program at once


async def test_the_preview_says_what_the_link_is_for_and_not_who_made_it(world: World) -> None:
    invite = await world.invite(real_name="Sam Rivera", max_uses=2)
    answer = await world.call(None, "GET", f"/api/invites/{invite['token']}")
    assert answer.status_code == 200
    assert answer.json() == {
        "valid": True,
        "code": None,
        "program": {"id": world.cast.program, "name": "Evening IOP"},
        "cohort": {"id": world.cast.cohort, "name": "Spring"},
        "role": "participant",
        "expires_at": invite["expires_at"],
    }
    assert (await register(world, invite["token"], "sam")).status_code == 201
    assert (await world.call(None, "GET", f"/api/invites/{invite['token']}")).json()["valid"] is True
    assert (await register(world, invite["token"], "sal")).status_code == 201
    used = (await world.call(None, "GET", f"/api/invites/{invite['token']}")).json()
    assert (used["valid"], used["code"]) == (False, "invite_used") and used["message"]


async def test_a_three_use_invite_takes_three_people_and_refuses_the_fourth(world: World) -> None:
    invite = await world.invite(max_uses=3)
    for name in ("amy", "bea", "cyd"):
        assert (await register(world, invite["token"], name)).status_code == 201
    before = await traces(world)
    fourth = await register(world, invite["token"], "dee")
    assert (fourth.status_code, fourth.json()["code"], fourth.json()["field"]) == (410, "invite_used", "invite")
    assert await traces(world) == before


async def _expired(world: World) -> str:
    return SIGNERS.invite.sign(await world.expired_invite())


async def _used(world: World) -> str:
    token: str = (await world.invite())["token"]
    assert (await register(world, token, "first")).status_code == 201
    return token


async def _revoked(world: World) -> str:
    invite = await world.invite()
    answer = await world.call(world.cast.staff_here, "DELETE", f"/api/invites/{invite['id']}")
    assert answer.status_code == 204
    token: str = invite["token"]
    return token


async def _cohort_deleted(world: World) -> str:
    cast = world.cast
    answer = await world.call(
        cast.staff_here, "POST", f"/api/programs/{cast.program}/cohorts", {"name": "Autumn", "starts_on": "2026-09-07"}
    )
    cohort = answer.json()["id"]
    token: str = (await world.invite(cohort=cohort))["token"]
    assert (await world.call(cast.staff_here, "DELETE", f"/api/cohorts/{cohort}")).status_code == 204
    return token


async def _tampered(world: World) -> str:
    token: str = (await world.invite())["token"]
    payload, stamp, signature = token.split(".")
    return f"{payload}.{stamp}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}"


async def _session_token(world: World) -> str:
    return await world.token(world.cast.participant)  # a real token, signed for sessions


async def _export_token(world: World) -> str:
    invite = await world.invite()
    return SIGNERS.export.sign(invite["id"])  # the right id, signed for another purpose


async def _unknown(world: World) -> str:
    return SIGNERS.invite.sign("never-issued")


REFUSALS: dict[str, tuple[Callable[[World], Awaitable[str]], int, str]] = {
    "expired": (_expired, 410, "invite_expired"),
    "used up": (_used, 410, "invite_used"),
    "revoked": (_revoked, 410, "invite_revoked"),
    "cohort deleted": (_cohort_deleted, 410, "invite_gone"),
    "tampered signature": (_tampered, 400, "invite_invalid"),
    "session token": (_session_token, 400, "invite_invalid"),
    "export token": (_export_token, 400, "invite_invalid"),
    "unknown invite": (_unknown, 400, "invite_invalid"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_a_bad_invite_is_refused_clearly_and_creates_nothing(world: World, case: str) -> None:
    make, status, code = REFUSALS[case]
    token = await make(world)
    before = await traces(world)
    answer = await register(world, token, "newcomer")
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert answer.json()["field"] == "invite" and answer.json()["message"]
    assert await traces(world) == before
    login = await world.call(None, "POST", "/api/auth/login", {"username": "newcomer", "password": PASSWORD})
    assert login.status_code == 401
    preview = await world.call(None, "GET", f"/api/invites/{token}")
    assert (preview.status_code, preview.json()["valid"], preview.json()["code"]) == (200, False, code)


@pytest.fixture
async def world_on_each_database(db_url: str) -> AsyncIterator[World]:
    async with program_world(db_url) as running:
        yield running


async def test_only_one_of_racing_registrations_gets_a_single_use_invite(world_on_each_database: World) -> None:
    world = world_on_each_database
    invite = await world.invite()
    before = await traces(world)
    answers = await asyncio.gather(*(register(world, invite["token"], name) for name in ("racer1", "racer2", "racer3")))
    assert sorted(a.status_code for a in answers) == [201, 410, 410]
    assert {a.json()["code"] for a in answers if a.status_code == 410} == {"invite_used"}
    people, enrolled, uses = await traces(world)
    assert (people, enrolled, uses) == (before[0] + 1, before[1] + 1, before[2] + 1)


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"username": "pat"}, 409, "conflict", "username"),  # taken (by the cast's participant)
        ({"username": "PAT "}, 409, "conflict", "username"),  # the same name once normalised
        ({"username": "ab"}, 400, "invalid", "username"),
        ({"username": "with space"}, 400, "invalid", "username"),
        ({"password": "short"}, 400, "invalid", "password"),
        ({"display_name": "   "}, 400, "invalid", "display_name"),
        ({"display_name": "evil\u202eman"}, 400, "invalid", "display_name"),
        ({"display_name": "x" * 65}, 400, "invalid", "display_name"),
        ({"invite": ""}, 400, "invalid", "invite"),
        ({"extra": "field"}, 400, "invalid", "extra"),
    ],
)
async def test_account_problems_are_refused_and_keep_the_invite(
    world: World, change: dict[str, str], status: int, code: str, field: str
) -> None:
    invite = await world.invite()
    before = await traces(world)
    body = {"username": "newcomer", "password": PASSWORD, "display_name": "Newcomer", "invite": invite["token"]}
    answer = await world.call(None, "POST", "/api/auth/register", {**body, **change})
    assert (answer.status_code, answer.json()["code"], answer.json().get("field")) == (status, code, field)
    assert await traces(world) == before
    assert (await register(world, invite["token"], "newcomer")).status_code == 201  # the invite still works


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "participant"}, "cohort"),  # a participant invite needs a cohort
        ({"role": "participant", "cohort": 999999}, "cohort"),
        ({"role": "participant", "cohort": "OTHER"}, "cohort"),  # a cohort of another program
        ({"role": "staff", "cohort": "MINE"}, "cohort"),  # staff invites are program-wide
        ({"role": "counsellor"}, "role"),
        ({"role": "staff", "max_uses": 0}, "max_uses"),
        ({"role": "staff", "max_uses": 1001}, "max_uses"),
        ({"role": "staff", "max_uses": True}, "max_uses"),
        ({"role": "staff", "max_uses": "2"}, "max_uses"),
        ({"role": "staff", "expires_in_days": 0}, "expires_in_days"),
        ({"role": "staff", "expires_in_days": 31}, "expires_in_days"),
        ({"role": "staff", "real_name": "x" * 101}, "real_name"),
        ({"role": "staff", "created_by": 1}, "created_by"),
    ],
)
async def test_invite_bodies_are_validated(world: World, body: dict[str, Any], field: str) -> None:
    cast = world.cast
    other = await world.call(
        cast.admin, "POST", f"/api/programs/{cast.other_program}/cohorts", {"name": "X", "starts_on": "2026-01-05"}
    )
    cohorts = {"OTHER": other.json()["id"], "MINE": cast.cohort}
    body = {key: cohorts.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
    answer = await world.call(cast.staff_here, "POST", f"/api/programs/{cast.program}/invites", body)
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (400, "invalid", field)


async def test_limits_expiry_and_revocation_show_in_the_list(world: World) -> None:
    cast = world.cast
    path = f"/api/programs/{cast.program}/invites"
    invite = await world.invite(max_uses=5, expires_in_days=1, real_name="  ")
    assert invite["real_name"] is None and invite["expires_at"] < (utcnow() + timedelta(days=1, minutes=1)).isoformat()
    assert (await register(world, invite["token"], "early")).status_code == 201
    assert (await world.call(cast.admin, "DELETE", f"/api/invites/{invite['id']}")).status_code == 204
    assert (await world.call(cast.admin, "DELETE", f"/api/invites/{invite['id']}")).status_code == 204  # idempotent
    [listed] = (await world.call(cast.admin, "GET", path)).json()["invites"]
    assert {k: listed[k] for k in ("uses", "remaining", "revoked", "expired", "valid", "code", "created_by")} == {
        "uses": 1,
        "remaining": 4,
        "revoked": True,
        "expired": False,
        "valid": False,
        "code": "invite_revoked",
        "created_by": cast.staff_here.person.id,
    }
    assert listed["token"] and listed["url"].startswith(world.live.url)
    for missing in ("no-such-invite", "x" * 40):
        answer = await world.call(cast.admin, "DELETE", f"/api/invites/{missing}")
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
        assert (await world.call(cast.staff_here, "DELETE", f"/api/invites/{missing}")).status_code == 403
