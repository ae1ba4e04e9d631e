"""Every endpoint and every frame type, called by every kind of person: the generated table.

The rows are checked against the application itself: the endpoints come from its routes
(``server/app.py`` and the ``ROUTES`` of ``server/http/*``) and the frame types from
``server/protocol.py``, so an endpoint or frame added without a row here fails
``test_every_endpoint_has_a_row`` / ``test_every_frame_type_has_a_row``.

The people (``tests/support/lifecycle_cast.py`` plus a room moderator): ``participant`` (a
peer, member of the cohort room), ``alumnus`` (graduated: reader of the cohort room),
``withdrawn``, ``mod_here`` (a staff account that moderates the cohort room and is enrolled
nowhere), ``staff_here`` (the program's counsellors and managers), ``staff_elsewhere``
(another program's staff), ``admin`` (the site), and ``signed_out``. The service has no
separate program-admin role: the program's active staff manage it (``server.rules.access``).

A cell is the status, with the error code for a refusal (``"403 forbidden"``). Each call acts
on things made fresh for it (``tests.support.access.Fresh``); rows that act on the caller's
own account (``own``) are called by a fresh person of that kind. The finer tables stay where
they are (``test_moderation_access.py`` with audit entries, ``test_program_access.py`` with
effects); this one makes sure nothing is left out.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from server.app import create_app
from server.protocol import KNOWN_TYPES
from tests.support.access import Fresh, session_token, staff_moderator
from tests.support.client import WsClient
from tests.support.lifecycle_cast import enroll
from tests.support.live import settings_for
from tests.support.routes import app_routes
from tests.support.seed import PASSWORD, Account, create_user
from tests.support.world import World, program_world

ROLES = ("participant", "alumnus", "withdrawn", "mod_here", "staff_here", "staff_elsewhere", "admin", "signed_out")
SIGNED_IN = ROLES[:-1]
PARAMS = {  # a route's path parameter -> the placeholder Fresh fills it with
    "room_id": "{room}",
    "program_id": "{program}",
    "user_id": "{user}",
    "seq": "{seq}",
    "item_id": "{item}",
    "held_id": "{held}",
    "cohort_id": "{cohort}",
    "invite_id": "{invite}",
    "token": "{invite_token}",
}


def cells(default: str, **by_role: str) -> dict[str, str]:
    """One answer for everyone signed in unless told otherwise; signed out gets 401 unless told."""
    return {role: by_role.get(role, default) for role in SIGNED_IN} | {
        "signed_out": by_role.get("signed_out", "401 unauthorized")
    }


def only(*allowed: str, ok: str = "200", refused: str = "403 forbidden") -> dict[str, str]:
    return cells(refused, **dict.fromkeys(allowed, ok))


def room_only(*allowed: str, ok: str = "200") -> dict[str, str]:
    """A room's tool: its members without the right are refused; for everyone else the room
    does not exist (``not_member``: the two are not told apart)."""
    outside = dict.fromkeys(("withdrawn", "staff_elsewhere", "admin"), "403 not_member")
    return only(*allowed, ok=ok) | {role: answer for role, answer in outside.items() if role not in allowed}


@dataclass(frozen=True)
class Row:
    expect: dict[str, str]
    body: Any = None
    path: str | None = None  # placeholders; None: the route's own, filled per PARAMS
    own: bool = False  # acts on the caller's own account: a fresh person of the role calls
    serial: bool = False  # the answer depends on who came first: callers go one by one, in ROLES order


ANYONE = cells("200", signed_out="200")
RUN_ROOM = ("mod_here", "staff_here", "admin")
MODERATE_PROGRAM = ("mod_here", "staff_here", "admin")
MANAGE_PROGRAM = ("staff_here", "admin")
IN_ROOM = ("participant", "mod_here", "staff_here")

ROWS: dict[tuple[str, str], Row] = {}  # filled below, then compared with the app's routes


def test_every_endpoint_has_a_row() -> None:
    served = app_routes(create_app(settings_for("sqlite+aiosqlite:///:memory:")))
    assert sorted(served - ROWS.keys()) == [], "endpoints without a row in the access table"
    assert sorted(ROWS.keys() - served) == [], "rows for endpoints the application does not serve"


ROWS.update(
    {
        # pages, health and public reads
        ("GET", "/"): Row(ANYONE),
        ("GET", "/console"): Row(ANYONE),
        ("GET", "/healthz"): Row(ANYONE),
        ("GET", "/readyz"): Row(ANYONE),
        ("GET", "/metrics"): Row(ANYONE),  # from loopback; elsewhere METRICS_TOKEN (tests/test_metrics.py)
        ("GET", "/api/crisis-resources"): Row(ANYONE),
        ("GET", "/static/{path}"): Row(ANYONE, path="/static/styles.css"),
        ("GET", "/api/invites/{token}"): Row(ANYONE),
        # signing in and one's own account
        ("POST", "/api/auth/login"): Row(
            cells("200", signed_out="200"), {"username": "{my_username}", "password": PASSWORD}, own=True
        ),
        ("POST", "/api/auth/register"): Row(
            cells("201", signed_out="201"),
            {"username": "{new_username}", "password": PASSWORD, "display_name": "New", "invite": "{invite_token}"},
        ),
        ("POST", "/api/auth/logout"): Row(cells("204"), own=True),
        ("GET", "/api/me"): Row(cells("200")),
        ("POST", "/api/me/password"): Row(
            cells("200"), {"current_password": PASSWORD, "new_password": "another-long-password"}, own=True
        ),
        ("POST", "/api/me/delete"): Row(
            cells(
                "204",
                mod_here="403 forbidden",
                staff_here="403 forbidden",
                staff_elsewhere="403 forbidden",
                admin="403 forbidden",
            ),
            {"password": PASSWORD},
            own=True,
        ),
        ("POST", "/api/me/export"): Row(cells("201"), own=True),
        ("GET", "/api/me/export/{token}"): Row(cells("200"), path="/api/me/export/{my_export}", own=True),
        ("GET", "/api/me/disclosures"): Row(cells("200")),
        ("GET", "/api/me/mutes"): Row(cells("200")),
        ("POST", "/api/me/mutes"): Row(cells("201"), {"user": "{user}"}),
        ("DELETE", "/api/me/mutes/{user_id}"): Row(cells("200"), path="/api/me/mutes/{my_muted}", own=True),
        # rooms
        ("GET", "/api/rooms"): Row(cells("200")),
        ("POST", "/api/rooms"): Row(
            only("mod_here", "staff_here", "staff_elsewhere", "admin", ok="201"), {"name": "R"}
        ),
        ("POST", "/api/rooms/{room_id}/members"): Row(
            only(*RUN_ROOM, ok="201"), {"username": "{staff_username}", "role": "member"}
        ),
        ("GET", "/api/rooms/{room_id}/messages"): Row(
            only("participant", "alumnus", *IN_ROOM, refused="403 not_member")
        ),
        ("POST", "/api/rooms/{room_id}/read"): Row(
            only("participant", "alumnus", *IN_ROOM, refused="403 not_member"), {"seq": 0}
        ),
        ("GET", "/api/rooms/{room_id}"): Row(
            only("participant", "alumnus", *IN_ROOM, "admin", refused="403 not_member")
        ),
        ("PATCH", "/api/rooms/{room_id}"): Row(room_only(*RUN_ROOM), {"slow_seconds": 0}),
        # duty: the room's moderators only, admins included (a promise to be there, not a power)
        ("POST", "/api/rooms/{room_id}/duty"): Row(room_only("mod_here", "staff_here") | {"admin": "403 forbidden"}),
        ("DELETE", "/api/rooms/{room_id}/duty"): Row(room_only("mod_here", "staff_here") | {"admin": "403 forbidden"}),
        ("POST", "/api/rooms/{room_id}/observe"): Row(
            room_only(*IN_ROOM) | {"alumnus": "403 read_only"}, {"minutes": 10}
        ),
        ("DELETE", "/api/rooms/{room_id}/observe"): Row(room_only("alumnus", *IN_ROOM)),
        # the room's staff back-channel: made by the first who opens it (201), the same one after (200)
        ("POST", "/api/rooms/{room_id}/backchannel"): Row(only(*RUN_ROOM) | {"mod_here": "201"}, serial=True),
        # programs, cohorts, invites, the lifecycle
        ("POST", "/api/programs"): Row(only("admin", ok="201"), {"name": "Program {new_username}"}),
        ("GET", "/api/programs"): Row(cells("200")),
        ("GET", "/api/programs/{program_id}"): Row(only(*MANAGE_PROGRAM)),
        ("PATCH", "/api/programs/{program_id}"): Row(only(*MANAGE_PROGRAM), {"alumni_post_in_cohort": False}),
        ("POST", "/api/programs/{program_id}/cohorts"): Row(
            only(*MANAGE_PROGRAM, ok="201"), {"name": "Cohort {new_username}", "starts_on": "2026-01-05"}
        ),
        ("GET", "/api/programs/{program_id}/cohorts"): Row(only(*MANAGE_PROGRAM)),
        ("DELETE", "/api/cohorts/{cohort_id}"): Row(only(*MANAGE_PROGRAM, ok="204")),
        ("POST", "/api/programs/{program_id}/rooms"): Row(
            only(*MANAGE_PROGRAM, ok="201"), {"name": "Topic {new_username}", "kind": "topic"}
        ),
        ("GET", "/api/programs/{program_id}/people"): Row(only(*MANAGE_PROGRAM)),
        ("POST", "/api/programs/{program_id}/invites"): Row(only(*MANAGE_PROGRAM, ok="201"), {"role": "staff"}),
        ("GET", "/api/programs/{program_id}/invites"): Row(only(*MANAGE_PROGRAM)),
        ("DELETE", "/api/invites/{invite_id}"): Row(only(*MANAGE_PROGRAM, ok="204")),
        ("GET", "/api/programs/{program_id}/people/{user_id}"): Row(only(*MANAGE_PROGRAM)),
        ("POST", "/api/programs/{program_id}/people/{user_id}/graduate"): Row(only(*MANAGE_PROGRAM), {}),
        ("POST", "/api/programs/{program_id}/people/{user_id}/withdraw"): Row(only(*MANAGE_PROGRAM), {"reason": "x"}),
        ("POST", "/api/programs/{program_id}/people/{user_id}/readmit"): Row(
            only(*MANAGE_PROGRAM), {}, path="/api/programs/{program}/people/{withdrawn_user}/readmit"
        ),
        ("POST", "/api/programs/{program_id}/people/{user_id}/counsellor"): Row(
            only(*MANAGE_PROGRAM), {"username": "{staff_username}"}
        ),
        ("POST", "/api/cohorts/{cohort_id}/graduate"): Row(only(*MANAGE_PROGRAM), {}),
        # reports, the queue, held messages
        # anyone who reads the room may raise a message, graduates reading their cohort's room too
        ("POST", "/api/rooms/{room_id}/messages/{seq}/report"): Row(
            room_only("alumnus", *IN_ROOM, ok="201"), {"reason": "x"}
        ),
        ("POST", "/api/rooms/{room_id}/messages/{seq}/concern"): Row(room_only("alumnus", *IN_ROOM, ok="201"), {}),
        ("GET", "/api/queue"): Row(only("mod_here", "staff_here", "staff_elsewhere", "admin")),
        ("POST", "/api/queue/{item_id}/ack"): Row(only(*RUN_ROOM)),
        ("POST", "/api/queue/{item_id}/resolve"): Row(only(*RUN_ROOM), {"outcome": "dismissed"}),
        ("GET", "/api/rooms/{room_id}/held"): Row(room_only(*RUN_ROOM)),
        ("POST", "/api/rooms/{room_id}/held/{held_id}/approve"): Row(room_only(*RUN_ROOM)),
        ("POST", "/api/rooms/{room_id}/held/{held_id}/reject"): Row(room_only(*RUN_ROOM), {}),
        # moderator actions, people, the trail
        ("DELETE", "/api/rooms/{room_id}/messages/{seq}"): Row(room_only(*RUN_ROOM), {"reason": "x"}),
        ("POST", "/api/rooms/{room_id}/mutes"): Row(room_only(*RUN_ROOM), {"user": "{user}", "minutes": 10}),
        ("DELETE", "/api/rooms/{room_id}/mutes/{user_id}"): Row(room_only(*RUN_ROOM)),
        ("DELETE", "/api/rooms/{room_id}/members/{user_id}"): Row(room_only(*RUN_ROOM), {"reason": "x"}),
        ("POST", "/api/programs/{program_id}/bans"): Row(only(*MODERATE_PROGRAM), {"user": "{user}", "reason": "x"}),
        ("DELETE", "/api/programs/{program_id}/bans/{user_id}"): Row(
            only(*MODERATE_PROGRAM), path="/api/programs/{program}/bans/{banned}"
        ),
        ("POST", "/api/programs/{program_id}/warnings"): Row(
            only(*MODERATE_PROGRAM, ok="201"), {"user": "{user}", "reason": "x"}
        ),
        ("GET", "/api/programs/{program_id}/people/{user_id}/notes"): Row(only(*MODERATE_PROGRAM)),
        ("POST", "/api/programs/{program_id}/people/{user_id}/notes"): Row(
            only(*MODERATE_PROGRAM, ok="201"), {"body": "x"}
        ),
        ("GET", "/api/programs/{program_id}/people/{user_id}/moderation"): Row(only(*MODERATE_PROGRAM)),
        ("POST", "/api/programs/{program_id}/people/{user_id}/export"): Row(
            only(*MANAGE_PROGRAM), {"recipient": "a clinic", "purpose": "treatment"}
        ),
        ("POST", "/api/programs/{program_id}/people/{user_id}/disclosures"): Row(
            only(*MANAGE_PROGRAM, ok="201"),
            {"recipient": "a court", "purpose": "a subpoena", "kind": "legal_hold", "scope": "messages"},
        ),
        ("GET", "/api/programs/{program_id}/people/{user_id}/disclosures"): Row(only(*MANAGE_PROGRAM)),
        ("GET", "/api/audit"): Row(only("admin")),
    }
)


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


class Callers:
    """The people of the table and their tokens; a fresh person of a kind for ``own`` rows."""

    def __init__(self, world: World, fresh: Fresh) -> None:
        self.world, self.fresh = world, fresh
        self.people: dict[str, Account] = {}
        self.tokens: dict[str, str] = {}

    async def setup(self) -> None:
        cast = self.world.cast
        self.people = {
            "participant": cast.participant,
            "alumnus": cast.alumnus,
            "withdrawn": cast.withdrawn,
            "mod_here": await staff_moderator(self.world, "mona", cast.cohort_room),
            "staff_here": cast.staff_here,
            "staff_elsewhere": cast.staff_elsewhere,
            "admin": cast.admin,
        }
        for role, account in self.people.items():
            self.tokens[role] = await session_token(self.world, account.person)

    async def new(self, role: str) -> Account:
        cast, db, name = self.world.cast, self.world.db, self.fresh._name(role.replace("_", "-"))
        if role in ("participant", "alumnus", "withdrawn", "signed_out"):
            status = {"alumnus": "alumni", "withdrawn": "withdrawn"}.get(role, "active")
            return await enroll(db, name, cast.program, cast.cohort, status=status)
        if role == "mod_here":
            return await staff_moderator(self.world, name, cast.cohort_room)
        if role == "admin":
            return await create_user(db, name, "admin")
        program = cast.program if role == "staff_here" else cast.other_program
        return await enroll(db, name, program, None, role="staff")

    async def caller(self, role: str, own: bool) -> tuple[Account | None, str | None]:
        if not own:
            return self.people.get(role), self.tokens.get(role)
        account = await self.new(role)
        return account, None if role == "signed_out" else await session_token(self.world, account.person)


def _cell(status: int, body: bytes) -> str:
    if status < 400:
        return str(status)
    code = orjson.loads(body).get("code") if body.startswith(b"{") else None
    return f"{status} {code}"


async def _own(fresh: Fresh, template: Any, account: Account | None, token: str | None) -> Any:
    """The caller's own values: their username, a download link of their own export."""
    if isinstance(template, dict):
        return {key: await _own(fresh, value, account, token) for key, value in template.items()}
    if not isinstance(template, str) or account is None:
        return template
    world = fresh.world
    if "{my_export}" in template:
        answer = await world.call(token or await session_token(world, account.person), "POST", "/api/me/export")
        template = template.replace("{my_export}", answer.json()["url"].rsplit("/", 1)[1])
    if "{my_muted}" in template:
        body = {"user": (await fresh.participant()).person.id}
        await world.call(token or await session_token(world, account.person), "POST", "/api/me/mutes", body)
        template = template.replace("{my_muted}", str(body["user"]))
    return template.replace("{my_username}", account.username)


async def test_every_endpoint_answers_every_caller_as_the_table_says(world: World) -> None:
    fresh = Fresh(world)
    callers = Callers(world, fresh)
    await callers.setup()
    got: dict[str, dict[str, str]] = {}
    wanted: dict[str, dict[str, str]] = {}
    for (method, route), row in sorted(ROWS.items(), key=lambda item: (item[0][1], item[0][0])):
        template = row.path or route.format(**{name: value for name, value in PARAMS.items() if name in route})
        name = f"{method} {route}"
        wanted[name] = row.expect

        async def call(role: str, method: str = method, template: str = template, row: Row = row) -> str:
            account, token = await callers.caller(role, row.own)
            path = await fresh.fill(await _own(fresh, template, account, token))
            body = await fresh.fill(await _own(fresh, row.body, account, token))
            answer = await world.call(token, method, path, body)
            return _cell(answer.status_code, answer.content)

        if row.serial:
            got[name] = {role: await call(role) for role in ROLES}
        else:  # the callers of a row at once: each acts on things of its own
            got[name] = dict(zip(ROLES, await asyncio.gather(*(call(role) for role in ROLES)), strict=True))
    differences = {
        name: {r: (wanted[name][r], got[name][r]) for r in ROLES if wanted[name][r] != got[name][r]} for name in got
    }
    wrong = "\n".join(f"{name}: {diff}" for name, diff in differences.items() if diff)
    assert not wrong, f"(expected, got) by caller:\n{wrong}"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("withdrawn", "403 forbidden"),  # withdrawal took their rooms; only readmission gives them back
        ("elsewhere", "403 forbidden"),  # a participant of another program only
        ("alumnus", "201"),
        ("outsider_staff", "201"),  # a staff account may moderate a program's room unenrolled
    ],
)
async def test_a_program_room_takes_only_its_program_people(world: World, who: str, expected: str) -> None:
    """A room's moderators may add people to it, but not pull in someone the program let go
    or someone of another program (who would then read it, or moderate it and the program)."""
    cast = world.cast
    people = {
        "withdrawn": cast.withdrawn,
        "elsewhere": await enroll(world.db, "elle", cast.other_program, None),
        "alumnus": cast.alumnus,
        "outsider_staff": await create_user(world.db, "stan", "staff"),
    }
    mod = await staff_moderator(world, "mona", cast.cohort_room)
    for role in ("member", "moderator"):
        body = {"username": people[who].username, "role": role}
        answer = await world.call(mod, "POST", f"/api/rooms/{cast.cohort_room}/members", body)
        assert _cell(answer.status_code, answer.content) == expected, answer.text


NOT_IN_ROOM = {"join": "error not_member", "send": "error not_member", "react": "error not_member"}
NOT_IN_ROOM |= {"leave": "left", "typing": "error not_joined", "ping": "pong"}
IN_ROOM_FRAMES = {"join": "joined", "send": "ack", "react": "ack", "leave": "left", "typing": "none", "ping": "pong"}
FRAMES: dict[str, dict[str, str]] = {  # frame type -> role -> the answer to it in the cohort room
    kind: {
        "participant": IN_ROOM_FRAMES[kind],
        "alumnus": {"send": "error read_only", "react": "error read_only"}.get(kind, IN_ROOM_FRAMES[kind]),
        "withdrawn": NOT_IN_ROOM[kind],
        "mod_here": IN_ROOM_FRAMES[kind],
        "staff_here": IN_ROOM_FRAMES[kind],
        "staff_elsewhere": NOT_IN_ROOM[kind],
        "admin": NOT_IN_ROOM[kind],  # admins moderate through the console's HTTP calls, not as members
        "signed_out": "closed 4001",
    }
    for kind in ("join", "send", "react", "leave", "typing", "ping")
}


def test_every_frame_type_has_a_row() -> None:
    assert FRAMES.keys() == KNOWN_TYPES


def _frame(kind: str, room: int, target: int) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": kind, "ref": "asked"}
    if kind != "ping":
        frame["room"] = room
    if kind == "send":
        frame |= {"body": "hello", "client_id": str(uuid.uuid4())}
    if kind == "react":
        frame |= {"target": target, "emoji": "heart", "on": True}
    return frame


async def _answer(world: World, token: str | None, frame: dict[str, Any]) -> str:
    """What the server says to this one frame on a new socket (``none`` when nothing, as for typing)."""
    client = await WsClient.open(world.live.ws_url, token)
    try:
        first = await client.next()
        if first["type"] == "error":
            await client.ws.wait_closed()
            return f"closed {client.ws.close_code}"
        if frame["type"] == "typing":
            await client.join(frame["room"], ref="before")
        await client.send(frame)
        awaited = ("asked",)
        if frame["type"] == "typing":  # answered only when refused: a ping after it tells
            await client.send({"type": "ping", "ref": "after"})
            awaited = ("asked", "after")
        answer = (await client.until(lambda f: f.get("ref") in awaited))[-1]
        if answer["ref"] == "after":
            return "none"
        return f"error {answer['code']}" if answer["type"] == "error" else str(answer["type"])
    finally:
        await client.close()


async def test_every_frame_type_answers_every_caller_as_the_table_says(world: World) -> None:
    fresh = Fresh(world)
    callers = Callers(world, fresh)
    await callers.setup()
    target = await fresh.make("seq")
    got = {
        kind: {
            role: await _answer(world, callers.tokens.get(role), _frame(kind, world.cast.cohort_room, target))
            for role in ROLES
        }
        for kind in FRAMES
    }
    assert got == FRAMES
