"""Sessions on SQLite and PostgreSQL: the live session a handshake or request reads
(``Database.run_read``), and revoking everything a person holds (withdrawal)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from server.auth.current import active_session
from server.store import sessions
from server.store.database import Database, utcnow
from tests.support.seed import create_user


async def test_a_session_is_read_live_until_it_is_revoked_or_expires(db: Database) -> None:
    ann = await create_user(db, "ann")
    async with db.write() as conn:
        live, revoked, expired = [await sessions.create(conn, ann.person.id, 3600) for _ in range(3)]
        await sessions.revoke(conn, revoked)
        await conn.execute(
            update(sessions.sessions)
            .where(sessions.sessions.c.id == expired)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    found = await active_session(db, live)
    assert found is not None and found.id == live and found.person.username == "ann"
    assert found.expires_at > utcnow()
    assert await active_session(db, revoked) is None
    assert await active_session(db, expired) is None
    assert await active_session(db, "no such session") is None
    # reads side by side (a burst of handshakes), each seeing what was committed before it
    assert [s and s.id for s in await asyncio.gather(*(active_session(db, live) for _ in range(8)))] == [live] * 8
    async with db.write() as conn:
        await sessions.revoke(conn, live)
    assert await active_session(db, live) is None  # a revocation is seen by the very next read


async def test_revoke_all_ends_only_that_persons_live_sessions(db: Database) -> None:
    ann = await create_user(db, "ann")
    ben = await create_user(db, "ben")
    async with db.write() as conn:
        mine = sorted([await sessions.create(conn, ann.person.id, 3600) for _ in range(2)])
        gone = await sessions.create(conn, ann.person.id, 3600)
        await sessions.revoke(conn, gone)
        theirs = await sessions.create(conn, ben.person.id, 3600)
    async with db.write() as conn:
        assert await sessions.revoke_all(conn, ann.person.id) == mine  # the one revoked before is not counted
    async with db.write() as conn:
        assert await sessions.revoke_all(conn, ann.person.id) == []
    async with db.read() as conn:
        assert await sessions.still_active(conn, [*mine, gone, theirs]) == {theirs}
