"""The async engine and the two ways to use it: a read, or a write transaction.

SQLite allows one writer at a time; a write transaction that starts as a read and later
writes can fail outright under WAL. So on SQLite every write transaction begins with
``BEGIN IMMEDIATE`` (it waits for the lock instead), and reads begin deferred.
Database errors that mean "the database is not reachable" become ``StoreUnavailable`` so
callers can answer ``unavailable`` and the client can retry safely.

The hot write path (``run_write``) takes a synchronous function: on SQLite it runs whole on
one dedicated writer thread with the standard driver, so a transaction of several
statements costs one thread hand-off instead of one per statement; on PostgreSQL it runs
through ``run_sync`` on the async connection. The hottest read (a session, once per handshake
and per request) goes the same way (``run_read``), on two reader threads of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")
CONNECT_TIMEOUT = 5.0  # seconds for PostgreSQL to answer a new connection
READERS = 2  # SQLite: threads (and connections) for Database.run_read


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


# SQLSTATE classes that mean "the server cannot serve us now", whatever the statement:
# connection exception, insufficient resources (too many connections, disk full), operator
# intervention (57P01 shutting down, 57P03 starting up or stopping), system error.
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether an exception means the database is unreachable rather than a bug of ours.

    A PostgreSQL that is stopping or starting answers a new connection with ``57P03``, which
    the driver reports as a plain ``DBAPIError``: its SQLSTATE says it is an outage. A pool
    with no connection free within its timeout (a reconnect storm after a restart) is one too:
    nothing was stored, and a retry a moment later succeeds.
    """
    if isinstance(exc, (StoreUnavailable, PoolTimeout)):
        return True
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if exc.connection_invalidated or str(sqlstate or "")[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
            return True
    return isinstance(exc, (ConnectionError, OSError, TimeoutError))


class Database:
    """Owns the engine; hands out read connections and write transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            # Plan every statement with its real parameters and the table as it is now. asyncpg
            # prepares statements, and PostgreSQL may keep a generic plan made when a table was
            # empty: a sequential scan of `events` that grows with the history (bench/README.md,
            # W5), worse where autovacuum rarely analyzes.
            # A new connection that is not answered within CONNECT_TIMEOUT is an outage (asyncpg
            # would wait 60 s): while the database's host is unreachable, each send is answered
            # `unavailable` in seconds instead of hanging, and its writer lane moves on.
            kwargs.update(
                pool_size=10,
                max_overflow=10,
                pool_pre_ping=True,
                pool_timeout=5,
                connect_args={
                    "server_settings": {"plan_cache_mode": "force_custom_plan"},
                    "timeout": CONNECT_TIMEOUT,
                },
            )
        else:
            # a fixed set of read connections: each aiosqlite connection is a thread of its own, and
            # overflow connections were opened and closed again for every burst of reads (a flood's
            # reconnects: thread start, file open and pragmas each time, beside the rooms' writer)
            kwargs.update(pool_size=10, max_overflow=0, pool_timeout=10, connect_args={"timeout": 10})
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self.unavailable = 0  # operations refused because the database was unreachable (/metrics)
        self._writer: _Lane | None = None
        self._readers: _Lane | None = None
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
            self._writer = _Lane.open(url, 1, "sqlite-writer")
            # the hot reads (a session per handshake and per request): one hand-off to a thread
            # costs 0.5 ms of CPU where aiosqlite's hand-offs per statement cost 1.9 ms
            self._readers = _Lane.open(url, READERS, "sqlite-reader")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; any error that means 'down' becomes StoreUnavailable."""
        try:
            async with self.engine.connect() as conn:
                yield conn
        except Exception as exc:
            if is_unavailable(exc):
                raise self._down(exc) from exc
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
                raise self._down(exc) from exc
            raise

    async def run_write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in one write transaction, committed when it returns."""
        return await self._run_sync(work, self._writer, _transaction, self.write)

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in one read transaction: on SQLite in one go on a reader thread,
        on PostgreSQL through ``run_sync``. For reads made often enough that their cost counts."""
        return await self._run_sync(work, self._readers, _read, self.read)

    async def _run_sync(
        self,
        work: Callable[[Connection], T],
        lane: _Lane | None,
        on_thread: Callable[[Engine, Callable[[Connection], T]], T],
        connection: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
    ) -> T:
        """Synchronous ``work`` in one go: on SQLite in the ``lane`` (``on_thread`` with its
        engine), elsewhere through ``run_sync`` on ``connection()``; an outage becomes StoreUnavailable."""
        try:
            if lane is not None:
                return await asyncio.get_running_loop().run_in_executor(lane.threads, on_thread, lane.engine, work)
            async with connection() as conn:
                return await conn.run_sync(work)
        except Exception as exc:
            if is_unavailable(exc):
                raise self._down(exc) from exc
            raise

    def _down(self, exc: Exception) -> StoreUnavailable:
        """The error callers get when the database is unreachable; counted once, where it first shows."""
        if not isinstance(exc, StoreUnavailable):
            self.unavailable += 1
        return StoreUnavailable(type(exc).__name__)

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
        for lane in (self._writer, self._readers):
            if lane is not None:
                await asyncio.get_running_loop().run_in_executor(lane.threads, lane.engine.dispose)
                lane.threads.shutdown(wait=True)


@dataclass(frozen=True)
class _Lane:
    """SQLite: threads with synchronous connections of their own (as many), for work run whole."""

    threads: ThreadPoolExecutor
    engine: Engine

    @classmethod
    def open(cls, url: str, size: int, name: str) -> _Lane:
        engine = create_engine(
            url.replace("sqlite+aiosqlite:", "sqlite:", 1),
            connect_args={"timeout": 10, "check_same_thread": False},
            pool_size=size,
            max_overflow=0,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return cls(ThreadPoolExecutor(max_workers=size, thread_name_prefix=name), engine)


def _read(engine: Engine, work: Callable[[Connection], T]) -> T:
    """On a reader thread: ``work`` in one read transaction (rolled back: it writes nothing)."""
    with engine.connect() as conn:
        return work(conn)


def _transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """On the writer thread: one BEGIN IMMEDIATE transaction around ``work``."""
    with engine.connect() as conn:
        conn = conn.execution_options(alongside_write=True)
        with conn.begin():
            return work(conn)
