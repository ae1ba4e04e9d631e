"""The audit trail: every admin and staff action lands on it (from HTTP and from the command
line), staff reads of a direct room are recorded without flooding, admins read and filter
it over HTTP, and nothing can change it (on PostgreSQL a trigger refuses UPDATE and DELETE).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from server import commands
from server.store import audit, direct_reads, enrollments
from server.store.database import Database, utcnow
from tests.support.live import settings_for
from tests.support.seed import create_user
from tests.support.world import World, program_world


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _trail(world: World, query: str = "") -> list[dict[str, Any]]:
    answer = await world.call(world.cast.admin, "GET", f"/api/audit?{query}")
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def _name(person: dict[str, Any] | None) -> str | None:
    return None if person is None else str(person["username"])


async def _ok(world: World, who: Any, method: str, path: str, body: Any = None) -> dict[str, Any]:
    answer = await world.call(who, method, path, body)
    assert answer.status_code < 300, (path, answer.text)
    return {} if answer.status_code == 204 else dict(answer.json())


async def test_admin_and_staff_actions_are_on_the_trail(world: World) -> None:
    cast = world.cast
    kim, admin = cast.staff_here, cast.admin
    program = f"/api/programs/{cast.program}"
    people = f"{program}/people"
    fay = await create_user(world.db, "fay", "staff", display_name="Fay")  # program rooms take staff or its people

    made = await _ok(world, admin, "POST", "/api/programs", {"name": "Day IOP"})
    await _ok(world, kim, "PATCH", program, {"alumni_post_in_cohort": True})
    cohort = await _ok(world, kim, "POST", f"{program}/cohorts", {"name": "Autumn", "starts_on": "2026-09-07"})
    await _ok(world, kim, "DELETE", f"/api/cohorts/{cohort['id']}")
    topic = await _ok(world, kim, "POST", f"{program}/rooms", {"name": "Sleep", "kind": "topic"})
    group = await _ok(world, kim, "POST", "/api/rooms", {"name": "Kim's group"})
    await _ok(world, kim, "POST", f"/api/rooms/{cast.cohort_room}/members", {"username": "fay"})
    await _ok(world, kim, "POST", f"/api/rooms/{cast.cohort_room}/members", {"username": "fay", "role": "moderator"})
    invite = await _ok(world, kim, "POST", f"{program}/invites", {"role": "staff"})
    await _ok(world, kim, "DELETE", f"/api/invites/{invite['id']}")
    direct = await _ok(world, kim, "POST", f"{people}/{cast.participant.person.id}/counsellor", {"username": "kim"})
    await _ok(world, kim, "POST", f"{people}/{cast.participant.person.id}/graduate", {"reason": "completed"})
    await _ok(world, kim, "POST", f"{people}/{cast.alumnus.person.id}/withdraw", {"reason": "moved away"})
    await _ok(world, admin, "POST", f"{people}/{cast.withdrawn.person.id}/readmit", {})
    await _ok(world, kim, "POST", f"/api/rooms/{cast.cohort_room}/duty")
    await _ok(world, kim, "DELETE", f"/api/rooms/{cast.cohort_room}/duty")

    got = [
        (e["action"], _name(e["actor"]), e["program"], e["room"], _name(e["target_user"]), e["target"], e["reason"])
        for e in reversed(await _trail(world))
    ]
    p, room = cast.program, cast.cohort_room
    assert got == [
        ("program.create", "admin", made["id"], None, None, None, None),
        ("program.options", "kim", p, None, None, None, None),
        ("cohort.create", "kim", p, cohort["room"], None, f"cohort {cohort['id']}", None),
        ("cohort.delete", "kim", p, None, None, f"cohort {cohort['id']}", None),
        ("room.create", "kim", p, topic["id"], None, None, None),
        ("room.create", "kim", None, group["id"], None, None, None),
        ("room.member_add", "kim", p, room, "fay", None, None),
        ("room.member_role", "kim", p, room, "fay", None, None),
        ("invite.create", "kim", p, None, None, f"invite {invite['id']}", None),
        ("invite.revoke", "kim", p, None, None, f"invite {invite['id']}", None),
        ("person.counsellor", "kim", p, direct["room"], "pat", None, None),
        ("person.graduate", "kim", p, None, "pat", None, "completed"),
        ("person.withdraw", "kim", p, None, "alum", None, "moved away"),
        ("person.readmit", "admin", p, None, "wes", None, None),
        ("duty.check_in", "kim", p, room, None, None, None),
        ("duty.check_out", "kim", p, room, None, None, None),
    ]
    entries = await _trail(world, "action=person.withdraw")
    assert entries[0]["detail"] == {"from": "alumni", "to": "withdrawn"}
    assert entries[0]["actor"]["real_name"] is None and set(entries[0]["actor"]) >= {"username", "display_name"}
    assert (await _trail(world, "action=invite.create"))[0]["detail"] == {
        "role": "staff",
        "cohort": None,
        "max_uses": 1,
    }
    assert invite["token"] not in str(await _trail(world))  # a trail reader cannot use an invite
    assert fay.person.id in {e["target_user"]["id"] for e in await _trail(world, f"target_user={fay.person.id}")}


async def test_only_admins_read_the_trail_and_its_filters_and_pages(world: World) -> None:
    cast = world.cast
    for n in range(5):
        await _ok(
            world, cast.staff_here, "POST", f"/api/programs/{cast.program}/rooms", {"name": f"R{n}", "kind": "topic"}
        )
    await _ok(world, cast.admin, "POST", "/api/programs", {"name": "Day IOP"})

    for who, status in ((cast.staff_here, 403), (cast.participant, 403), (None, 401)):
        assert (await world.call(who, "GET", "/api/audit")).status_code == status

    first = (await world.call(cast.admin, "GET", "/api/audit?action=room.create&limit=2")).json()
    assert [e["detail"]["kind"] for e in first["entries"]] == ["topic", "topic"]
    assert first["next_before"] == first["entries"][-1]["id"]
    ids = [e["id"] for e in first["entries"]]
    while True:
        page = (await world.call(cast.admin, "GET", f"/api/audit?action=room.create&limit=2&before={ids[-1]}")).json()
        ids += [e["id"] for e in page["entries"]]
        if page["next_before"] is None:
            break
    assert len(ids) == len(set(ids)) == 5 and ids == sorted(ids, reverse=True)

    assert {e["action"] for e in await _trail(world, f"actor={cast.admin.person.id}")} == {"program.create"}
    assert {e["action"] for e in await _trail(world, f"program={cast.other_program}")} == set()
    assert len(await _trail(world, f"program={cast.program}&action=room.create")) == 5
    now = utcnow()
    since = (now - timedelta(minutes=5)).isoformat()
    assert len(await _trail(world, f"since={since.replace('+', '%2B')}")) == 6
    assert await _trail(world, f"until={(now - timedelta(minutes=5)).isoformat().replace('+', '%2B')}") == []
    for bad in ("limit=0", "limit=501", "program=abc", "since=2026-11-28T10:00:00", "since=yesterday", "before=-1"):
        answer = await world.call(cast.admin, "GET", f"/api/audit?{bad}")
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid"), bad
    for method in ("POST", "PATCH", "PUT", "DELETE"):  # the product has no way to change it
        answer = await world.call(cast.admin, method, "/api/audit")
        assert (answer.status_code, answer.json()["code"]) == (405, "method_not_allowed"), method


async def test_staff_reads_of_a_direct_room_are_recorded_once_per_ten_minutes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cast = world.cast
    pat = cast.participant.person
    path = f"/api/programs/{cast.program}/people/{pat.id}/counsellor"
    room = (await _ok(world, cast.staff_here, "POST", path, {"username": "kim"}))["room"]
    subject = await world.socket(cast.participant)
    await subject.join(room, since=0)
    await _ok(world, cast.participant, "GET", f"/api/rooms/{room}/messages")
    await subject.close()
    assert await _trail(world, "action=direct.read") == []  # the subject reading their own room

    kim = await world.socket(cast.staff_here)
    await kim.join(room, since=0, ref="a")
    await kim.join(cast.cohort_room, since=0, ref="b")  # not a direct room
    await kim.join(room, since=0, ref="c")
    await _ok(world, cast.staff_here, "GET", f"/api/rooms/{room}/messages")
    await kim.close()
    entries = await _trail(world, "action=direct.read")
    assert [(_name(e["actor"]), e["room"], _name(e["target_user"]), e["detail"]) for e in entries] == [
        ("kim", room, "pat", {"via": "join"})
    ]

    later = utcnow() + direct_reads.READ_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(direct_reads, "utcnow", lambda: later)
    assert await direct_reads.note_read(world.db, room_id=room, reader_id=cast.staff_here.person.id, via="history")
    assert not await direct_reads.note_read(world.db, room_id=room, reader_id=cast.staff_here.person.id, via="join")
    assert not await direct_reads.note_read(world.db, room_id=room, reader_id=pat.id, via="join")
    assert len(await _trail(world, "action=direct.read")) == 2


async def test_operator_commands_are_recorded_with_no_actor(sqlite_url: str) -> None:
    settings = settings_for(sqlite_url)
    ann = None
    async with commands.operator(settings) as ops:
        await commands.program_create(ops, argparse.Namespace(name="Day IOP", alumni_post_in_cohort=False))
        await commands.cohort_create(
            ops, argparse.Namespace(program=1, name="Spring", starts=date(2026, 3, 2), ends=None)
        )
        await commands.invite_create(
            ops, argparse.Namespace(program=1, cohort=1, role="participant", real_name=None, uses=1, days=2)
        )
        ann = await create_user(ops.db, "ann")
        async with ops.db.write() as conn:
            await enrollments.enroll(conn, person=ann.person, program_id=1, cohort_id=1, role="participant", by=None)
        await commands.withdraw(ops, argparse.Namespace(username="ann", program=1, reason="moved away"))
        async with ops.db.read() as conn:
            found = await audit.entries(conn, audit.Filter())
    assert [(e["action"], e["actor"], e["program"]) for e in reversed(found)] == [
        ("program.create", None, 1),
        ("cohort.create", None, 1),
        ("invite.create", None, 1),
        ("person.withdraw", None, 1),
    ]
    assert found[0]["target_user"] == ann.person.id and found[0]["reason"] == "moved away"


async def test_postgres_refuses_to_change_the_trail(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        async with db.write() as conn:
            await audit.record(conn, audit.Entry(None, "program.create", reason="first"))
        for change in (update(audit.audit_log).values(reason="rewritten"), delete(audit.audit_log)):
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.write() as conn:
                    await conn.execute(change)
        async with db.read() as conn:
            assert [e["reason"] for e in await audit.entries(conn, audit.Filter())] == ["first"]
    finally:
        await db.dispose()
