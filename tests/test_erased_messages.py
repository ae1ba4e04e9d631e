"""What happens around a message erased by an account deletion or by retention, through HTTP and
sockets, on SQLite and PostgreSQL (``db_url``): removing it is a documented ``409 conflict`` with
no audit entry (removing a moderator's removal again keeps answering the first one), the room
list's ``latest`` says why it was erased, and retention's tombstones reach open sockets live
(stored ``redacted`` events the server's periodic catch-up delivers) and a later catch-up by seq.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from server.store import audit, programs
from server.store.database import utcnow
from server.store.events import events
from server.store.retention import run_once
from tests.support.client import WsClient
from tests.support.lifecycle_cast import enroll
from tests.support.live import ROOT
from tests.support.seed import Account
from tests.support.world import World, program_world

SECRET = "what I told the group in March"


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with program_world(db_url) as world:
        yield world


async def _said(world: World, who: Account, room: int, body: str) -> int:
    client = await world.socket(who)
    answer = await client.say(room, body)
    await client.close()
    assert answer["type"] == "ack", answer
    seq: int = answer["seq"]
    return seq


async def _age(world: World, room: int, seq: int, days: int) -> None:
    """Retention reads the real clock in the command: make the message that old instead."""
    async with world.db.write() as conn:
        await conn.execute(
            update(events)
            .where(events.c.room_id == room, events.c.seq == seq)
            .values(created_at=utcnow() - timedelta(days=days))
        )


async def _delete_account(world: World, who: Account) -> None:
    token = await world.token(who)
    async with world.http() as http:
        answer = await http.post(
            "/api/me/delete", json={"password": who.password}, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 204, answer.text


async def _removals(world: World) -> list[dict[str, Any]]:
    async with world.db.read() as conn:
        return await audit.entries(conn, audit.Filter(action="message.remove"))


async def _latest(world: World, who: Account, name: str) -> dict[str, Any]:
    latest: dict[str, Any] = (await world.rooms(who))[name]["latest"]
    return latest


async def test_removing_a_message_erased_otherwise_is_a_conflict_that_names_why_and_audits_nothing(
    world: World,
) -> None:
    cast, room = world.cast, world.cast.cohort_room
    kim = cast.staff_here
    ria = await enroll(world.db, "ria", cast.program, cast.cohort)
    by_ria = await _said(world, ria, room, SECRET)
    aged = await _said(world, cast.participant, room, "an old confidence")
    removed = await _said(world, cast.participant, room, "something hurtful")
    await _age(world, room, aged, 40)
    async with world.db.write() as conn:
        await programs.set_program_options(conn, cast.program, retention_days=30)

    first = await world.call(kim, "DELETE", f"/api/rooms/{room}/messages/{removed}", {"reason": "hurtful"})
    assert first.status_code == 200, first.text
    again = await world.call(kim, "DELETE", f"/api/rooms/{room}/messages/{removed}")
    assert again.json() == first.json()  # the first removal, named again
    await _delete_account(world, ria)
    assert (await run_once(world.db, utcnow())).total == 1  # the aged message
    trail = await _removals(world)

    for target, reason in ((by_ria, "deleted"), (aged, "expired")):
        answer = await world.call(kim, "DELETE", f"/api/rooms/{room}/messages/{target}", {"reason": "too late"})
        assert answer.status_code == 409, answer.text
        body = answer.json()
        assert (body["code"], body["removed"]) == ("conflict", reason)
        assert "erased already" in body["message"]
    assert await _removals(world) == trail  # a no-op leaves no entry
    assert len(trail) == 1
    shown = (await world.call(kim, "GET", f"/api/rooms/{room}/messages?after=0&limit=100")).json()["messages"]
    assert {m["seq"]: m.get("removed") for m in shown if m["type"] == "message"} == {
        by_ria: "deleted",
        aged: "expired",
        removed: "moderator",
    }  # each tombstone kept its own reason
    assert (await world.call(kim, "DELETE", f"/api/rooms/{room}/messages/9999")).status_code == 404


async def test_the_room_lists_latest_line_says_why_its_message_was_erased(world: World) -> None:
    cast = world.cast
    ria = await enroll(world.db, "ria", cast.program, cast.cohort)
    kim = cast.staff_here
    spring = cast.cohort_room
    await _said(world, kim, world.topic_room, "welcome")  # Mindfulness: kim and pat are members
    said = await _said(world, cast.participant, world.topic_room, "from long ago")
    assert (await _latest(world, kim, "Mindfulness"))["excerpt"] == "from long ago"
    assert "removed" not in await _latest(world, kim, "Mindfulness")  # not erased: no reason

    await _age(world, world.topic_room, said, 10)
    async with world.db.write() as conn:
        await programs.set_program_options(conn, cast.program, retention_days=7)
    await run_once(world.db, utcnow())
    latest = await _latest(world, kim, "Mindfulness")
    assert {key: value for key, value in latest.items() if key != "ts"} == {
        "seq": said,
        "author": {"id": cast.participant.person.id, "display_name": "Pat"},  # still who they were
        "excerpt": None,
        "removed": "expired",
    }

    await _said(world, ria, spring, SECRET)
    await _delete_account(world, ria)
    latest = await _latest(world, kim, "Spring")
    assert (latest["excerpt"], latest["removed"], latest["author"]["display_name"]) == (None, "deleted", "deleted user")

    mine = await _said(world, cast.participant, spring, "something hurtful")
    assert (await world.call(kim, "DELETE", f"/api/rooms/{spring}/messages/{mine}")).status_code == 200
    assert (await _latest(world, kim, "Spring"))["removed"] == "moderator"


async def _expired_frames(client: WsClient, room: int, targets: set[int]) -> list[dict[str, Any]]:
    frames = await client.until(
        lambda f: f.get("type") == "redacted" and f.get("room") == room and f.get("target") == max(targets)
    )
    return [f for f in frames if f.get("type") == "redacted"]


async def test_retention_tombstones_reach_open_sockets_live_and_a_later_catch_up(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    old = [await _said(world, cast.participant, room, f"old words {i}") for i in range(3)]
    kept = await _said(world, cast.participant, room, "recent words")
    for seq in old:
        await _age(world, room, seq, 40)
    async with world.db.write() as conn:
        await programs.set_program_options(conn, cast.program, retention_days=30)
    watching = await world.socket(cast.staff_here)
    await watching.join(room, since=kept)

    report = await run_once(world.db, utcnow(), batch=2)  # as the command does: no hub, nothing published
    assert report.total == 3
    live = await _expired_frames(watching, room, set(old))
    assert [(f["target"], f["reason"]) for f in live] == [(seq, "expired") for seq in old]
    assert [f["seq"] for f in live] == [kept + 1, kept + 2, kept + 3]  # stored events, in the room's order
    await watching.close()

    later = await world.socket(cast.participant)  # a page that was away: its catch-up by seq has them too
    await later.join(room, since=kept)
    assert [f["target"] for f in await _expired_frames(later, room, set(old))] == old
    await later.close()
    again = await run_once(world.db, utcnow())
    assert again.total == 0
    async with world.db.read() as conn:
        last = (await conn.execute(events.select().where(events.c.room_id == room))).all()
    assert max(row.seq for row in last) == kept + 3  # a run that erases nothing stores nothing


async def test_the_retention_command_in_its_own_process_reaches_an_open_socket(sqlite_url: str) -> None:
    """The embedded configuration: the command and the web process share only the database."""
    async with program_world(sqlite_url) as world:
        cast, room = world.cast, world.cast.cohort_room
        aged = await _said(world, cast.participant, room, SECRET)
        async with world.db.write() as conn:
            await programs.set_program_options(conn, cast.program, retention_days=30)
        await _age(world, room, aged, 31)
        watching = await world.socket(cast.participant)
        await watching.join(room, since=aged)
        env = {**os.environ, "DATABASE_URL": sqlite_url, "ALONGSIDE_ENV": "test", "SECRET_KEYS": "k" * 40}
        env.pop("REDIS_URL", None)
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "server", "retention"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        frames = await _expired_frames(watching, room, {aged})
        assert [(f["target"], f["reason"]) for f in frames] == [(aged, "expired")]
        await watching.close()
