"""Server-side sessions: the signed token only names a row here, so it can be revoked."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.store.database import as_utc, utcnow
from server.store.models import AuthSession, User
from server.store.users import Person, _person

sessions = AuthSession.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ActiveSession:
    id: str
    person: Person
    expires_at: datetime


async def create(conn: AsyncConnection, user_id: int, max_age: int) -> str:
    """Open a session and return its id (to be signed into a token)."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    await conn.execute(
        insert(sessions).values(
            id=session_id, user_id=user_id, created_at=now, expires_at=now + timedelta(seconds=max_age)
        )
    )
    return session_id


# built once: building the statement costs more than running it
_ACTIVE = (
    select(
        users,
        sessions.c.id.label("session_id"),
        sessions.c.expires_at.label("session_expires"),
        sessions.c.revoked_at.label("session_revoked"),
    )
    .join(users, users.c.id == sessions.c.user_id)
    .where(sessions.c.id == bindparam("session_id"))
)


def active(conn: Connection, session_id: str) -> ActiveSession | None:
    """The live session and its person, or None if unknown, expired or revoked (synchronous:
    ``Database.run_read`` runs it, once per handshake and per request)."""
    row = conn.execute(_ACTIVE, {"session_id": session_id}).first()
    if row is None or row.session_revoked is not None or as_utc(row.session_expires) <= utcnow():
        return None
    return ActiveSession(id=row.session_id, person=_person(row), expires_at=as_utc(row.session_expires))


async def revoke(conn: AsyncConnection, session_id: str) -> None:
    await conn.execute(
        update(sessions).where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


async def revoke_all(conn: AsyncConnection, user_id: int, keep: str | None = None) -> list[str]:
    """End every live session of a person (withdrawal, discharge), or every one but ``keep``
    (a password change keeps the session that made it); returns their ids so the caller can
    close their sockets on every process after commit."""
    now = utcnow()
    rows = await conn.execute(
        update(sessions)
        .where(
            sessions.c.user_id == user_id,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
            sessions.c.id != (keep or ""),
        )
        .values(revoked_at=now)
        .returning(sessions.c.id)
    )
    return sorted(row[0] for row in rows)


async def still_active(conn: AsyncConnection, session_ids: list[str]) -> set[str]:
    """Which of these sessions are still valid (for the periodic sweep of open sockets)."""
    now = utcnow()
    alive: set[str] = set()
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        rows = await conn.execute(
            select(sessions.c.id).where(
                sessions.c.id.in_(chunk), sessions.c.revoked_at.is_(None), sessions.c.expires_at > now
            )
        )
        alive.update(row[0] for row in rows)
    return alive
