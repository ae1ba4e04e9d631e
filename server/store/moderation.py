"""A moderator's room actions in the store: remove a message, mute, ban and lift a ban.

Invariants:
- Each function runs inside the caller's write transaction, next to the audit entry the
  caller records; nothing is announced here: the caller goes live after commit
  (``server.moderation.announce_mute``, ``Hub.publish_stored``).
- A removed message keeps its row, seq, author and client_id, but its body is NULL: that
  NULL is what makes it a tombstone everywhere (history, the join backlog, quotes, the room
  list's latest line). Quotes of it in replies (stored and held) lose their excerpt, and
  its reactions go, so no copy of its text is left in the database.
- Moderators are never muted (``rules.posting`` ignores it for them, and ``mute`` never
  sets it on them).
- A ban withdraws, in the same transaction, the invite the person joined the program with
  while it could still let someone in: a cohort's link is usually multi-use, and the banned
  person still holds it. Lifting the ban never brings an invite back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.protocol import ErrorCode
from server.rules.erasure import Reason, erased_reason
from server.store import enrollments as enrollment_store
from server.store import invites as invite_store
from server.store import sessions as session_store
from server.store.database import as_utc
from server.store.enrollments import Change, TransitionRefused, transitions
from server.store.events import append_event, message_at
from server.store.models import Event, HeldMessage, Membership, Reaction, Room
from server.store.users import Person

events = Event.__table__  # type: ignore[attr-defined]
held_messages = HeldMessage.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
reactions = Reaction.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]


# mutes


async def mute(
    conn: AsyncConnection, *, user_id: int, room_ids: list[int], until: datetime | None, only_longer: bool = False
) -> list[int]:
    """Mute the person in these rooms until then (None: unmute); the rooms that changed.

    Only memberships that are not moderators' are touched. ``only_longer`` never shortens a
    mute already running longer (a ladder's mute must not cut a moderator's).
    """
    if not room_ids:
        return []
    mine = (
        memberships.c.user_id == user_id,
        memberships.c.room_id.in_(sorted(set(room_ids))),
        memberships.c.role != "moderator",
    )
    rows = await conn.execute(select(memberships.c.room_id, memberships.c.muted_until).where(*mine))
    changed = [
        row.room_id
        for row in rows
        if _replaces(None if row.muted_until is None else as_utc(row.muted_until), until, only_longer)
    ]
    if changed:
        await conn.execute(
            update(memberships)
            .where(memberships.c.user_id == user_id, memberships.c.room_id.in_(changed))
            .values(muted_until=until)
        )
    return sorted(changed)


def _replaces(current: datetime | None, until: datetime | None, only_longer: bool) -> bool:
    if current == until:
        return False
    return not (only_longer and current is not None and (until is None or current > until))


# removing a message


@dataclass(frozen=True)
class Redaction:
    """A removed message: the ``redacted`` event's seq, whose message it was, and the new
    event's frame to publish (None when it had been removed before: nothing happened)."""

    seq: int
    author_id: int | None
    frame: dict[str, Any] | None


class ErasedAlready(Exception):
    """The message's text is gone already, not by a moderator's removal (``reason``: its
    writer deleted their account, or retention): there is nothing left to remove."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason = reason


def _redacted_data(target: int) -> str:
    return orjson.dumps({"target": target}).decode()


async def redact(conn: AsyncConnection, *, room_id: int, target: int) -> Redaction | None:
    """Remove the message at ``target`` (see the module invariant); None when there is no such message.

    Removing a removed message again answers the first removal (no second event); one whose
    text was erased otherwise raises ``ErasedAlready`` (no moderator's removal to name).
    """
    await conn.execute(select(rooms.c.id).where(rooms.c.id == room_id).with_for_update())
    found = await message_at(conn, room_id, target)
    if found is None:
        return None
    if found.removed:
        data = await conn.scalar(select(events.c.data).where(events.c.room_id == room_id, events.c.seq == target))
        reason = erased_reason(data)
        earlier = None
        if reason == "moderator":
            earlier = await conn.scalar(
                select(events.c.seq).where(
                    events.c.room_id == room_id, events.c.type == "redacted", events.c.data == _redacted_data(target)
                )
            )
        if earlier is None:
            raise ErasedAlready(reason)
        return Redaction(seq=int(earlier), author_id=found.author_id, frame=None)
    await conn.execute(update(events).where(events.c.room_id == room_id, events.c.seq == target).values(body=None))
    for table in (events, held_messages):
        await _drop_quotes(conn, table, room_id, target)
    await conn.execute(delete(reactions).where(reactions.c.room_id == room_id, reactions.c.target_seq == target))
    frame = await append_event(conn, room_id=room_id, type_="redacted", subject=None, data={"target": target})
    return Redaction(seq=frame["seq"], author_id=found.author_id, frame=frame)


async def _drop_quotes(conn: AsyncConnection, table: Table, room_id: int, target: int) -> None:
    """Replies (stored or held) quoting the target keep the reference, not its text."""
    prefix = orjson.dumps({"reply_to": {"seq": target}}).decode()[:-2]  # '{"reply_to":{"seq":N'
    key = (table.c.room_id, table.c.seq) if table is events else (table.c.room_id, table.c.id)
    rows = await conn.execute(
        select(*key, table.c.data).where(
            table.c.room_id == room_id, or_(table.c.data.like(prefix + ",%"), table.c.data.like(prefix + "}%"))
        )
    )
    for row in rows:
        data = orjson.loads(row.data)
        if data.get("reply_to", {}).get("seq") != target:
            continue
        data["reply_to"]["excerpt"] = None
        await conn.execute(
            update(table).where(key[0] == row[0], key[1] == row[1]).values(data=orjson.dumps(data).decode())
        )


# bans


class BanRefused(Exception):
    """The person cannot be banned or unbanned as asked; ``code`` says why in protocol terms."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Ban:
    """What a ban did: the enrollment's change (frames to publish, rooms left), the sessions
    it ended, and the ids of the invites it withdrew (never their links)."""

    change: Change
    ended_sessions: list[str]
    invites_revoked: list[str]


async def ban(conn: AsyncConnection, *, person: Person, program_id: int, by: int, reason: str) -> Ban:
    """Ban the person from the program: status ``banned`` (a recorded transition), out of every
    room of the program, every session revoked, and the invite they joined the program with
    withdrawn if it could still be used (``invite_store.withdraw_usable``): otherwise they
    would register a new account with the same link and be back in the cohort's rooms. The
    rest of the group keeps their accounts; newcomers need a new link."""
    current = await enrollment_store.standing(conn, person.id, program_id)
    if current is None:
        raise BanRefused(ErrorCode.NOT_FOUND, "this person is not enrolled in the program")
    if current.role == "staff":
        raise BanRefused(ErrorCode.CONFLICT, "staff are not banned; withdraw them instead")
    if current.status == "banned":
        raise BanRefused(ErrorCode.CONFLICT, "this person is banned from the program already")
    try:
        change = await enrollment_store.set_status(
            conn, person=person, program_id=program_id, to_status="banned", by=by, reason=reason
        )
    except TransitionRefused as exc:  # someone moved them meanwhile
        raise BanRefused(ErrorCode.CONFLICT, str(exc)) from None
    ended = await session_store.revoke_all(conn, person.id)
    joined_with = [] if current.invite_id is None else [current.invite_id]
    return Ban(change, ended, await invite_store.withdraw_usable(conn, joined_with))


async def unban(conn: AsyncConnection, *, person: Person, program_id: int, by: int, reason: str | None) -> Change:
    """Lift the ban: back to the status the person had before it (their rooms follow).

    The invites the ban withdrew stay withdrawn: the rest of the group has a new link by
    now, and the person lifted from the ban needs none (their account is back)."""
    current = await enrollment_store.standing(conn, person.id, program_id)
    if current is None or current.status != "banned":
        raise BanRefused(ErrorCode.NOT_FOUND, "this person is not banned from the program")
    before = await conn.scalar(
        select(transitions.c.from_status)
        .where(transitions.c.enrollment_id == current.enrollment_id, transitions.c.to_status == "banned")
        .order_by(transitions.c.id.desc())
        .limit(1)
    )
    try:
        return await enrollment_store.set_status(
            conn,
            person=person,
            program_id=program_id,
            to_status=before or "withdrawn",
            by=by,
            reason=reason,
            lifting_ban=True,
        )
    except TransitionRefused as exc:
        raise BanRefused(ErrorCode.CONFLICT, str(exc)) from None
