"""The migrations build exactly the tables the models describe, and step down and up again."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlmodel import SQLModel

import server.store.models  # noqa: F401  (registers the tables)
from server.migrate import alembic_config, upgrade
from server.store.database import Database


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
