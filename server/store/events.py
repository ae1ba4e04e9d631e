"""Room history: append events with the room's next seq, and read them back as frames.

Invariant: a seq is handed out only inside the transaction that inserts its event, after
the room's counter row is locked (``FOR UPDATE`` on PostgreSQL; ``BEGIN IMMEDIATE``
serialises SQLite), so concurrent writers, even in several processes, get 1..N with no
gap and no repeat. A message is identified by (room, author, client_id): appending the
same triple again returns the original seq and stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, bindparam, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.rules.crisis import Detector
from server.rules.monitoring import hold_applies, holds, monitored
from server.rules.posting import Poster, refusal
from server.rules.schedule import stored_schedule
from server.store.database import as_utc, utcnow
from server.store.duty import rooms_on_duty
from server.store.excerpts import quotes_of
from server.store.intake import Flag, enqueue_batch
from server.store.models import Event, HeldMessage, Membership, Room, User

events = Event.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]
held_messages = HeldMessage.__table__  # type: ignore[attr-defined]


def iso(ts: datetime) -> str:
    """One timestamp format for live frames and history alike (UTC, milliseconds)."""
    ts = as_utc(ts)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def frame_of(
    *,
    room_id: int,
    seq: int,
    type_: str,
    ts: datetime | str,
    author: dict[str, Any] | None,
    body: str | None,
    client_id: str | None,
    data: str | None,
) -> dict[str, Any]:
    """The wire form of a stored event; the live path and history both use it.

    ``ts`` may come already formatted (a batch shares one commit time).
    """
    stamp = ts if isinstance(ts, str) else iso(ts)
    frame: dict[str, Any] = {"type": type_, "room": room_id, "seq": seq}
    if type_ == "message":
        frame.update(author=author, body=body, ts=stamp, client_id=client_id)
        if data:
            frame.update(orjson.loads(data))  # a reply: {"reply_to": {...}}
        if body is None:  # erased: data says why (rules.erasure); a moderator's removal leaves no data
            frame.setdefault("removed", "moderator")
        return frame
    extra = orjson.loads(data) if data else {}
    if author is not None:
        frame["user"] = author
    frame.update(extra)
    frame["ts"] = stamp
    return frame


@dataclass(frozen=True)
class NewMessage:
    """A message someone asked to post (already validated by the protocol layer)."""

    room_id: int
    author_id: int
    author_name: str
    body: str
    client_id: str
    reply_to: int | None = None  # the seq of a message of the same room


@dataclass(frozen=True)
class Posted:
    """What happened to one NewMessage: stored (seq, and the frame when new), held, or refused."""

    seq: int | None
    frame: dict[str, Any] | None = None
    refused: str | None = None  # an ErrorCode value when not stored
    until: datetime | None = None  # with refused="observing" or "muted": when it ends
    retry_after: float | None = None  # with refused="muted" or "slow_mode"
    held: bool = False  # waits for review, outside the room's history (only its author knows)
    crisis: bool = False  # matched crisis detection (stored or held): its author gets the resources
    items: tuple[int, ...] = ()  # queue items made for it in the same transaction (crisis, held)


@dataclass(frozen=True)
class _Room:
    """The locked row of a room in the batch."""

    last_seq: int
    hold_mode: str
    schedule: str | None
    locked: bool
    slow_seconds: int


@dataclass(frozen=True)
class _Member:
    """A member of a room of the batch: who may post (see rules.posting) and whether they are trusted."""

    poster: Poster
    trusted: bool


def append_messages(conn: Connection, batch: list[NewMessage], detector: Detector | None = None) -> list[Posted]:
    """Store a batch of messages in one transaction (group commit); one Posted per input.

    Synchronous on purpose: ``Database.run_write`` runs it in one go on the writer thread
    (SQLite) or through ``run_sync`` (PostgreSQL), so a batch costs one hand-off, not one
    per statement.

    Authorisation happens here, against the rows being locked: members and moderators post;
    readers get ``read_only``, people observing get ``observing``, then ``muted``, ``locked``
    and ``slow_mode`` as ``rules.posting.refusal`` decides; a reply whose ``reply_to``
    is not a message of the same room gets ``invalid`` (the targets are read only when the
    batch holds a reply, in one query). Duplicates of an already
    stored (room, author, client_id), within the batch or from before, are answered with the
    original seq. In a room whose hold mode applies now, a member's message goes to
    ``held_messages`` instead (no seq; a retry is answered ``held`` again). Rooms with hold
    mode ``off`` and people not observing cost nothing beyond the columns read; only rooms in
    slow mode write ``memberships.last_posted_at``. An untrusted member's message (the
    program holds first posts) is held too. A stored or held message that ``detector`` finds
    a crisis in gets a crisis queue item, and a held one a ``held`` item, in this transaction.
    """
    locked = conn.execute(_LOCK_ROOMS, {"ids": sorted({m.room_id for m in batch})})
    room_rows = {
        row.id: _Room(row.last_seq, row.hold_mode, row.schedule, bool(row.locked), row.slow_seconds) for row in locked
    }
    last_seq = {room_id: room.last_seq for room_id, room in room_rows.items()}
    members = _members(conn, batch)
    existing = _stored_client_ids(conn, batch)
    now = utcnow()
    stamp = iso(now)
    holding = _holding(conn, room_rows, now)
    # a held message's retry must be answered `held` even once the hold has stopped applying
    untrusted = {key for key, member in members.items() if not member.trusted}
    holds_any = untrusted or any(r.hold_mode != "off" for r in room_rows.values())
    held = _held_client_ids(conn, batch, room_rows, untrusted) if holds_any else set()
    replying = {(m.room_id, m.reply_to) for m in batch if m.reply_to is not None}
    quotes = quotes_of(conn, replying) if replying else {}
    rows: list[tuple[int, int, int, str, str, str | None]] = []  # _INSERT_MESSAGES's columns but type and time
    held_rows: list[dict[str, Any]] = []
    slowed: set[tuple[int, int]] = set()  # (room, author) that posted in a slow-mode room
    results: list[Posted] = []
    crisis_at: set[int] = set()  # indexes of the batch whose message matched crisis detection
    held_at: list[int] = []  # indexes newly held, in held_rows order
    for message in batch:
        key = (message.room_id, message.author_id, message.client_id)
        member = members.get((message.room_id, message.author_id))
        if message.room_id not in last_seq or member is None:
            results.append(Posted(seq=None, refused="not_member"))
            continue
        if key in existing:
            results.append(Posted(seq=existing[key]))
            continue
        room, poster, role = room_rows[message.room_id], member.poster, member.poster.role
        if (message.room_id, message.author_id) in slowed:  # posted earlier in this very batch
            poster = replace(poster, last_posted_at=now)
        refused = refusal(poster, locked=room.locked, slow_seconds=room.slow_seconds, now=now)
        if refused is not None:
            results.append(Posted(seq=None, refused=refused.code, until=refused.until, retry_after=refused.retry_after))
            continue
        data = None
        if message.reply_to is not None:
            data = quotes.get((message.room_id, message.reply_to))
            if data is None:
                results.append(Posted(seq=None, refused="invalid"))
                continue
        if key in held or holds(role, message.room_id in holding or not member.trusted):
            if key not in held:
                held.add(key)
                held_rows.append(_held_row(message, now, data))
                held_at.append(len(results))
                if detector is not None and detector.detect(message.body):
                    crisis_at.add(len(results))
            results.append(Posted(seq=None, held=True))
            continue
        seq = last_seq[message.room_id] + 1
        last_seq[message.room_id] = seq
        existing[key] = seq
        if room.slow_seconds > 0 and role != "moderator":
            slowed.add((message.room_id, message.author_id))
        if detector is not None and detector.detect(message.body):
            crisis_at.add(len(results))
        rows.append((message.room_id, seq, message.author_id, message.body, message.client_id, data))
        author = {"id": message.author_id, "display_name": message.author_name}
        results.append(
            Posted(
                seq=seq,
                frame=frame_of(
                    room_id=message.room_id,
                    seq=seq,
                    type_="message",
                    ts=stamp,
                    author=author,
                    body=message.body,
                    client_id=message.client_id,
                    data=data,
                ),
            )
        )
    if rows:
        _store(conn, rows, now, last_seq)
    held_ids: list[int] = []
    if held_rows:
        inserted = conn.execute(
            insert(held_messages).returning(held_messages.c.id, sort_by_parameter_order=True), held_rows
        )
        held_ids = list(inserted.scalars())
    if slowed:
        conn.execute(
            update(memberships)
            .where(memberships.c.room_id == bindparam("rid"), memberships.c.user_id == bindparam("uid"))
            .values(last_posted_at=now),
            [{"rid": room_id, "uid": user_id} for room_id, user_id in sorted(slowed)],
        )
    if crisis_at or held_at:
        held_id = dict(zip(held_at, held_ids, strict=True))
        queued = sorted(crisis_at | held_id.keys())
        flags = [
            Flag(batch[i].room_id, batch[i].author_id, results[i].seq, held_id.get(i), i in crisis_at) for i in queued
        ]
        for i, items in zip(queued, enqueue_batch(conn, flags, now), strict=True):
            results[i] = replace(results[i], crisis=i in crisis_at, items=items)
    return results


# The batch's statements, built once: building a statement costs more than running it here.
_LOCK_ROOMS = (
    select(rooms.c.id, rooms.c.last_seq, rooms.c.hold_mode, rooms.c.schedule, rooms.c.locked, rooms.c.slow_seconds)
    .where(rooms.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(rooms.c.id)
    .with_for_update()
)
_MEMBERS = select(
    memberships.c.room_id,
    memberships.c.user_id,
    memberships.c.role,
    memberships.c.listen_until,
    memberships.c.muted_until,
    memberships.c.last_posted_at,
    memberships.c.trusted,
).where(memberships.c.user_id.in_(bindparam("ids", expanding=True)))
# SQLite: the batch's stored messages by client_id, the leading column of the unique index (a
# row-value IN makes SQLite scan the table); built once, as building it cost more than running it
_STORED = select(events.c.room_id, events.c.author_id, events.c.client_id, events.c.seq).where(
    events.c.client_id.in_(bindparam("client_ids", expanding=True))
)
_INSERT_MESSAGES = "INSERT INTO events (room_id, seq, author_id, body, client_id, data, type, created_at) VALUES "
_UPDATE_LAST_SEQ = "UPDATE rooms SET last_seq = ? WHERE id = ?"
# PostgreSQL: the statements of the batch over arrays, the same text whatever the batch holds
# (one prepared statement, one plan, one round trip; a data-modifying WITH always runs)
_PG_STORE = (
    "WITH stored AS (INSERT INTO events (room_id, seq, author_id, body, client_id, data, type, created_at)"
    " SELECT * , 'message', $7::timestamptz FROM unnest($1::int[], $2::bigint[], $3::int[], $4::text[],"
    " $5::varchar[], $6::text[]))"
    " UPDATE rooms SET last_seq = counter.seq FROM unnest($8::int[], $9::bigint[]) AS counter(id, seq)"
    " WHERE rooms.id = counter.id"
)
_PG_STORED = (
    "SELECT e.room_id, e.author_id, e.client_id, e.seq"
    " FROM unnest($1::varchar[], $2::int[], $3::int[]) AS k(client_id, room_id, author_id)"
    " JOIN events e ON e.client_id = k.client_id AND e.room_id = k.room_id AND e.author_id = k.author_id"
)


def _store(
    conn: Connection,
    rows: list[tuple[int, int, int, str, str, str | None]],
    now: datetime,
    last_seq: dict[int, int],
) -> None:
    """Insert the batch's messages and move each touched room's counter, through the driver.

    The rows go to the driver as tuples, with the commit time converted once for the batch:
    SQLAlchemy's per-row parameter processing was a third of the writer's time (bench/README.md, W5).
    On PostgreSQL both are one statement over arrays (``_PG_STORE``): one round trip and one
    plan, where a per-row ``executemany`` was planned again for every row.
    """
    touched = sorted({row[0] for row in rows})
    if conn.dialect.name == "postgresql":
        columns = [list(column) for column in zip(*rows, strict=True)]
        conn.exec_driver_sql(_PG_STORE, (*columns, now, touched, [last_seq[room_id] for room_id in touched]))
        return
    to_db = events.c.created_at.type.bind_processor(conn.dialect)
    stamp = to_db(now) if to_db is not None else now
    conn.exec_driver_sql(_INSERT_MESSAGES + "(?, ?, ?, ?, ?, ?, ?, ?)", [(*row, "message", stamp) for row in rows])
    conn.exec_driver_sql(_UPDATE_LAST_SEQ, [(last_seq[room_id], room_id) for room_id in touched])


def _held_row(message: NewMessage, now: datetime, data: str | None) -> dict[str, Any]:
    return {
        "room_id": message.room_id,
        "author_id": message.author_id,
        "body": message.body,
        "client_id": message.client_id,
        "data": data,
        "status": "held",
        "created_at": now,
    }


def _members(conn: Connection, batch: list[NewMessage]) -> dict[tuple[int, int], _Member]:
    """(room, person) pairs of the batch that are members, with what decides their posting.

    One indexed query whatever the batch holds (a cached statement).
    """
    wanted = {(message.room_id, message.author_id) for message in batch}
    rows = conn.execute(_MEMBERS, {"ids": sorted({author for _, author in wanted})})
    return {
        key: _Member(
            Poster(row.role, _utc(row.listen_until), _utc(row.muted_until), _utc(row.last_posted_at)),
            bool(row.trusted),
        )
        for row in rows
        if (key := (row.room_id, row.user_id)) in wanted
    }


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _holding(conn: Connection, room_rows: dict[int, _Room], now: datetime) -> set[int]:
    """Rooms of the batch whose hold mode applies now; duty is read only where the schedule leaves it open."""
    undecided = {
        room_id: stored_schedule(room.schedule) for room_id, room in room_rows.items() if room.hold_mode != "off"
    }
    if not undecided:
        return set()
    unwatched = {
        room_id
        for room_id, schedule in undecided.items()
        if hold_applies(room_rows[room_id].hold_mode, monitored(schedule, room_rows[room_id].hold_mode, False, now))
    }
    ask = {room_id for room_id in unwatched if room_rows[room_id].hold_mode == "unmonitored"}
    watched = rooms_on_duty(conn, ask, now) if ask else set()
    return {
        room_id
        for room_id in unwatched
        if hold_applies(
            room_rows[room_id].hold_mode,
            monitored(undecided[room_id], room_rows[room_id].hold_mode, room_id in watched, now),
        )
    }


def _held_client_ids(
    conn: Connection, batch: list[NewMessage], room_rows: dict[int, _Room], untrusted: set[tuple[int, int]]
) -> set[tuple[int, int, str]]:
    """(room, author, client_id) of the batch already waiting for review (in holding rooms, or by untrusted members)."""
    wanted = {
        (m.room_id, m.author_id, m.client_id)
        for m in batch
        if m.room_id in room_rows and (room_rows[m.room_id].hold_mode != "off" or (m.room_id, m.author_id) in untrusted)
    }
    columns = (held_messages.c.client_id, held_messages.c.room_id, held_messages.c.author_id)
    rows = conn.execute(
        select(held_messages.c.room_id, held_messages.c.author_id, held_messages.c.client_id).where(
            _keys_in(conn, columns, wanted)
        )
    )
    return {key for row in rows if (key := (row.room_id, row.author_id, row.client_id)) in wanted}


def _stored_client_ids(conn: Connection, batch: list[NewMessage]) -> dict[tuple[int, int, str], int]:
    """Seqs of messages of the batch already stored, found through the unique index."""
    wanted = {(message.room_id, message.author_id, message.client_id) for message in batch}
    if conn.dialect.name == "postgresql":  # one prepared statement whatever the batch: _PG_STORED
        keys = sorted((client_id, room, author) for room, author, client_id in wanted)
        found = conn.exec_driver_sql(_PG_STORED, tuple(list(column) for column in zip(*keys, strict=True)))
        return {(room, author, client_id): seq for room, author, client_id, seq in found}
    rows = conn.execute(_STORED, {"client_ids": sorted({client_id for _, _, client_id in wanted})})
    return {key: row.seq for row in rows if (key := (row.room_id, row.author_id, row.client_id)) in wanted}


def _keys_in(conn: Connection, columns: tuple[Any, Any, Any], wanted: set[tuple[int, int, str]]) -> ColumnElement[bool]:
    """``(client_id, room_id, author_id)`` among the wanted keys, in the form each database indexes.

    PostgreSQL: all three columns of the unique index, so the planner knows each key matches
    at most one row and probes the index even without table statistics (matching client_id
    alone, it guesses half the table and scans all of it: bench/README.md, W5). SQLite: the
    leading column alone (a row-value IN makes SQLite scan the table).
    """
    if conn.dialect.name == "postgresql":
        keys = sorted((client_id, room, author) for room, author, client_id in wanted)
        condition: ColumnElement[bool] = tuple_(*columns).in_(keys)
    else:
        condition = columns[0].in_({client_id for _, _, client_id in wanted})
    return condition


async def append_event(
    conn: AsyncConnection,
    *,
    room_id: int,
    type_: str,
    subject: dict[str, Any] | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    """Store one non-message event (e.g. member_added) with the room's next seq."""
    (frame,) = await append_events(conn, room_id=room_id, type_=type_, subject=subject, datas=[data])
    return frame


async def append_events(
    conn: AsyncConnection,
    *,
    room_id: int,
    type_: str,
    subject: dict[str, Any] | None,
    datas: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Store non-message events of one type with the room's next seqs, one per ``data`` (one
    counter move and one insert for them all); their frames, in seq order."""
    if not datas:
        return []
    moved = await conn.execute(
        update(rooms)
        .where(rooms.c.id == room_id)
        .values(last_seq=rooms.c.last_seq + len(datas))
        .returning(rooms.c.last_seq)
    )
    first = moved.scalar_one() - len(datas) + 1
    now = utcnow()
    rows = [
        {
            "room_id": room_id,
            "seq": first + i,
            "type": type_,
            "author_id": subject["id"] if subject else None,
            "body": None,
            "client_id": None,
            "data": orjson.dumps(data).decode() if data else None,
            "created_at": now,
        }
        for i, data in enumerate(datas)
    ]
    await conn.execute(insert(events), rows)
    return [
        frame_of(
            room_id=room_id,
            seq=row["seq"],
            type_=type_,
            ts=now,
            author=subject,
            body=None,
            client_id=None,
            data=row["data"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class StoredMessage:
    """A message as reporting and removal need it: whose it is, and whether it was removed already."""

    author_id: int | None
    removed: bool


async def message_at(conn: AsyncConnection, room_id: int, seq: int) -> StoredMessage | None:
    """The message at ``seq`` in the room; None when there is no event there or it is not a message."""
    found = (
        await conn.execute(
            select(events.c.type, events.c.author_id, events.c.body).where(
                events.c.room_id == room_id, events.c.seq == seq
            )
        )
    ).first()
    if found is None or found.type != "message":
        return None
    return StoredMessage(author_id=found.author_id, removed=found.body is None)


async def history(
    conn: AsyncConnection, room_id: int, *, after: int | None = None, before: int | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], bool]:
    """Events of a room in ascending seq, as frames, and whether more lie beyond the page.

    ``after`` pages forwards (seq > after); ``before`` pages backwards (the latest events
    with seq < before); with neither, the latest ``limit`` events.
    """
    query = (
        select(
            events.c.seq,
            events.c.type,
            events.c.author_id,
            events.c.body,
            events.c.client_id,
            events.c.data,
            events.c.created_at,
            users.c.display_name,
        )
        .select_from(events.outerjoin(users, users.c.id == events.c.author_id))
        .where(events.c.room_id == room_id)
    )
    if after is not None:
        query = query.where(events.c.seq > after).order_by(events.c.seq).limit(limit + 1)
    else:
        if before is not None:
            query = query.where(events.c.seq < before)
        query = query.order_by(events.c.seq.desc()).limit(limit + 1)
    rows = list(await conn.execute(query))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if after is None:
        rows.reverse()
    frames = [
        frame_of(
            room_id=room_id,
            seq=row.seq,
            type_=row.type,
            ts=row.created_at,
            author=None if row.author_id is None else {"id": row.author_id, "display_name": row.display_name},
            body=row.body,
            client_id=row.client_id,
            data=row.data,
        )
        for row in rows
    ]
    return frames, has_more


async def last_seqs(conn: AsyncConnection, room_ids: list[int]) -> dict[int, int]:
    """The latest committed seq of each room (for catch-up and `sync` frames)."""
    found: dict[int, int] = {}
    for start in range(0, len(room_ids), 500):
        chunk = room_ids[start : start + 500]
        rows = await conn.execute(select(rooms.c.id, rooms.c.last_seq).where(rooms.c.id.in_(chunk)))
        found.update({row.id: row.last_seq for row in rows})
    return found


async def heads(conn: AsyncConnection, room_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Each room's latest seq and ``state_version``: the periodic pass learns both in one read."""
    found: dict[int, tuple[int, int]] = {}
    for start in range(0, len(room_ids), 500):
        chunk = room_ids[start : start + 500]
        rows = await conn.execute(
            select(rooms.c.id, rooms.c.last_seq, rooms.c.state_version).where(rooms.c.id.in_(chunk))
        )
        found.update({row.id: (row.last_seq, row.state_version) for row in rows})
    return found
