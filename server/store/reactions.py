"""Reactions on messages: stored as room events, and folded into rows to tell what changes.

Invariant: the ``reactions`` rows are the fold of the room's ``reaction`` events. An event
is stored (with the room's next seq) only when it changes a row, and the check and the
change happen in one transaction after the room's row is locked (``FOR UPDATE`` on
PostgreSQL; ``BEGIN IMMEDIATE`` serialises SQLite), so the same reaction given twice at
once, from two clients, is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.rules.posting import Poster, refusal
from server.store.database import utcnow
from server.store.duty import member_of
from server.store.events import append_event
from server.store.models import Event, Reaction, Room
from server.store.users import Person

events = Event.__table__  # type: ignore[attr-defined]
reactions = Reaction.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Reacted:
    """What a reaction did: stored (the event's frame), changed nothing (both None), or refused."""

    frame: dict[str, Any] | None = None
    refused: str | None = None  # an ErrorCode value: not_member, read_only, observing, muted, locked, invalid
    until: datetime | None = None  # with refused="observing" or "muted": when it ends
    retry_after: float | None = None  # with refused="muted"


async def react(conn: AsyncConnection, *, room_id: int, person: Person, target: int, emoji: str, on: bool) -> Reacted:
    """Give (``on``) or take back a reaction to the message ``target`` of the room.

    Who may react is who may post (``rules.posting.refusal``, without slow mode); the target
    must be a message of this room that a moderator has not removed. Call inside a write
    transaction and publish the frame after it commits.
    """
    room = (await conn.execute(select(rooms.c.locked).where(rooms.c.id == room_id).with_for_update())).first()
    member = None if room is None else await member_of(conn, room_id, person.id)
    if room is None or member is None:
        return Reacted(refused="not_member")
    poster = Poster(member.role, member.listen_until, member.muted_until)
    refused = refusal(poster, locked=bool(room.locked), slow_seconds=0, now=utcnow(), reacting=True)
    if refused is not None:
        return Reacted(refused=refused.code, until=refused.until, retry_after=refused.retry_after)
    found = (
        await conn.execute(
            select(events.c.type, events.c.body).where(events.c.room_id == room_id, events.c.seq == target)
        )
    ).first()
    if found is None or found.type != "message" or found.body is None:  # nothing, or a removed message
        return Reacted(refused="invalid")
    mine = (
        reactions.c.room_id == room_id,
        reactions.c.target_seq == target,
        reactions.c.user_id == person.id,
        reactions.c.emoji == emoji,
    )
    if on:
        if (await conn.execute(select(reactions.c.emoji).where(*mine))).first() is not None:
            return Reacted()
        await conn.execute(insert(reactions).values(room_id=room_id, target_seq=target, user_id=person.id, emoji=emoji))
    elif not (await conn.execute(delete(reactions).where(*mine))).rowcount:
        return Reacted()
    frame = await append_event(
        conn,
        room_id=room_id,
        type_="reaction",
        subject=person.public(),
        data={"target": target, "emoji": emoji, "on": on},
    )
    return Reacted(frame=frame)
