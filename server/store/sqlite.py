"""SQLite: how every connection is set up, and the writer of the rooms' messages.

Every write transaction begins with ``BEGIN IMMEDIATE`` (a transaction that starts as a read
and later writes can fail outright under WAL; this one waits for the lock instead), reads
begin deferred, and a commit waits for the disk (``synchronous=FULL``): a message is
acknowledged only once it would survive a power cut.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

T = TypeVar("T")
BUSY_TIMEOUT = 10.0  # seconds a write waits for another connection's (or process's) lock


def pragmas(dbapi_connection: Any, _record: Any, busy_timeout: float = BUSY_TIMEOUT) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    cursor.close()


def begin(conn: Any) -> None:
    mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("alongside_write") else "BEGIN"
    conn.exec_driver_sql(mode)


def sync_engine(url: str, size: int, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    """The standard driver's engine for ``url`` (given for aiosqlite), ``size`` connections."""
    engine = create_engine(
        url.replace("sqlite+aiosqlite:", "sqlite:", 1),
        connect_args={"timeout": busy_timeout, "check_same_thread": False},
        pool_size=size,
        max_overflow=0,
    )
    event.listen(engine, "connect", partial(pragmas, busy_timeout=busy_timeout))
    event.listen(engine, "begin", begin)
    return engine


def _busy(exc: OperationalError) -> bool:
    """SQLITE_BUSY, or one of its extended codes: another connection holds the lock."""
    return (getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


class Writer:
    """The rooms' write transactions (``Database.run_write``): statements on the event loop's
    thread, the commit on a thread of its own.

    Why not all of it on a thread: a thread needs the GIL back after each SQLite call (a batch
    of messages makes about twenty), and while the event loop is busy (a flood's handshakes and
    frames) each of those waits up to the interpreter's switch interval: commits of 2 ms took
    5-20 ms (bench/README.md, "Flood"). On the loop's thread the statements cost only their
    own time (well under a millisecond for a batch). The commit waits for the disk, so it goes
    to the thread, and the loop serves everyone else meanwhile.

    The loop's thread must never wait for SQLite's lock, so this connection does not
    (``busy_timeout`` 0): while another connection or process holds it, ``BEGIN IMMEDIATE``
    is tried again after an asynchronous pause, for up to ``BUSY_TIMEOUT`` like every other
    connection. After ``BEGIN IMMEDIATE`` nothing waits for a lock in WAL mode.
    """

    def __init__(self, url: str, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.engine = sync_engine(url, 1, busy_timeout=0)
        self.busy_timeout = busy_timeout
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-commit")
        self._turn = asyncio.Lock()  # one transaction at a time, on the one connection

    async def run(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in one write transaction, committed when it returns."""
        await self._turn.acquire()
        conn: Connection | None = None
        committing: asyncio.Future[None] | None = None
        try:
            conn = await self._begin()
            result = work(conn)
            committing = asyncio.get_running_loop().run_in_executor(self._thread, conn.commit)
            await asyncio.shield(committing)
            return result
        finally:
            if committing is not None and not committing.done():  # cancelled: the thread still has it
                committing.add_done_callback(partial(self._release, conn))
            else:
                self._release(conn)

    def _release(self, conn: Connection | None, _: object = None) -> None:
        if conn is not None:
            conn.close()  # a transaction not committed is rolled back (no fsync for that)
        self._turn.release()

    async def _begin(self) -> Connection:
        """A connection in a ``BEGIN IMMEDIATE`` transaction, waiting asynchronously for the lock."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_timeout
        pause = 0.001
        while True:
            conn: Connection | None = None
            try:  # a new connection's pragmas may find the lock taken too
                conn = self.engine.connect().execution_options(alongside_write=True)
                conn.begin()
                return conn
            except OperationalError as exc:
                if conn is not None:
                    conn.close()
                if not _busy(exc) or loop.time() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def dispose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self.engine.dispose)
        self._thread.shutdown(wait=True)
