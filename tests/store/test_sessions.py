"""Sessions on SQLite and PostgreSQL: revoking everything a person holds (withdrawal)."""

from __future__ import annotations

from server.store import sessions
from server.store.database import Database
from tests.support.seed import create_user


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
