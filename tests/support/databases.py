"""Fresh, migrated databases for tests: a SQLite file, or a new PostgreSQL database."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from server.migrate import upgrade_async
from tests.support.requirements import missing

POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def new_sqlite(directory: Path | None = None) -> str:
    folder = directory or Path(tempfile.mkdtemp(prefix="alongside-db-"))
    url = f"sqlite+aiosqlite:///{folder / 'test.db'}"
    await upgrade_async(url)
    return url


async def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=3)
    except Exception as exc:  # any failure means "not available here"
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def new_postgres() -> tuple[str, str]:
    """Create an empty database, migrate it; returns (async url, name) for dropping later."""
    name = "alongside_t_" + secrets.token_hex(6)
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    await upgrade_async(url)
    return url, name


async def drop_postgres(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A new, migrated PostgreSQL database for one test, dropped afterwards; where there is no
    PostgreSQL the test is skipped (fails under REQUIRE_POSTGRES=1)."""
    why = await postgres_available()
    if why is not None:
        missing("PostgreSQL", why, "REQUIRE_POSTGRES")
    url, name = await new_postgres()
    try:
        yield url
    finally:
        await drop_postgres(name)


@asynccontextmanager
async def fresh_database(kind: str, directory: Path) -> AsyncIterator[str]:
    """A new, migrated database of either backend: ``"sqlite"`` (a file in ``directory``) or ``"postgres"``."""
    if kind == "sqlite":
        yield await new_sqlite(directory)
        return
    async with fresh_postgres() as url:
        yield url
