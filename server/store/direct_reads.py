"""Staff reads of a direct room go on the audit trail (``direct.read``), without flooding it.

A direct room is one participant's private line to their counsellor; anyone else who reads
it (a join on the socket, a history request) is recorded with the room's subject as the
target. A client joins again on every reconnect and pages history as the reader scrolls,
so one entry stands for all reads by the same person of the same room within
``READ_WINDOW``: the trail says who read whose room and when, to within ten minutes.
Two processes answering the same reader at the same moment may each write one (harmless).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.store import audit
from server.store.database import Database, utcnow
from server.store.models import Room

READ_WINDOW = timedelta(minutes=10)
rooms = Room.__table__  # type: ignore[attr-defined]


async def note_read(db: Database, *, room_id: int, reader_id: int, via: str) -> bool:
    """Record that ``reader_id`` read the room when it is someone else's direct room and no entry
    for this reader and room is younger than READ_WINDOW; True when an entry was written."""
    now = utcnow()
    async with db.read() as conn:
        room = (
            await conn.execute(
                select(rooms.c.kind, rooms.c.subject_id, rooms.c.program_id).where(rooms.c.id == room_id)
            )
        ).first()
        if room is None or room.kind != "direct" or room.subject_id == reader_id:
            return False
        log = audit.audit_log
        recent = (
            await conn.execute(
                select(log.c.id)
                .where(
                    log.c.actor_id == reader_id,
                    log.c.action == "direct.read",
                    log.c.room_id == room_id,
                    log.c.at > now - READ_WINDOW,
                )
                .limit(1)
            )
        ).first()
    if recent is not None:
        return False
    async with db.write() as conn:
        await audit.record(
            conn,
            audit.Entry(
                actor_id=reader_id,
                action="direct.read",
                program_id=room.program_id,
                room_id=room_id,
                target_user_id=room.subject_id,
                detail={"via": via},
            ),
            now,
        )
    return True
