"""Who may do which moderation action: one row per endpoint, called by every kind of person.

The people (tests/support/lifecycle_cast.py plus three room moderators made here):
- ``member``: a participant, member of the cohort room ("this room");
- ``mod_here``: a staff account that moderates this room only (not enrolled in the program);
- ``mod_sibling``: moderates another room (the topic room) of the same program only;
- ``mod_elsewhere``: moderates a room of another program only;
- ``staff_elsewhere``: active staff of another program;
- ``staff_here``: active staff of the program; ``admin``; and someone signed out.

Room actions belong to whoever runs the room (its moderators, its program's staff, admins);
program actions (warnings, notes, a person's history, bans) to whoever moderates the program
(``server.rules.access.may_moderate_program``: also a moderator of any of its rooms). Each
call acts on things made fresh for it; an action with an audit entry is also checked to have
written exactly one entry by that caller when allowed, and none when refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from server.store import programs
from tests.support.access import Fresh, only_among, staff_moderator
from tests.support.seed import Account
from tests.support.world import World, program_world

ACTORS = ("member", "mod_here", "mod_sibling", "mod_elsewhere", "staff_elsewhere", "staff_here", "admin")
EVERYONE = (*ACTORS, "signed_out")
RUN_ROOM = ("mod_here", "staff_here", "admin")  # may_run_room of the cohort room
MODERATE_PROGRAM = ("mod_here", "mod_sibling", "staff_here", "admin")  # may_moderate_program
MANAGE_PROGRAM = ("staff_here", "admin")
IN_ROOM = ("member", "mod_here", "staff_here")  # members of the cohort room


only = only_among(EVERYONE)


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # placeholders, filled per caller by Fresh.fill
    expect: dict[str, int]
    body: dict[str, Any] | None = None
    audited: str | None = None  # the audit action an allowed call writes


ROWS = [
    # helper A: room actions and bans
    Row(
        "remove a message",
        "DELETE",
        "/api/rooms/{room}/messages/{seq}",
        only(*RUN_ROOM),
        {"reason": "x"},
        "message.remove",
    ),
    Row(
        "mute in a room",
        "POST",
        "/api/rooms/{room}/mutes",
        only(*RUN_ROOM),
        {"user": "{user}", "minutes": 10},
        "member.mute",
    ),
    Row("unmute in a room", "DELETE", "/api/rooms/{room}/mutes/{user}", only(*RUN_ROOM)),
    Row(
        "remove from a room",
        "DELETE",
        "/api/rooms/{room}/members/{user}",
        only(*RUN_ROOM),
        {"reason": "x"},
        "member.remove",
    ),
    Row("lock a room", "PATCH", "/api/rooms/{room}", only(*RUN_ROOM), {"locked": True, "reason": "x"}, "room.lock"),
    Row("slow a room", "PATCH", "/api/rooms/{room}", only(*RUN_ROOM), {"slow_seconds": 30}, "room.slow_mode"),
    Row(
        "ban from the program",
        "POST",
        "/api/programs/{program}/bans",
        only(*MODERATE_PROGRAM),
        {"user": "{user}", "reason": "x"},
        "person.ban",
    ),
    Row("lift a ban", "DELETE", "/api/programs/{program}/bans/{banned}", only(*MODERATE_PROGRAM), None, "person.unban"),
    # helper B: reports, concerns, the queue, held messages, first-post holds
    Row(
        "report a message",
        "POST",
        "/api/rooms/{room}/messages/{seq}/report",
        only(*IN_ROOM, ok=201, refused=403),
        {"reason": "x"},
    ),
    Row("raise a concern", "POST", "/api/rooms/{room}/messages/{seq}/concern", only(*IN_ROOM, ok=201, refused=403), {}),
    Row("read the queue", "GET", "/api/queue", only(*MODERATE_PROGRAM, "mod_elsewhere", "staff_elsewhere")),
    Row("acknowledge an item", "POST", "/api/queue/{item}/ack", only(*RUN_ROOM), None, "queue.ack"),
    Row(
        "dismiss an item",
        "POST",
        "/api/queue/{item}/resolve",
        only(*RUN_ROOM),
        {"outcome": "dismissed"},
        "queue.dismiss",
    ),
    Row("list held messages", "GET", "/api/rooms/{room}/held", only(*RUN_ROOM)),
    Row(
        "approve a held message", "POST", "/api/rooms/{room}/held/{held}/approve", only(*RUN_ROOM), None, "held.approve"
    ),
    Row("reject a held message", "POST", "/api/rooms/{room}/held/{held}/reject", only(*RUN_ROOM), {}, "held.reject"),
    Row(
        "hold first posts",
        "PATCH",
        "/api/programs/{program}",
        only(*MANAGE_PROGRAM),
        {"hold_first_posts": 2},
        "program.options",
    ),
    # helper C: warnings, notes, history, the back-channel, personal mutes, the trail
    Row(
        "warn",
        "POST",
        "/api/programs/{program}/warnings",
        only(*MODERATE_PROGRAM, ok=201),
        {"user": "{user}", "reason": "x"},
        "person.warn",
    ),
    Row(
        "write a note",
        "POST",
        "/api/programs/{program}/people/{user}/notes",
        only(*MODERATE_PROGRAM, ok=201),
        {"body": "x"},
        "person.note",
    ),
    Row("read notes", "GET", "/api/programs/{program}/people/{user}/notes", only(*MODERATE_PROGRAM)),
    Row("read a person's history", "GET", "/api/programs/{program}/people/{user}/moderation", only(*MODERATE_PROGRAM)),
    Row("open the back-channel", "POST", "/api/rooms/{room}/backchannel", only(*RUN_ROOM) | {"mod_here": 201}),
    Row("mute someone for me", "POST", "/api/me/mutes", only(*ACTORS, ok=201), {"user": "{user}"}),
    Row("read the audit trail", "GET", "/api/audit", only("admin")),
]


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _entries(world: World, action: str, actor: Account) -> int:
    answer = await world.call(world.cast.admin, "GET", f"/api/audit?action={action}&actor={actor.person.id}")
    return len(answer.json()["entries"])


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
async def test_who_may_moderate_what(world: World, row: Row) -> None:
    cast = world.cast
    async with world.db.write() as conn:
        elsewhere, _ = await programs.create_program_room(
            conn, program_id=cast.other_program, name="Elsewhere", kind="topic"
        )
    people: dict[str, Account | None] = {
        "member": cast.participant,
        "mod_here": await staff_moderator(world, "mona", cast.cohort_room),
        "mod_sibling": await staff_moderator(world, "sam", world.topic_room),
        "mod_elsewhere": await staff_moderator(world, "eli", elsewhere),
        "staff_elsewhere": cast.staff_elsewhere,
        "staff_here": cast.staff_here,
        "admin": cast.admin,
        "signed_out": None,
    }
    fresh = Fresh(world)
    got: dict[str, int] = {}
    for name, who in people.items():
        path, body = await fresh.fill(row.path), await fresh.fill(row.body)
        before = 0 if row.audited is None or who is None else await _entries(world, row.audited, who)
        answer = await world.call(who, row.method, path, body)
        got[name] = answer.status_code
        if row.audited is not None and who is not None:
            wrote = await _entries(world, row.audited, who) - before
            assert wrote == (1 if answer.status_code < 300 else 0), (name, answer.text)
    assert got == row.expect
