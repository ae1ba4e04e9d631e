"""Who may do what with programs, cohorts, program rooms and invites: one row per endpoint.

Each row is called by every kind of person (tests/support/lifecycle_cast.py, plus withdrawn
staff and someone signed out) against one running server; the row says the status each
gets. Rows that change something also say how to see the change, so a refusal is checked
to have changed nothing and an allowed call to have done its work.
"""

from __future__ import annotations

import string
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.auth.tokens import Signers
from tests.support.access import only_among
from tests.support.lifecycle_cast import ACTORS, enroll, new_cohort
from tests.support.live import TEST_KEYS
from tests.support.seed import Account, create_user
from tests.support.world import World, program_world

SIGNERS = Signers(TEST_KEYS)
EVERYONE = (*ACTORS, "withdrawn_staff", "signed_out")

Effects = Callable[[World, dict[str, Any]], Awaitable[set[str]]]


only = only_among(EVERYONE)


MANAGERS = ("admin", "staff_here")


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # placeholders: see Targets.make
    expect: dict[str, int]
    body: dict[str, Any] | None = None
    effects: Effects | None = None  # which actors' calls left their mark


@dataclass
class Targets:
    """Values for a row's placeholders; ``fresh_*`` ones are made anew for every call."""

    world: World
    made: dict[str, Any] = field(default_factory=dict)  # actor -> the fresh thing made for them
    other_cohort_room: int | None = None

    async def make(self, key: str, actor: str) -> Any:
        cast = self.world.cast
        fixed = {
            "program": cast.program,
            "other_program": cast.other_program,
            "cohort": cast.cohort,
            "cohort_room": cast.cohort_room,
            "actor": actor,
        }
        if key in fixed:
            return fixed[key]
        if key == "other_cohort_room":
            if self.other_cohort_room is None:
                _, self.other_cohort_room = await new_cohort(self.world.db, cast.program, "Summer")
            return self.other_cohort_room
        if key == "fresh_cohort":
            self.made[actor], _ = await new_cohort(self.world.db, cast.program, f"Doomed {actor}")
        elif key in ("fresh_invite", "fresh_token"):
            answer = await self.world.call(
                cast.admin, "POST", f"/api/programs/{cast.program}/invites", {"role": "staff"}
            )
            self.made[actor] = answer.json()["id"]
            return answer.json()["id" if key == "fresh_invite" else "token"]
        elif key == "fresh_user":
            # staff: a program's room takes only staff and people enrolled in the program (rules.access)
            username = f"new-{actor}".replace("_", "-")
            self.made[actor] = (await create_user(self.world.db, username, role="staff")).username
        else:
            raise KeyError(key)
        return self.made[actor]

    async def fill(self, template: Any, actor: str) -> Any:
        """The template with its placeholders filled; a value that is one placeholder keeps its type."""
        if isinstance(template, dict):
            return {key: await self.fill(value, actor) for key, value in template.items()}
        if not isinstance(template, str):
            return template
        keys = [name for _, name, _, _ in string.Formatter().parse(template) if name]
        values = {key: await self.make(key, actor) for key in keys}
        if len(keys) == 1 and template == "{" + keys[0] + "}":
            return values[keys[0]]
        return template.format(**values)


async def _programs_made(world: World, made: dict[str, Any]) -> set[str]:
    answer = await world.call(world.cast.admin, "GET", "/api/programs")
    return {p["name"].removeprefix("Program ") for p in answer.json()["programs"] if p["name"].startswith("Program ")}


async def _cohorts_made(world: World, made: dict[str, Any]) -> set[str]:
    answer = await world.call(world.cast.admin, "GET", f"/api/programs/{world.cast.program}/cohorts")
    return {c["name"].removeprefix("Cohort ") for c in answer.json()["cohorts"] if c["name"].startswith("Cohort ")}


async def _cohorts_deleted(world: World, made: dict[str, Any]) -> set[str]:
    answer = await world.call(world.cast.admin, "GET", f"/api/programs/{world.cast.program}/cohorts")
    left = {c["id"] for c in answer.json()["cohorts"]}
    return {actor for actor, cohort in made.items() if cohort not in left}


async def _rooms_made(world: World, made: dict[str, Any]) -> set[str]:
    answer = await world.call(world.cast.admin, "GET", f"/api/programs/{world.cast.program}")
    return {r["name"].removeprefix("Topic ") for r in answer.json()["rooms"] if r["name"].startswith("Topic ")}


async def _invites_made(world: World, made: dict[str, Any]) -> set[str]:
    answer = await world.call(world.cast.admin, "GET", f"/api/programs/{world.cast.program}/invites")
    return {i["real_name"] for i in answer.json()["invites"] if i["real_name"]}


async def _invites_revoked(world: World, made: dict[str, Any]) -> set[str]:
    answer = await world.call(world.cast.admin, "GET", f"/api/programs/{world.cast.program}/invites")
    revoked = {i["id"] for i in answer.json()["invites"] if i["revoked"]}
    return {actor for actor, invite in made.items() if invite in revoked}


async def _members_added(world: World, made: dict[str, Any]) -> set[str]:
    answer = await world.call(world.cast.staff_here, "GET", f"/api/rooms/{world.cast.cohort_room}/messages?after=0")
    added = {e["user"]["display_name"] for e in answer.json()["messages"] if e["type"] == "member_added"}
    return {actor for actor, username in made.items() if username.title() in added}


ROWS = [
    Row(
        "create a program", "POST", "/api/programs", only("admin", ok=201), {"name": "Program {actor}"}, _programs_made
    ),
    Row("list my programs", "GET", "/api/programs", only(*EVERYONE)),
    Row("read the program", "GET", "/api/programs/{program}", only(*MANAGERS)),
    Row("read another program", "GET", "/api/programs/{other_program}", only("admin", "staff_elsewhere")),
    Row("read an unknown program", "GET", "/api/programs/999999", only() | {"admin": 404}),
    Row("set program options", "PATCH", "/api/programs/{program}", only(*MANAGERS), {"alumni_post_in_cohort": True}),
    Row(
        "create a cohort",
        "POST",
        "/api/programs/{program}/cohorts",
        only(*MANAGERS, ok=201),
        {"name": "Cohort {actor}", "starts_on": "2026-04-06"},
        _cohorts_made,
    ),
    Row("list cohorts", "GET", "/api/programs/{program}/cohorts", only(*MANAGERS)),
    Row("delete a cohort", "DELETE", "/api/cohorts/{fresh_cohort}", only(*MANAGERS, ok=204), None, _cohorts_deleted),
    Row(
        "create a program room",
        "POST",
        "/api/programs/{program}/rooms",
        only(*MANAGERS, ok=201),
        {"name": "Topic {actor}", "kind": "topic"},
        _rooms_made,
    ),
    Row("see the roster", "GET", "/api/programs/{program}/people", only(*MANAGERS)),
    Row(
        "invite a participant",
        "POST",
        "/api/programs/{program}/invites",
        only(*MANAGERS, ok=201),
        {"role": "participant", "cohort": "{cohort}", "real_name": "{actor}"},
        _invites_made,
    ),
    Row(
        "invite staff",
        "POST",
        "/api/programs/{program}/invites",
        only(*MANAGERS, ok=201),
        {"role": "staff", "real_name": "{actor}"},
        _invites_made,
    ),
    Row("list invites", "GET", "/api/programs/{program}/invites", only(*MANAGERS)),
    Row("revoke an invite", "DELETE", "/api/invites/{fresh_invite}", only(*MANAGERS, ok=204), None, _invites_revoked),
    Row("preview an invite", "GET", "/api/invites/{fresh_token}", only(*EVERYONE) | {"signed_out": 200}),
    Row(
        "add a staff member to a program room",
        "POST",
        "/api/rooms/{cohort_room}/members",
        only(*MANAGERS, ok=201),
        {"username": "{fresh_user}"},
        _members_added,
    ),
    # room history follows membership: the cohort's own people and its moderators, nobody else
    Row(
        "read the cohort room",
        "GET",
        "/api/rooms/{cohort_room}/messages",
        only("staff_here", "participant", "alumnus"),
    ),
    Row("read another cohort's room", "GET", "/api/rooms/{other_cohort_room}/messages", only("staff_here")),
]


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
async def test_who_may_do_what(world: World, row: Row) -> None:
    withdrawn_staff = await enroll(world.db, "wendy", world.cast.program, None, role="staff", status="withdrawn")
    actors: dict[str, Account | None] = {name: world.cast.actor(name) for name in ACTORS}
    actors.update(withdrawn_staff=withdrawn_staff, signed_out=None)
    targets = Targets(world)
    got: dict[str, int] = {}
    for name, who in actors.items():
        path = await targets.fill(row.path, name)
        answer = await world.call(who, row.method, path, await targets.fill(row.body, name))
        got[name] = answer.status_code
        if answer.status_code in (401, 403):
            refusal = {401: "unauthorized", 403: "not_member" if "/messages" in path else "forbidden"}
            assert answer.json()["code"] == refusal[answer.status_code], (name, answer.text)
    assert got == row.expect
    if row.effects is not None:
        assert await row.effects(world, targets.made) == {actor for actor, status in got.items() if status < 300}


async def test_a_participant_cannot_reach_another_cohorts_room_on_the_socket(world: World) -> None:
    _, summer_room = await new_cohort(world.db, world.cast.program, "Summer")
    client = await world.socket(world.cast.participant)
    refused = await client.join(summer_room, since=0)
    assert (refused["type"], refused["code"]) == ("error", "not_member")
    said = await client.say(summer_room, "can anyone hear me?")
    assert (said["type"], said["code"]) == ("error", "not_member")
    assert (await client.join(world.cast.cohort_room, since=0))["type"] == "joined"
    await client.close()
    history = await world.call(world.cast.staff_here, "GET", f"/api/rooms/{summer_room}/messages?after=0")
    assert all(e["type"] != "message" for e in history.json()["messages"])
