"""SQLite's writer (server.store.sqlite.Writer): statements on the event loop's thread, the commit
on a thread of its own, and the loop never waiting for SQLite's lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from functools import partial

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from server.store.database import Database, StoreUnavailable, is_unavailable
from server.store.sqlite import Writer


def insert(conn: Connection, marker: str) -> int:
    """Write a row; say which thread ran the statements."""
    conn.execute(text("CREATE TABLE IF NOT EXISTS probe (marker TEXT)"))
    conn.execute(text("INSERT INTO probe (marker) VALUES (:m)"), {"m": marker})
    return threading.get_ident()


def count(conn: Connection, marker: str) -> int:
    conn.execute(text("CREATE TABLE IF NOT EXISTS probe (marker TEXT)"))
    return int(conn.execute(text("SELECT count(*) FROM probe WHERE marker = :m"), {"m": marker}).scalar_one())


def fail_after_insert(conn: Connection) -> None:
    insert(conn, "failed")
    raise ValueError("no")


@pytest.fixture
async def db(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database(sqlite_url)
    yield database
    await database.dispose()


def lock_holder(sqlite_url: str) -> sqlite3.Connection:
    """Another connection (as another process would be) holding SQLite's write lock."""
    other = sqlite3.connect(make_url(sqlite_url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def ticks_during(seconds: float) -> int:
    """How many 10 ms sleeps the event loop completes in ``seconds`` (about 100 a second if free)."""
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.sleep(0.01)
        n += 1
    return n


async def test_statements_run_on_the_loops_thread_and_the_commit_on_another(db: Database) -> None:
    committed_on: list[int] = []

    def work(conn: Connection) -> int:
        event.listen(conn, "commit", lambda _: committed_on.append(threading.get_ident()))
        return insert(conn, "where")

    assert await db.run_write(work) == threading.get_ident()
    assert len(committed_on) == 1 and committed_on[0] != threading.get_ident()
    assert await db.run_write(partial(count, marker="where")) == 1


async def test_the_loop_goes_on_while_another_connection_holds_the_lock(db: Database, sqlite_url: str) -> None:
    await db.run_write(partial(count, marker="waited"))  # the table exists before the lock is taken
    other = lock_holder(sqlite_url)
    try:
        write = asyncio.create_task(db.run_write(partial(insert, marker="waited")))
        assert await ticks_during(0.5) > 25, "the event loop was blocked waiting for the lock"
        assert not write.done()
    finally:
        other.rollback()
    await asyncio.wait_for(write, 5)
    assert await db.run_write(partial(count, marker="waited")) == 1
    other.close()


async def test_a_lock_held_past_the_busy_timeout_is_an_outage(sqlite_url: str) -> None:
    writer = Writer(sqlite_url, busy_timeout=0.3)
    other = lock_holder(sqlite_url)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError) as raised:
            await writer.run(partial(insert, marker="never"))
        assert 0.2 <= time.monotonic() - started < 2
        assert is_unavailable(raised.value)  # Database.run_write answers StoreUnavailable for it
    finally:
        other.rollback()
        other.close()
    assert await writer.run(partial(count, marker="never")) == 0
    await writer.dispose()


async def test_a_failing_transaction_stores_nothing_and_the_next_one_runs(db: Database) -> None:
    with pytest.raises(ValueError):
        await db.run_write(fail_after_insert)
    assert await db.run_write(partial(count, marker="failed")) == 0
    await db.run_write(partial(insert, marker="after"))
    assert await db.run_write(partial(count, marker="after")) == 1


async def test_a_write_cancelled_while_committing_still_commits_and_frees_the_writer(db: Database) -> None:
    """Shutdown may cancel a batch mid-commit: the thread finishes with the connection first."""
    committing = threading.Event()

    def slow_commit(conn: Connection) -> int:
        def hold(_: Connection) -> None:
            committing.set()
            time.sleep(0.3)

        event.listen(conn, "commit", hold)
        return insert(conn, "cancelled")

    write = asyncio.create_task(db.run_write(slow_commit))
    assert await asyncio.to_thread(committing.wait, 5)
    write.cancel()
    with pytest.raises(asyncio.CancelledError):
        await write
    # the next write waits for the commit it shares the connection with, then runs
    await asyncio.wait_for(db.run_write(partial(insert, marker="next")), 5)
    assert await db.run_write(partial(count, marker="cancelled")) == 1
    assert await db.run_write(partial(count, marker="next")) == 1


async def test_an_unreachable_database_file_is_unavailable() -> None:
    db = Database("sqlite+aiosqlite:////nonexistent-directory/alongside.db")
    try:
        with pytest.raises(StoreUnavailable):
            await db.run_write(partial(count, marker="none"))
        assert db.unavailable == 1
    finally:
        await db.dispose()
