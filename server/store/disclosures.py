"""The accounting of disclosures (42 CFR Part 2): each time a person's record went to someone else.

Invariant: only inserts and reads, like the audit trail (on PostgreSQL a trigger refuses a
change or a delete). An entry is written in the same transaction as the read of the record
it discloses, so a disclosure is never made without being accounted for. A person's own
export is not a disclosure to someone else and is not recorded here (only in the audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.store.events import iso
from server.store.models import Disclosure, Program, User

disclosures = Disclosure.__table__  # type: ignore[attr-defined]
programs = Program.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]

KINDS = ("staff_export", "legal_hold")


@dataclass(frozen=True)
class Made:
    """One disclosure as it is recorded: whose record, to whom, why, what of it, and by whom."""

    subject_id: int
    program_id: int | None
    kind: str
    recipient: str
    purpose: str
    scope: str
    disclosed_by: int | None


async def record(conn: AsyncConnection, made: Made, at: datetime) -> int:
    """Append one disclosure inside the caller's write transaction; its id."""
    if made.kind not in KINDS:
        raise ValueError(f"unknown disclosure kind {made.kind!r}")
    result = await conn.execute(
        insert(disclosures)
        .values(
            subject_id=made.subject_id,
            program_id=made.program_id,
            kind=made.kind,
            recipient=made.recipient,
            purpose=made.purpose,
            scope=made.scope,
            disclosed_by=made.disclosed_by,
            at=at,
        )
        .returning(disclosures.c.id)
    )
    disclosure_id: int = result.scalar_one()
    return disclosure_id


async def of_subject(conn: AsyncConnection, subject_id: int) -> list[dict[str, Any]]:
    """Every disclosure of the person's record, newest first, as they read it.

    Who disclosed is named by display name (how participants know their staff); the
    program by name.
    """
    rows = await conn.execute(
        select(disclosures, programs.c.name.label("program_name"), users.c.display_name.label("by_name"))
        .select_from(
            disclosures.outerjoin(programs, programs.c.id == disclosures.c.program_id).outerjoin(
                users, users.c.id == disclosures.c.disclosed_by
            )
        )
        .where(disclosures.c.subject_id == subject_id)
        .order_by(disclosures.c.at.desc(), disclosures.c.id.desc())
    )
    return [
        {
            "id": row.id,
            "at": iso(row.at),
            "kind": row.kind,
            "recipient": row.recipient,
            "purpose": row.purpose,
            "scope": row.scope,
            "program": None if row.program_id is None else {"id": row.program_id, "name": row.program_name},
            "disclosed_by": None if row.disclosed_by is None else {"id": row.disclosed_by, "display_name": row.by_name},
        }
        for row in rows
    ]
