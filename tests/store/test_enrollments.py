"""Enrollment moves on SQLite and PostgreSQL: one move wins when two staff act at once."""

from __future__ import annotations

import asyncio

from server.store import enrollments
from server.store.database import Database
from server.store.enrollments import TransitionRefused
from tests.support.lifecycle_cast import create_program_cast


async def test_two_graduations_of_one_person_at_once_record_one_move(db: Database, db_url: str) -> None:
    cast = await create_program_cast(db)
    engines = [Database(db_url) for _ in range(2)]
    person = cast.participant.person

    async def graduate(engine: Database) -> str:
        try:
            async with engine.write() as conn:
                await enrollments.set_status(
                    conn, person=person, program_id=cast.program, to_status="alumni", by=None, reason=None
                )
        except TransitionRefused:
            return "refused"
        return "moved"

    try:
        results = await asyncio.gather(*(graduate(engine) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(results) == ["moved", "refused"]
    async with db.read() as conn:
        standing = await enrollments.standing(conn, person.id, cast.program)
        assert standing is not None and standing.status == "alumni"
        moves = await enrollments.history_of(conn, standing.enrollment_id)
    assert [(m["from"], m["to"]) for m in moves] == [(None, "active"), ("active", "alumni")]
