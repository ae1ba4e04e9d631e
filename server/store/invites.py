"""Invites: the server-side half of an invite link, and its one-way use.

Invariants:
- A link is ``signers.invite.sign(id)``: only the invite signer (its own salt) turns a
  link back into an id, so a session, CSRF or export token never works as an invite.
- ``uses`` never passes ``max_uses``: redemption is one conditional UPDATE (not revoked,
  not expired, uses left, cohort not deleted) inside the caller's registration
  transaction, so two people cannot both take the last use, and a registration that
  fails afterwards rolls the use back with everything else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.auth.tokens import Signer
from server.protocol import ErrorCode
from server.rules.invites import TOKEN_MAX_AGE, InviteState, invite_problem, remaining_uses
from server.store.database import as_utc, utcnow
from server.store.events import iso
from server.store.models import Cohort, Invite, Program

invites = Invite.__table__  # type: ignore[attr-defined]
cohorts = Cohort.__table__  # type: ignore[attr-defined]
programs = Program.__table__  # type: ignore[attr-defined]

MAX_TOKEN_CHARS = 512

MESSAGES = {
    ErrorCode.INVITE_INVALID: "this invite link is not valid; check that it was copied whole",
    ErrorCode.INVITE_EXPIRED: "this invite has expired; ask your program for a new one",
    ErrorCode.INVITE_USED: "this invite has been used up; ask your program for a new one",
    ErrorCode.INVITE_REVOKED: "this invite was withdrawn by the program",
    ErrorCode.INVITE_GONE: "the group this invite was for no longer exists",
}


class InviteRefused(Exception):
    """The invite cannot be used; ``code`` says why (one of the ``invite_*`` codes)."""

    def __init__(self, code: ErrorCode) -> None:
        super().__init__(MESSAGES[code])
        self.code = code
        self.message = MESSAGES[code]


@dataclass(frozen=True)
class InviteInfo:
    id: str
    program_id: int
    program_name: str
    cohort_id: int | None
    cohort_name: str | None
    role: str
    real_name: str | None
    max_uses: int
    uses: int
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    cohort_deleted: bool

    @property
    def state(self) -> InviteState:
        return InviteState(
            uses=self.uses,
            max_uses=self.max_uses,
            expires_at=self.expires_at,
            revoked=self.revoked_at is not None,
            cohort_deleted=self.cohort_deleted,
        )

    def problem(self, now: datetime) -> ErrorCode | None:
        return invite_problem(self.state, now)

    def for_staff(self, now: datetime) -> dict[str, Any]:
        """The program's own view: limits, uses and who it is for."""
        problem = self.problem(now)
        return {
            "id": self.id,
            "program": self.program_id,
            "cohort": self.cohort_id,
            "role": self.role,
            "real_name": self.real_name,
            "max_uses": self.max_uses,
            "uses": self.uses,
            "remaining": remaining_uses(self.state),
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "expired": self.expires_at <= now,
            "revoked": self.revoked_at is not None,
            "valid": problem is None,
            "code": None if problem is None else problem.value,
        }

    def preview(self, now: datetime) -> dict[str, Any]:
        """What anyone holding the link may see: never who made it or whom it names."""
        problem = self.problem(now)
        return {
            "valid": problem is None,
            "code": None if problem is None else problem.value,
            "program": {"id": self.program_id, "name": self.program_name},
            "cohort": None if self.cohort_id is None else {"id": self.cohort_id, "name": self.cohort_name},
            "role": self.role,
            "expires_at": iso(self.expires_at),
        }


def invite_id_of(signer: Signer, token: str, max_age: int = TOKEN_MAX_AGE) -> str:
    """The invite id a link names; raises InviteRefused(invite_invalid or invite_expired)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise InviteRefused(ErrorCode.INVITE_INVALID)
    payload = signer.verify(token, max_age=max_age)
    if isinstance(payload, str) and 0 < len(payload) <= 32:
        return payload
    if payload is None and isinstance(signer.verify(token), str):
        raise InviteRefused(ErrorCode.INVITE_EXPIRED)  # genuine, but older than any invite may live
    raise InviteRefused(ErrorCode.INVITE_INVALID)


def _query() -> Any:
    return (
        select(
            invites,
            programs.c.name.label("program_name"),
            cohorts.c.name.label("cohort_name"),
            cohorts.c.deleted_at.label("cohort_deleted_at"),
        )
        .join(programs, programs.c.id == invites.c.program_id)
        .outerjoin(cohorts, cohorts.c.id == invites.c.cohort_id)
    )


def _info(row: Any) -> InviteInfo:
    return InviteInfo(
        id=row.id,
        program_id=row.program_id,
        program_name=row.program_name,
        cohort_id=row.cohort_id,
        cohort_name=row.cohort_name,
        role=row.role,
        real_name=row.real_name,
        max_uses=row.max_uses,
        uses=row.uses,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
        revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
        cohort_deleted=row.cohort_deleted_at is not None,
    )


async def create(
    conn: AsyncConnection,
    *,
    program_id: int,
    cohort_id: int | None,
    role: str,
    real_name: str | None,
    max_uses: int,
    expires_at: datetime,
    created_by: int | None,
) -> InviteInfo:
    """Store a new invite; the caller has checked that a participant invite names a live cohort."""
    invite_id = secrets.token_urlsafe(16)  # 22 characters, 128 random bits
    await conn.execute(
        insert(invites).values(
            id=invite_id,
            program_id=program_id,
            cohort_id=cohort_id,
            role=role,
            real_name=real_name,
            max_uses=max_uses,
            uses=0,
            created_by=created_by,
            created_at=utcnow(),
            expires_at=expires_at,
        )
    )
    found = await get(conn, invite_id)
    assert found is not None
    return found


async def get(conn: AsyncConnection, invite_id: str) -> InviteInfo | None:
    row = (await conn.execute(_query().where(invites.c.id == invite_id))).first()
    return None if row is None else _info(row)


async def of_program(conn: AsyncConnection, program_id: int) -> list[InviteInfo]:
    """Every invite of the program, newest first, used up and revoked ones included."""
    rows = await conn.execute(
        _query().where(invites.c.program_id == program_id).order_by(invites.c.created_at.desc(), invites.c.id)
    )
    return [_info(row) for row in rows]


async def revoke(conn: AsyncConnection, invite_id: str) -> None:
    """Stop an invite working; revoking twice keeps the first time."""
    await conn.execute(
        update(invites).where(invites.c.id == invite_id, invites.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


async def withdraw_usable(conn: AsyncConnection, invite_ids: list[str], now: datetime | None = None) -> list[str]:
    """Revoke those of these invites that could still let someone in; their ids, sorted.

    "Could" is ``invite_problem`` finding nothing (not revoked, cohort not deleted, not
    expired, uses left): an invite already dead is left as it is and not named. The rows are
    locked first (PostgreSQL; SQLite's write lock does the same), so a registration racing
    with the withdrawal either committed its use before (and the invite is judged with it
    counted) or waits, and ``redeem``'s conditional UPDATE then refuses it ``invite_revoked``.
    """
    wanted = sorted(set(invite_ids))
    if not wanted:
        return []
    await conn.execute(select(invites.c.id).where(invites.c.id.in_(wanted)).with_for_update())
    now = now or utcnow()
    withdrawn = []
    for invite_id in wanted:
        found = await get(conn, invite_id)
        if found is not None and found.problem(now) is None:
            await revoke(conn, invite_id)
            withdrawn.append(invite_id)
    return withdrawn


async def redeem(conn: AsyncConnection, invite_id: str, now: datetime | None = None) -> InviteInfo:
    """Take one use of the invite, or raise InviteRefused saying why not.

    The checks live in the UPDATE's WHERE, so the row lock (PostgreSQL) or the write lock
    (SQLite) decides between concurrent redeemers: the loser matches no row.
    """
    now = now or utcnow()
    live_cohort = or_(
        invites.c.cohort_id.is_(None),
        exists().where(cohorts.c.id == invites.c.cohort_id, cohorts.c.deleted_at.is_(None)),
    )
    result = await conn.execute(
        update(invites)
        .where(
            invites.c.id == invite_id,
            invites.c.uses < invites.c.max_uses,
            invites.c.revoked_at.is_(None),
            invites.c.expires_at > now,
            live_cohort,
        )
        .values(uses=invites.c.uses + 1)
    )
    found = await get(conn, invite_id)
    if found is None:
        raise InviteRefused(ErrorCode.INVITE_INVALID)
    if result.rowcount != 1:
        raise InviteRefused(found.problem(now) or ErrorCode.INVITE_USED)
    return found
