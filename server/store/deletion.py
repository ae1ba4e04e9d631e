"""A person deletes their own account: one transaction that leaves a "deleted user" behind.

Invariants:
- The ``users`` row stays (history, the audit trail, staff records and the accounting of
  disclosures point at its id) but holds no personal data: the username becomes
  ``~deleted-ID`` (no one can register or sign in with it), the display name "deleted
  user", the real name and password hash are gone, ``deleted_at`` is set.
- Every message they wrote is erased in place (``store.erasure``, reason ``deleted``) and a
  ``redacted`` event (with ``reason``) is stored for each one erased now, so open clients
  tombstone it live; held messages waiting for review lose their text and are rejected.
- They leave every room (enrollments are withdrawn with a recorded transition, other
  memberships removed), their personal mutes go both ways, the records keeping them out of
  rooms go (nobody is left to keep out), and every session is revoked.
- Kept, because they are the program's records rather than the person's own content:
  enrollment transitions, warnings, staff notes about them, queue items and who raised
  them, the audit trail (which gets one ``account.delete`` entry with counts, no text) and
  the accounting of disclosures (42 CFR Part 2).
Nothing is announced here: the caller goes live after commit (``server.http.account``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.protocol import ErrorCode
from server.rules.erasure import DELETED_NAME, deleted_username, may_delete_own_account
from server.store import audit
from server.store import enrollments as enrollment_store
from server.store import queue as queue_store
from server.store import rooms as room_store
from server.store import sessions as session_store
from server.store.enrollments import Change
from server.store.erasure import erase, store_redactions
from server.store.models import Event, HeldMessage, Membership, PersonalMute, QueueItem, User
from server.store.users import Person

users = User.__table__  # type: ignore[attr-defined]
events = Event.__table__  # type: ignore[attr-defined]
held_messages = HeldMessage.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
personal_mutes = PersonalMute.__table__  # type: ignore[attr-defined]
queue_items = QueueItem.__table__  # type: ignore[attr-defined]

CHUNK = 500  # seqs per statement: far below SQLite's bound-parameter limit
NO_PASSWORD = "!"  # not an argon2 hash: verify_password answers False for it
REASON = "account deleted"


class DeletionRefused(Exception):
    """The account cannot be deleted this way; ``code`` says why in protocol terms."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Deletion:
    """What deleting did: membership changes and ``redacted`` frames to publish, sessions to close."""

    change: Change = field(default_factory=Change)
    redactions: list[dict[str, Any]] = field(default_factory=list)
    ended_sessions: list[str] = field(default_factory=list)
    messages: int = 0


async def delete_account(conn: AsyncConnection, user_id: int, now: datetime) -> Deletion:
    """Delete the account (see the module invariants), inside the caller's write transaction."""
    row = (await conn.execute(select(users).where(users.c.id == user_id).with_for_update())).first()
    if row is None or row.deleted_at is not None:
        raise DeletionRefused(ErrorCode.NOT_FOUND, "no such account")
    if not may_delete_own_account(row.role):
        raise DeletionRefused(ErrorCode.FORBIDDEN, "staff accounts are closed by an administrator")
    gone = Person(id=user_id, username=deleted_username(user_id), display_name=DELETED_NAME, role=row.role)
    await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(
            username=gone.username, display_name=DELETED_NAME, real_name=None, password_hash=NO_PASSWORD, deleted_at=now
        )
    )
    done = Deletion()
    programs = await _leave_everything(conn, gone, done.change)
    rooms = await _erase_messages(conn, user_id, done)
    await _drop_held(conn, user_id, now)
    await conn.execute(
        delete(personal_mutes).where(or_(personal_mutes.c.user_id == user_id, personal_mutes.c.muted_id == user_id))
    )
    await conn.execute(delete(room_store.removals).where(room_store.removals.c.user_id == user_id))
    done.ended_sessions = await session_store.revoke_all(conn, user_id)
    detail = {"messages": done.messages, "rooms": rooms, "programs": programs, "sessions": len(done.ended_sessions)}
    await audit.record(conn, audit.Entry(user_id, "account.delete", target_user_id=user_id, detail=detail), at=now)
    return done


async def _leave_everything(conn: AsyncConnection, gone: Person, change: Change) -> list[int]:
    """Withdraw every active or alumni enrollment (a recorded move, memberships follow), then
    leave any room joined by hand; the programs withdrawn from."""
    withdrawn = []
    for standing in await enrollment_store.standings_of(conn, gone.id):
        if standing.status in ("active", "alumni"):
            change.merge(
                await enrollment_store.set_status(
                    conn, person=gone, program_id=standing.program_id, to_status="withdrawn", by=gone.id, reason=REASON
                )
            )
            withdrawn.append(standing.program_id)
    left = await conn.execute(select(memberships.c.room_id).where(memberships.c.user_id == gone.id))
    for room_id in sorted(row.room_id for row in left):
        frame = await room_store.remove_member(conn, room_id=room_id, person=gone, reason="deleted")
        if frame is not None:
            change.frames.append(frame)
            change.removed.append((gone.id, room_id))
    return withdrawn


async def _erase_messages(conn: AsyncConnection, user_id: int, done: Deletion) -> list[int]:
    """Erase every message of theirs, room by room; the rooms they had written in."""
    rows = await conn.execute(
        select(events.c.room_id, events.c.seq)
        .where(events.c.author_id == user_id, events.c.type == "message")
        .order_by(events.c.room_id, events.c.seq)
    )
    rooms = []
    for room_id, group in groupby(rows.all(), key=lambda row: int(row.room_id)):
        rooms.append(room_id)
        seqs = [int(row.seq) for row in group]
        for start in range(0, len(seqs), CHUNK):
            erased = await erase(conn, room_id, seqs[start : start + CHUNK], "deleted")
            done.redactions += await store_redactions(conn, room_id, erased, "deleted")
            done.messages += len(erased)
    return rooms


async def _drop_held(conn: AsyncConnection, user_id: int, now: datetime) -> None:
    """Their held messages lose their text; those still waiting are rejected and leave the queue."""
    waiting = [
        row.id
        for row in await conn.execute(
            select(held_messages.c.id).where(held_messages.c.author_id == user_id, held_messages.c.status == "held")
        )
    ]
    await conn.execute(update(held_messages).where(held_messages.c.author_id == user_id).values(body=None, data=None))
    if waiting:
        await conn.execute(
            update(held_messages).where(held_messages.c.id.in_(waiting)).values(status="rejected", decided_at=now)
        )
        await queue_store.close(
            conn,
            and_(queue_items.c.held_id.in_(waiting), queue_items.c.kind == "held"),
            status="dismissed",
            by=None,
            reason=REASON,
            now=now,
        )
