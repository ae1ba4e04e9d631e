"""Read markers, and what the room list shows with them: unread counts and the latest line.

Invariants: a marker only moves forward (one conditional update, so two clients marking
at once never move it back); counting unread messages stops at ``UNREAD_CAP``, so a room
of 100k events costs at most that many steps along its primary key past the marker, and
the latest line is one step back from the end of it. Neither ever loads a room's history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, FromClause, Row, ScalarSelect, and_, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.rules.erasure import erased_reason
from server.store.events import iso
from server.store.excerpts import quote
from server.store.models import Event, Membership, User

UNREAD_CAP = 999
events = Event.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]
latest = events.alias("latest")
latest_author = users.alias("latest_author")


async def mark_read(conn: AsyncConnection, room_id: int, user_id: int, seq: int) -> tuple[int, bool]:
    """Move my marker in the room up to ``seq`` (never back): where it stands now, and whether it moved."""
    moved = await conn.execute(
        update(memberships)
        .where(memberships.c.room_id == room_id, memberships.c.user_id == user_id, memberships.c.last_read_seq < seq)
        .values(last_read_seq=seq)
    )
    if moved.rowcount:
        return seq, True
    marker = await conn.scalar(
        select(memberships.c.last_read_seq).where(memberships.c.room_id == room_id, memberships.c.user_id == user_id)
    )
    return int(marker or 0), False


def unread_of(user_id: int) -> ScalarSelect[Any]:
    """Messages by others after the marker of the enclosing select's ``memberships`` row,
    counted up to the cap (a correlated subquery)."""
    others = (
        select(literal(1))
        .where(
            events.c.room_id == memberships.c.room_id,
            events.c.seq > memberships.c.last_read_seq,
            events.c.type == "message",
            events.c.author_id != user_id,
        )
        .limit(UNREAD_CAP)
        .correlate(memberships)
        .subquery()
    )
    return select(func.count()).select_from(others).scalar_subquery()


def with_latest(rooms: FromClause, room_id: ColumnElement[Any]) -> FromClause:
    """``rooms`` (any select source with a room id) outer-joined to its latest message and author."""
    last_seq = (
        select(events.c.seq)
        .where(events.c.room_id == room_id, events.c.type == "message")
        .order_by(events.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    return rooms.outerjoin(latest, and_(latest.c.room_id == room_id, latest.c.seq == last_seq)).outerjoin(
        latest_author, latest_author.c.id == latest.c.author_id
    )


LATEST_COLUMNS = (
    latest.c.seq.label("latest_seq"),
    latest.c.author_id.label("latest_author_id"),
    latest_author.c.display_name.label("latest_author_name"),
    latest.c.body.label("latest_body"),
    latest.c.data.label("latest_data"),
    latest.c.created_at.label("latest_at"),
)


def latest_line(row: Row[*tuple[Any, ...]]) -> dict[str, Any] | None:
    """The room list's ``latest``: the latest message's seq, author, excerpt and time, or None;
    an erased one has no excerpt and says why (``removed``, as its tombstone in history does)."""
    if row.latest_seq is None:
        return None
    line = {
        **quote(row.latest_seq, row.latest_author_id, row.latest_author_name, row.latest_body),
        "ts": iso(row.latest_at),
    }
    if row.latest_body is None:
        line["removed"] = erased_reason(row.latest_data)
    return line
