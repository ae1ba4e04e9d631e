"""The accounting of disclosures keeps what it was told, newest first, and nothing rewrites it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from server.store import disclosures
from server.store.database import Database, utcnow
from server.store.disclosures import Made
from tests.support.seed import create_user


def _made(subject: int, by: int, recipient: str, kind: str = "staff_export") -> Made:
    return Made(
        subject_id=subject,
        program_id=None,
        kind=kind,
        recipient=recipient,
        purpose="continuity of care",
        scope="all",
        disclosed_by=by,
    )


async def test_a_persons_disclosures_newest_first_and_only_theirs(db: Database) -> None:
    pat = await create_user(db, "pat")
    ben = await create_user(db, "ben")
    kim = await create_user(db, "kim", "staff", "Counsellor Kim")
    now = utcnow()
    async with db.write() as conn:
        await disclosures.record(conn, _made(pat.person.id, kim.person.id, "first"), now - timedelta(days=1))
        await disclosures.record(conn, _made(ben.person.id, kim.person.id, "not pat's"), now)
        await disclosures.record(conn, _made(pat.person.id, kim.person.id, "second", "legal_hold"), now)
    async with db.read() as conn:
        found = await disclosures.of_subject(conn, pat.person.id)
    assert [(d["recipient"], d["kind"]) for d in found] == [("second", "legal_hold"), ("first", "staff_export")]
    assert found[0]["disclosed_by"] == {"id": kim.person.id, "display_name": "Counsellor Kim"}
    with pytest.raises(ValueError):
        async with db.write() as conn:
            await disclosures.record(conn, _made(pat.person.id, kim.person.id, "x", "gossip"), now)


async def test_postgres_refuses_to_change_the_accounting(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        pat = await create_user(db, "pat")
        async with db.write() as conn:
            await disclosures.record(conn, _made(pat.person.id, pat.person.id, "court"), utcnow())
        table = disclosures.disclosures
        for change in (update(table).values(recipient="nobody"), delete(table)):
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.write() as conn:
                    await conn.execute(change)
        async with db.read() as conn:
            assert [d["recipient"] for d in await disclosures.of_subject(conn, pat.person.id)] == ["court"]
    finally:
        await db.dispose()
