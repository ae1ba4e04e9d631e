"""Turn a presented token into a live session, and issue tokens at login."""

from __future__ import annotations

from functools import partial

from server.auth.tokens import Signers
from server.store import sessions as session_store
from server.store.database import Database
from server.store.sessions import ActiveSession


async def resolve(db: Database, signers: Signers, token: str | None, max_age: int) -> ActiveSession | None:
    """The session a token names if its signature, age and server-side row are all good."""
    session_id = signed_session_id(signers, token, max_age)
    return None if session_id is None else await active_session(db, session_id)


def signed_session_id(signers: Signers, token: str | None, max_age: int) -> str | None:
    """The session id a token names if its signature and age are good: no database work, so
    the WebSocket handshake can throttle before it reads anything."""
    if not token or len(token) > 512:
        return None
    session_id = signers.session.verify(token, max_age=max_age)
    return session_id if isinstance(session_id, str) else None


async def active_session(db: Database, session_id: str) -> ActiveSession | None:
    """The server-side row of a signed session id, if it is neither expired nor revoked."""
    return await db.run_read(partial(session_store.active, session_id=session_id))


def csrf_token(signers: Signers, session_id: str) -> str:
    return signers.csrf.sign(session_id)


def csrf_valid(signers: Signers, presented: str | None, session_id: str, max_age: int) -> bool:
    """The CSRF token must have been issued for this very session."""
    if not presented or len(presented) > 512:
        return False
    return signers.csrf.verify(presented, max_age=max_age) == session_id
