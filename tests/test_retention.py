"""Retention: a program's ``retention_days`` erases message bodies older than that, with a clock
passed in (``store.retention.run_once``), on SQLite and PostgreSQL; and the command end to end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from server.store import audit, programs
from server.store.database import utcnow
from server.store.events import events
from server.store.retention import run_once
from tests.support.lifecycle_cast import enroll
from tests.support.live import ROOT
from tests.support.seed import Account
from tests.support.world import World, program_world


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with program_world(db_url) as world:
        yield world


async def _say(world: World, who: Account, room: int, body: str, reply_to: int | None = None) -> int:
    client = await world.socket(who)
    await client.join(room)
    await client.send(
        {"type": "send", "room": room, "body": body, "client_id": str(uuid.uuid4()), "reply_to": reply_to, "ref": "s"}
    )
    ack = (await client.until(lambda f: f.get("ref") == "s"))[-1]
    await client.close()
    assert ack["type"] == "ack", ack
    seq: int = ack["seq"]
    return seq


async def _moment() -> datetime:
    """An instant strictly between what was stored before and what is stored after."""
    await asyncio.sleep(0.02)
    now = utcnow()
    await asyncio.sleep(0.02)
    return now


async def _shown(world: World, who: Account, room: int) -> dict[int, dict[str, Any]]:
    answer = await world.call(who, "GET", f"/api/rooms/{room}/messages?after=0&limit=500")
    assert answer.status_code == 200, answer.text
    return {m["seq"]: m for m in answer.json()["messages"]}


async def _set(world: World, days: Any) -> dict[str, Any]:
    answer = await world.call(
        world.cast.staff_here, "PATCH", f"/api/programs/{world.cast.program}", {"retention_days": days}
    )
    assert answer.status_code == 200, answer.text
    program: dict[str, Any] = answer.json()
    return program


async def test_retention_erases_only_what_is_older_in_programs_that_ask(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    ria = await enroll(world.db, "ria", cast.program, cast.cohort)
    async with world.db.write() as conn:
        elsewhere, _ = await programs.create_program_room(
            conn, program_id=cast.other_program, name="Elsewhere", kind="topic"
        )
    old = await _say(world, cast.participant, room, "an old confidence")
    kept_elsewhere = await _say(world, cast.staff_elsewhere, elsewhere, "another program's old words")
    middle = await _moment()
    reply = await _say(world, ria, room, "still here", reply_to=old)
    recent = await _say(world, cast.participant, room, "recent words")

    for refused in (0, -1, 3651, "7", 1.5):
        answer = await world.call(
            cast.staff_here, "PATCH", f"/api/programs/{cast.program}", {"retention_days": refused}
        )
        assert answer.status_code == 400, refused
    outsider = await world.call(ria, "PATCH", f"/api/programs/{cast.program}", {"retention_days": 7})
    assert outsider.status_code == 403
    assert (await _set(world, 7))["retention_days"] == 7

    report = await run_once(world.db, middle + timedelta(days=7))
    assert report.messages == {cast.program: 1}
    shown = await _shown(world, ria, room)
    assert (shown[old]["body"], shown[old]["removed"]) == (None, "expired")
    assert shown[old]["author"]["display_name"] == "Pat"  # the writer is still who they were
    assert shown[reply]["body"] == "still here"
    assert (shown[reply]["reply_to"]["excerpt"], shown[reply]["reply_to"]["removed"]) == (None, "expired")
    assert shown[recent]["body"] == "recent words"
    assert (await _shown(world, cast.staff_elsewhere, elsewhere))[kept_elsewhere][
        "body"
    ] == "another program's old words"
    async with world.db.read() as conn:
        stored = {row.seq: row.body for row in await conn.execute(select(events).where(events.c.room_id == room))}
    assert stored[old] is None and "an old confidence" not in str(stored)

    again = await run_once(world.db, middle + timedelta(days=7))
    assert again.total == 0  # idempotent
    later = await run_once(world.db, utcnow() + timedelta(days=8), batch=1)  # one message per transaction
    assert later.messages == {cast.program: 2}
    async with world.db.read() as conn:
        trail = await audit.entries(conn, audit.Filter(action="retention.erase"))
    assert [entry["detail"]["messages"] for entry in trail] == [1, 1, 1]
    assert {entry["program"] for entry in trail} == {cast.program} and {entry["actor"] for entry in trail} == {None}
    assert not any("words" in str(entry) or "confidence" in str(entry) for entry in trail)

    assert (await _set(world, None))["retention_days"] is None  # keep for ever from now on
    kept = await _say(world, cast.participant, room, "kept for ever")
    assert (await run_once(world.db, utcnow() + timedelta(days=4000))).total == 0
    assert (await _shown(world, ria, room))[kept]["body"] == "kept for ever"


def _command(db_url: str, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "DATABASE_URL": db_url, "ALONGSIDE_ENV": "test", "SECRET_KEYS": "k" * 40}
    env.pop("REDIS_URL", None)
    return [sys.executable, "-m", "server", "retention", *args], env


async def test_the_retention_command_erases_old_bodies_and_runs_again_with_every(sqlite_url: str) -> None:
    async with program_world(sqlite_url) as world:
        cast, room = world.cast, world.cast.cohort_room
        async with world.db.write() as conn:
            await programs.set_program_options(conn, cast.program, retention_days=30)
        aged = await _say(world, cast.participant, room, "from last spring")
        fresh = await _say(world, cast.participant, room, "from today")
        async with world.db.write() as conn:  # the command reads the real clock: age the first message instead
            await conn.execute(
                update(events)
                .where(events.c.room_id == room, events.c.seq == aged)
                .values(created_at=utcnow() - timedelta(days=31))
            )
        argv, env = _command(sqlite_url)
        done = await asyncio.to_thread(
            subprocess.run, argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"retention: erased 1 messages (program {cast.program}: 1)"
        shown = await _shown(world, cast.participant, room)
        assert (shown[aged]["body"], shown[aged]["removed"]) == (None, "expired")
        assert shown[fresh]["body"] == "from today"

        argv, env = _command(sqlite_url, "--every", "0.2")
        process = await asyncio.to_thread(
            subprocess.Popen, argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        try:
            assert process.stdout is not None
            lines = [await asyncio.to_thread(process.stdout.readline) for _ in range(2)]
        finally:
            process.terminate()
            await asyncio.to_thread(process.communicate, None, 30)
        assert lines == ["retention: erased 0 messages\n"] * 2
