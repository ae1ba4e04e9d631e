"""The async engine and the two ways to use it: a read, or a write transaction.

SQLite allows one writer at a time; a write transaction that starts as a read and later
writes can fail outright under WAL. So on SQLite every write transaction begins with
``BEGIN IMMEDIATE`` (it waits for the lock instead), and reads begin deferred.
Database errors that mean "the database is not reachable" become ``StoreUnavailable`` so
callers can answer ``unavailable`` and the client can retry safely.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


class StoreUnavailable(Exception):
    """The database could not be reached or failed; nothing was stored."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("alongside_write") else "BEGIN"
    conn.exec_driver_sql(mode)


def is_unavailable(exc: BaseException) -> bool:
    """Whether an exception means the database is unreachable rather than a bug of ours."""
    if isinstance(exc, StoreUnavailable):
        return True
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (ConnectionError, OSError, TimeoutError))


class Database:
    """Owns the engine; hands out read connections and write transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True, pool_timeout=5)
        else:
            kwargs.update(connect_args={"timeout": 10})
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; any error that means 'down' becomes StoreUnavailable."""
        try:
            async with self.engine.connect() as conn:
                yield conn
        except Exception as exc:
            if is_unavailable(exc):
                raise StoreUnavailable(type(exc).__name__) from exc
            raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends without an exception."""
        try:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(alongside_write=True)
                async with conn.begin():
                    yield conn
        except Exception as exc:
            if is_unavailable(exc):
                raise StoreUnavailable(type(exc).__name__) from exc
            raise

    async def ping(self) -> bool:
        """Readiness: does the database answer a trivial query?"""
        try:
            async with self.read() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
