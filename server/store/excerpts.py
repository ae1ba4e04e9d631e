"""Messages shown out of place: the quote a reply carries, and the room list's latest line.

Invariant: both show the same start of a message (``EXCERPT_CHARS`` characters), and a
reply's quote is taken when the reply is stored, so it reads the same live and in history.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, select

from server.store.models import Event, User

EXCERPT_CHARS = 140
events = Event.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]


def excerpt(body: str | None) -> str:
    """The start of a message, as a quote or a preview shows it."""
    return (body or "")[:EXCERPT_CHARS]


def quote(seq: int, author_id: int, author_name: str, body: str | None) -> dict[str, Any]:
    """What a reply says about the message it answers (no excerpt once a moderator removed it)."""
    return {
        "seq": seq,
        "author": {"id": author_id, "display_name": author_name},
        "excerpt": None if body is None else excerpt(body),
    }


def quotes_of(conn: Connection, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """For each wanted (room, seq) that is a message of that room, the ``data`` a reply to it
    stores: ``{"reply_to": QUOTE}`` as JSON. One query for a whole batch of replies."""
    rows = conn.execute(
        select(events.c.room_id, events.c.seq, events.c.author_id, events.c.body, users.c.display_name)
        .select_from(events.join(users, users.c.id == events.c.author_id))
        .where(
            events.c.room_id.in_({room for room, _ in wanted}),
            events.c.seq.in_({seq for _, seq in wanted}),
            events.c.type == "message",
        )
    )
    return {
        key: orjson.dumps({"reply_to": quote(row.seq, row.author_id, row.display_name, row.body)}).decode()
        for row in rows
        if (key := (row.room_id, row.seq)) in wanted
    }
