"""Fresh, migrated databases for tests: a SQLite file, or a new PostgreSQL database."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import asyncpg

from server.migrate import upgrade_async

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
