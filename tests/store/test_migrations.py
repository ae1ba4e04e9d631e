"""The migrations build exactly the tables the models describe, and step down and up again."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import server.store.models  # noqa: F401  (registers the tables)
from server.migrate import alembic_config, upgrade
from server.store import audit
from server.store import rooms as room_store
from server.store.database import Database, utcnow
from server.store.users import users
from tests.support.seed import create_cast, create_user


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    async with db.read() as conn:
        differences = await conn.run_sync(_differences)
    assert differences == []


async def test_downgrade_to_the_first_revision_and_back(db_url: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0001")
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url)
    try:
        async with db.read() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await db.dispose()


async def test_removals_made_before_they_were_recorded_are_taken_from_the_audit_trail(db_url: str) -> None:
    """Migration 0009: a person's latest removal from a room that no moderator undid, while they
    are still out of it and their account exists, becomes a recorded removal."""
    db = Database(db_url)
    try:
        cast = await create_cast(db)
        cal, dee = await create_user(db, "cal"), await create_user(db, "dee")
        people = {a.username: a.person for a in (cast.ann, cast.ben, cast.outsider, cal, dee)}
        room, staff = cast.room, cast.staff.person

        async def move(conn: AsyncConnection, who: str, action: str, audited: bool = True) -> None:
            person = people[who]
            if action == "member.remove":
                await room_store.remove_member(conn, room_id=room, person=person, reason="removed")
            else:
                await room_store.set_member(conn, room_id=room, person=person, role="member")
            if audited:
                await audit.record(conn, audit.Entry(staff.id, action, room_id=room, target_user_id=person.id))

        async with db.write() as conn:
            for who in ("otto", "cal", "dee"):
                await move(conn, who, "room.member_add")
            await move(conn, "ann", "member.remove")  # still out: recorded
            await move(conn, "ben", "member.remove")
            await move(conn, "ben", "room.member_add")  # a moderator let them back
            await move(conn, "cal", "member.remove")
            await move(conn, "cal", "room.member_add", audited=False)  # the roster put them back: in the room now
            await move(conn, "dee", "member.remove")
            await conn.execute(update(users).where(users.c.id == dee.person.id).values(deleted_at=utcnow()))
            await move(conn, "otto", "member.remove")
            await move(conn, "otto", "room.member_add")
            await move(conn, "otto", "member.remove")  # out again: one removal, the latest
    finally:
        await db.dispose()
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0008_enrollment_invite")
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url)
    try:
        async with db.read() as conn:
            rows = (await conn.execute(select(room_store.removals))).all()
    finally:
        await db.dispose()
    assert sorted((row.room_id, row.user_id, row.by_user_id) for row in rows) == sorted(
        (room, people[who].id, staff.id) for who in ("ann", "otto")
    )
