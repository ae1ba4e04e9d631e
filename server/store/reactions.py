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

from server.rules.monitoring import posting_refusal
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
    refused: str | None = None  # an ErrorCode value: not_member, read_only, observing, invalid
    until: datetime | None = None  # with refused="observing": when observing ends


async def react(conn: AsyncConnection, *, room_id: int, person: Person, target: int, emoji: str, on: bool) -> Reacted:
    """Give (``on``) or take back a reaction to the message ``target`` of the room.

    Who may react is who may post (``posting_refusal``); the target must be a message of
    this room. Call inside a write transaction and publish the frame after it commits.
    """
    locked = await conn.execute(select(rooms.c.id).where(rooms.c.id == room_id).with_for_update())
    member = None if locked.first() is None else await member_of(conn, room_id, person.id)
    if member is None:
        return Reacted(refused="not_member")
    refusal = posting_refusal(member.role, member.listen_until, utcnow())
    if refusal is not None:
        return Reacted(refused=refusal, until=member.listen_until if refusal == "observing" else None)
    kind = await conn.scalar(select(events.c.type).where(events.c.room_id == room_id, events.c.seq == target))
    if kind != "message":
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
