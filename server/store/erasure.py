"""Erasing message bodies in place, for account deletion and retention (``server.rules.erasure``).

Invariant: after ``erase`` the text of the erased messages is nowhere in the database: the
bodies are NULL, the quotes of them in replies (stored and held) have no excerpt, and their
reactions are gone, as when a moderator removes a message (``store.moderation.redact``).
Runs inside the caller's write transaction; ``store_redactions`` stores the ``redacted``
events that tell clients (live, and in a ``join``'s catch-up), and publishing them after
commit is the caller's business (a process that does not publish, such as the retention
command, leaves them to every web process's periodic catch-up from the database).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.rules.erasure import Reason, erased_data, quote_erased
from server.store.events import append_events
from server.store.models import Event, HeldMessage, Reaction, Room

events = Event.__table__  # type: ignore[attr-defined]
held_messages = HeldMessage.__table__  # type: ignore[attr-defined]
reactions = Reaction.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]

REPLY_PREFIX = '{"reply_to":%'


async def erase(conn: AsyncConnection, room_id: int, seqs: Sequence[int], reason: Reason) -> list[int]:
    """Erase these messages of the room; the seqs whose body was erased now (not before).

    The quotes of every one given are rewritten, erased before or not: a deleted account's
    name must leave the quotes of its messages a moderator had removed too.
    """
    wanted = sorted(set(seqs))
    if not wanted:
        return []
    # the room row, locked as a removal or a send locks it: two erasures of the same messages at
    # once (two retention runs, a deletion) take turns, and the second finds them erased
    await conn.execute(select(rooms.c.id).where(rooms.c.id == room_id).with_for_update())
    rows = (
        await conn.execute(
            select(events.c.seq, events.c.data).where(
                events.c.room_id == room_id,
                events.c.seq.in_(wanted),
                events.c.type == "message",
                events.c.body.is_not(None),
            )
        )
    ).all()
    if rows:
        await conn.execute(
            update(events)
            .where(events.c.room_id == room_id, events.c.seq == bindparam("target"))
            .values(body=None, data=bindparam("erased")),
            [{"target": row.seq, "erased": erased_data(row.data, reason)} for row in rows],
        )
    await conn.execute(delete(reactions).where(reactions.c.room_id == room_id, reactions.c.target_seq.in_(wanted)))
    await _drop_quotes(conn, room_id, wanted, reason)
    return sorted(row.seq for row in rows)


async def store_redactions(
    conn: AsyncConnection, room_id: int, seqs: Sequence[int], reason: Reason
) -> list[dict[str, Any]]:
    """A ``redacted`` event (``{"target", "reason"}``) for each of these erased messages, with the
    room's next seqs; their frames, in seq order."""
    datas = [{"target": target, "reason": reason} for target in seqs]
    return await append_events(conn, room_id=room_id, type_="redacted", subject=None, datas=datas)


async def _drop_quotes(conn: AsyncConnection, room_id: int, erased: list[int], reason: Reason) -> None:
    """Replies quoting an erased message keep the reference, not its text (a reply comes after
    what it answers, so only seqs beyond the first erased one are read)."""
    targets = set(erased)
    stored = await conn.execute(
        select(events.c.seq, events.c.data).where(
            events.c.room_id == room_id, events.c.seq > erased[0], events.c.data.like(REPLY_PREFIX)
        )
    )
    held = await conn.execute(
        select(held_messages.c.id, held_messages.c.data).where(
            held_messages.c.room_id == room_id, held_messages.c.data.like(REPLY_PREFIX)
        )
    )
    for table, key, rows in ((events, events.c.seq, stored), (held_messages, held_messages.c.id, held)):
        changed = []
        for row in rows:
            if (data := quote_erased(row.data, targets, reason)) is not None:
                changed.append({"key": row[0], "quoted": data})
        if changed:
            await conn.execute(
                update(table)
                .where(table.c.room_id == room_id, key == bindparam("key"))
                .values(data=bindparam("quoted")),
                changed,
            )
