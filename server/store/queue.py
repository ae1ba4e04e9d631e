"""The moderation queue: reports, crisis alerts, concerns and held messages, and their review.

Invariants:
- A crisis item is inserted in the group-commit transaction that stores (or holds) the
  message that matched (``store.intake``), so an alert is never lost between commit and
  notification; the same goes for a held message's ``held`` item.
- Raising the same thing twice lands on one item (``dedupe_key``, inserted with ON
  CONFLICT DO NOTHING, so racing reporters in several processes still make one); each
  raiser is one ``queue_raisers`` row.
- An alert escalates at most once: a conditional UPDATE picks the overdue ones, so when
  several processes run the same pass, each item is won by exactly one.
- Message text is never copied into the queue: an item points at the event or held
  message, so a redacted body is gone from the queue too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from server.store.events import frame_of, iso
from server.store.intake import item_row
from server.store.models import (
    Enrollment,
    Event,
    HeldMessage,
    Membership,
    Program,
    QueueItem,
    QueueRaiser,
    Room,
    User,
)
from server.store.users import STAFF_ROLES

queue_items = QueueItem.__table__  # type: ignore[attr-defined]
raisers = QueueRaiser.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]
events = Event.__table__  # type: ignore[attr-defined]
held_messages = HeldMessage.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
enrollments = Enrollment.__table__  # type: ignore[attr-defined]
programs = Program.__table__  # type: ignore[attr-defined]

ALERT_KINDS = ("crisis", "concern")
RAISED_KINDS = ("report", "concern")
MAX_ITEMS = 200


def _insert_ignoring_conflict(conn: AsyncConnection, table: Any, values: dict[str, Any]) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(**values).on_conflict_do_nothing()


@dataclass(frozen=True)
class Raised:
    """What raising a report or concern did: the item, whether it is new, whether it changed."""

    item_id: int
    created: bool
    changed: bool  # a new item, a new raiser, or a closed item opened again


async def raise_item(
    conn: AsyncConnection,
    *,
    kind: str,
    room_id: int,
    program_id: int | None,
    seq: int,
    subject_id: int | None,
    raiser_id: int,
    reason: str | None,
    now: datetime,
) -> Raised:
    """Report a message or raise a concern about its writer; the same message twice is one item.

    A new raiser of an item that was resolved or dismissed opens it again: it has new
    information a moderator has not seen.
    """
    row = item_row(kind, room_id, program_id, subject_id, now, f"{kind}:{room_id}:{seq}")
    row["target_seq"] = seq
    inserted = await conn.execute(_insert_ignoring_conflict(conn, queue_items, row).returning(queue_items.c.id))
    new_id = inserted.scalar_one_or_none()
    found = (
        await conn.execute(
            select(queue_items.c.id, queue_items.c.status).where(queue_items.c.dedupe_key == row["dedupe_key"])
        )
    ).one()
    added = await conn.execute(
        _insert_ignoring_conflict(
            conn, raisers, {"item_id": found.id, "user_id": raiser_id, "reason": reason, "created_at": now}
        )
    )
    changed = new_id is not None or added.rowcount > 0
    if added.rowcount > 0 and found.status != "open":
        await conn.execute(
            update(queue_items)
            .where(queue_items.c.id == found.id)
            .values(
                status="open",
                created_at=now,
                resolved_by=None,
                resolved_at=None,
                resolution=None,
                acknowledged_by=None,
                acknowledged_at=None,
                escalated_at=None,
            )
        )
    return Raised(item_id=found.id, created=new_id is not None, changed=changed)


@dataclass(frozen=True)
class ItemRef:
    """Where an item lives, to decide who may act on it and who hears about it."""

    id: int
    kind: str
    status: str
    room_id: int
    program_id: int | None
    subject_id: int | None
    held_id: int | None
    acknowledged: bool


async def item_ref(conn: AsyncConnection, item_id: int) -> ItemRef | None:
    row = (await conn.execute(select(queue_items).where(queue_items.c.id == item_id))).first()
    if row is None:
        return None
    return ItemRef(
        id=row.id,
        kind=row.kind,
        status=row.status,
        room_id=row.room_id,
        program_id=row.program_id,
        subject_id=row.subject_id,
        held_id=row.held_id,
        acknowledged=row.acknowledged_at is not None,
    )


async def acknowledge(conn: AsyncConnection, item_id: int, by: int, now: datetime) -> bool:
    """Acknowledge an item (an alert stops escalating); False when it was acknowledged already."""
    result = await conn.execute(
        update(queue_items)
        .where(queue_items.c.id == item_id, queue_items.c.acknowledged_at.is_(None))
        .values(acknowledged_by=by, acknowledged_at=now)
    )
    return result.rowcount > 0


async def close(
    conn: AsyncConnection,
    where: ColumnElement[bool],
    *,
    status: str,
    by: int | None,
    reason: str | None,
    now: datetime,
) -> list[int]:
    """Resolve or dismiss the open items ``where`` selects; the ids that were still open.

    Closing an item also acknowledges it: a decided alert must not escalate.
    """
    result = await conn.execute(
        update(queue_items)
        .where(where, queue_items.c.status == "open")
        .values(
            status=status,
            resolved_by=by,
            resolved_at=now,
            resolution=reason,
            acknowledged_by=func.coalesce(queue_items.c.acknowledged_by, by),
            acknowledged_at=func.coalesce(queue_items.c.acknowledged_at, now),
        )
        .returning(queue_items.c.id)
    )
    return list(result.scalars())


def item_is(item_id: int) -> ColumnElement[bool]:
    return queue_items.c.id == item_id  # type: ignore[no-any-return]


def items_are(item_ids: Iterable[int]) -> ColumnElement[bool]:
    return queue_items.c.id.in_(list(item_ids))  # type: ignore[no-any-return]


def reports_on(room_id: int, seq: int) -> ColumnElement[bool]:
    """The reports of one message (not a crisis alert or a concern about its writer: those are
    about the person, and removing the message does not settle them)."""
    return and_(queue_items.c.kind == "report", queue_items.c.room_id == room_id, queue_items.c.target_seq == seq)


def held_item_of(held_id: int) -> ColumnElement[bool]:
    """The review-queue item of a held message (not its crisis alert, which stays until acknowledged)."""
    return and_(queue_items.c.held_id == held_id, queue_items.c.kind == "held")


def _due(cutoff: datetime) -> ColumnElement[bool]:
    """Open alerts nobody acknowledged or escalated, raised before ``cutoff``: one definition for
    the cheap look (``any_due``) and the write that wins them (``escalate_due``)."""
    return and_(
        queue_items.c.kind.in_(ALERT_KINDS),
        queue_items.c.status == "open",
        queue_items.c.acknowledged_at.is_(None),
        queue_items.c.escalated_at.is_(None),
        queue_items.c.created_at < cutoff,
    )


async def any_due(conn: AsyncConnection, cutoff: datetime) -> bool:
    """Whether any alert is due (a read), so most passes skip the write transaction."""
    return (await conn.execute(select(queue_items.c.id).where(_due(cutoff)).limit(1))).first() is not None


async def escalate_due(conn: AsyncConnection, cutoff: datetime, now: datetime) -> list[int]:
    """Mark open, unacknowledged alerts raised before ``cutoff`` as escalated; the ids this call won."""
    result = await conn.execute(
        update(queue_items).where(_due(cutoff)).values(escalated_at=now).returning(queue_items.c.id)
    )
    return list(result.scalars())


@dataclass(frozen=True)
class Watchers:
    """Who hears about a room's items: its moderators, and the active staff of its program."""

    moderators: frozenset[int]
    staff: frozenset[int]
    peers: frozenset[int]  # moderators who are not staff (e.g. peer-support specialists): display names only

    @property
    def everyone(self) -> frozenset[int]:
        return self.moderators | self.staff


async def watchers(conn: AsyncConnection, room_id: int, program_id: int | None) -> Watchers:
    moderators = {
        row.user_id: row.role
        for row in await conn.execute(
            select(memberships.c.user_id, users.c.role)
            .join(users, users.c.id == memberships.c.user_id)
            .where(memberships.c.room_id == room_id, memberships.c.role == "moderator")
        )
    }
    staff: Iterable[int] = ()
    if program_id is not None:
        staff = (
            await conn.execute(
                select(enrollments.c.user_id).where(
                    enrollments.c.program_id == program_id,
                    enrollments.c.role == "staff",
                    enrollments.c.status == "active",
                )
            )
        ).scalars()
    return Watchers(
        moderators=frozenset(moderators),
        staff=frozenset(staff),
        peers=frozenset(user for user, role in moderators.items() if role not in STAFF_ROLES),
    )


def about(program_id: int, subject_id: int) -> ColumnElement[bool]:
    """Items of this program whose subject is this person (their moderation history)."""
    return and_(queue_items.c.program_id == program_id, queue_items.c.subject_id == subject_id)


def visible_to(
    managed_programs: Iterable[int] | None,
    moderated_rooms: Iterable[int],
    *,
    status: str | None = None,
    program_id: int | None = None,
) -> ColumnElement[bool]:
    """Items a person may see: of programs they manage (None: every program, for admins) or rooms they
    moderate; narrowed to one status and one program when given (the queue's filters)."""
    rooms_part = queue_items.c.room_id.in_(list(moderated_rooms))
    if managed_programs is None:
        where = or_(queue_items.c.id.is_not(None), rooms_part)
    else:
        where = or_(queue_items.c.program_id.in_(list(managed_programs)), rooms_part)
    if status is not None:
        where = and_(where, queue_items.c.status == status)
    if program_id is not None:
        where = and_(where, queue_items.c.program_id == program_id)
    return where


async def items(
    conn: AsyncConnection,
    where: ColumnElement[bool],
    viewer_id: int | None,
    staff: bool = True,
    limit: int = MAX_ITEMS,
) -> list[dict[str, Any]]:
    """Items as JSON, unacknowledged open alerts first, then newest first.

    A concern's raisers are left out for its own subject (a moderator writing in a room they
    moderate): the writer is never told who worried about them.
    """
    ack_user, done_user = users.alias("ack_user"), users.alias("done_user")
    alert_first = case(
        (
            and_(
                queue_items.c.kind.in_(ALERT_KINDS),
                queue_items.c.status == "open",
                queue_items.c.acknowledged_at.is_(None),
            ),
            0,
        ),
        else_=1,
    )
    query = (
        select(
            queue_items,
            rooms.c.name.label("room_name"),
            users.c.username,
            users.c.display_name,
            users.c.real_name,
            events.c.body.label("event_body"),
            held_messages.c.body.label("held_body"),
            ack_user.c.display_name.label("ack_name"),
            done_user.c.display_name.label("done_name"),
        )
        .select_from(
            queue_items.join(rooms, rooms.c.id == queue_items.c.room_id)
            .outerjoin(users, users.c.id == queue_items.c.subject_id)
            .outerjoin(
                events, and_(events.c.room_id == queue_items.c.room_id, events.c.seq == queue_items.c.target_seq)
            )
            .outerjoin(held_messages, held_messages.c.id == queue_items.c.held_id)
            .outerjoin(ack_user, ack_user.c.id == queue_items.c.acknowledged_by)
            .outerjoin(done_user, done_user.c.id == queue_items.c.resolved_by)
        )
        .where(where)
        .order_by(alert_first, queue_items.c.created_at.desc(), queue_items.c.id.desc())
        .limit(limit)
    )
    rows = list(await conn.execute(query))
    raised: dict[int, list[dict[str, Any]]] = {row.id: [] for row in rows}
    if rows:
        for raiser in await conn.execute(
            select(raisers.c.item_id, raisers.c.user_id, raisers.c.reason, users.c.display_name)
            .join(users, users.c.id == raisers.c.user_id)
            .where(raisers.c.item_id.in_(list(raised)))
            .order_by(raisers.c.created_at, raisers.c.user_id)
        ):
            raised[raiser.item_id].append(
                {"id": raiser.user_id, "display_name": raiser.display_name, "reason": raiser.reason}
            )
    return [for_viewer(_item_json(row, raised[row.id]), viewer_id, staff) for row in rows]


def for_viewer(item: dict[str, Any], viewer_id: int | None, staff: bool = True) -> dict[str, Any]:
    """The item as one person may see it: a concern's subject never learns who raised it, and
    a moderator who is not staff sees the subject's display name only, as peers do."""
    subject = item["subject"]
    if item["kind"] == "concern" and subject is not None and subject["id"] == viewer_id:
        item = {**item, "raised_by": []}
    if not staff and subject is not None:
        item = {**item, "subject": {"id": subject["id"], "display_name": subject["display_name"]}}
    return item


def _item_json(row: Any, raised_by: list[dict[str, Any]]) -> dict[str, Any]:
    subject = None
    if row.subject_id is not None:
        subject = {
            "id": row.subject_id,
            "display_name": row.display_name,
            "real_name": row.real_name,
            "username": row.username,
        }
    body = row.event_body if row.target_seq is not None else row.held_body
    return {
        "id": row.id,
        "program": row.program_id,
        "room": row.room_id,
        "room_name": row.room_name,
        "kind": row.kind,
        "status": row.status,
        "target_seq": row.target_seq,
        "held_id": row.held_id,
        "subject": subject,
        "excerpt": body,
        "raised_by": raised_by,
        "count": len(raised_by),
        "created_at": iso(row.created_at),
        "acknowledged": None
        if row.acknowledged_at is None
        else {"by": {"id": row.acknowledged_by, "display_name": row.ack_name}, "at": iso(row.acknowledged_at)},
        "overdue": row.escalated_at is not None and row.acknowledged_at is None and row.status == "open",
        "escalated_at": None if row.escalated_at is None else iso(row.escalated_at),
        "resolved": None
        if row.resolved_at is None
        else {
            "by": None if row.resolved_by is None else {"id": row.resolved_by, "display_name": row.done_name},
            "at": iso(row.resolved_at),
            "outcome": row.status,
            "reason": row.resolution,
        },
    }


# held messages: review


async def held_in_room(conn: AsyncConnection, room_id: int) -> list[dict[str, Any]]:
    """Messages of the room waiting for review, oldest first, with their authors as staff see them."""
    rows = await conn.execute(
        select(held_messages, users.c.username, users.c.display_name, users.c.real_name)
        .join(users, users.c.id == held_messages.c.author_id)
        .where(held_messages.c.room_id == room_id, held_messages.c.status == "held")
        .order_by(held_messages.c.id)
    )
    return [
        {
            "id": row.id,
            "room": row.room_id,
            "author": {
                "id": row.author_id,
                "username": row.username,
                "display_name": row.display_name,
                "real_name": row.real_name,
            },
            "body": row.body,
            "client_id": row.client_id,
            "created_at": iso(row.created_at),
            "reply_to": orjson.loads(row.data)["reply_to"] if row.data else None,
        }
        for row in rows
    ]


@dataclass(frozen=True)
class Held:
    """A held message, locked for a decision."""

    id: int
    room_id: int
    program_id: int | None
    author_id: int
    client_id: str
    status: str


async def held_message(conn: AsyncConnection, room_id: int, held_id: int) -> Held | None:
    """The held message of this room, its row locked until the transaction ends (one decision wins)."""
    row = (
        await conn.execute(
            select(held_messages, rooms.c.program_id)
            .join(rooms, rooms.c.id == held_messages.c.room_id)
            .where(held_messages.c.id == held_id, held_messages.c.room_id == room_id)
            .with_for_update(of=held_messages)
        )
    ).first()
    if row is None:
        return None
    return Held(row.id, row.room_id, row.program_id, row.author_id, row.client_id, row.status)


@dataclass(frozen=True)
class Approved:
    """An approved message: its seq, and its frame to publish (None: it was already posted)."""

    seq: int
    frame: dict[str, Any] | None
    closed: list[int]  # queue items the decision closed
    trusted_now: bool  # the author's first posts are no longer held in the program


async def approve(conn: AsyncConnection, held: Held, by: int, now: datetime) -> Approved:
    """Post a held message with the room's next seq, unless the same (room, author, client_id)
    is in the history already (a retry after the hold stopped applying posted it): then only
    mark it approved with that seq."""
    seq = (
        await conn.execute(
            select(events.c.seq).where(
                events.c.client_id == held.client_id,
                events.c.room_id == held.room_id,
                events.c.author_id == held.author_id,
            )
        )
    ).scalar_one_or_none()
    frame = None
    if seq is None:
        row = (
            await conn.execute(
                select(held_messages.c.body, held_messages.c.data, users.c.display_name)
                .join(users, users.c.id == held_messages.c.author_id)
                .where(held_messages.c.id == held.id)
            )
        ).one()
        seq = (
            await conn.execute(
                update(rooms)
                .where(rooms.c.id == held.room_id)
                .values(last_seq=rooms.c.last_seq + 1)
                .returning(rooms.c.last_seq)
            )
        ).scalar_one()
        await conn.execute(
            insert(events).values(
                room_id=held.room_id,
                seq=seq,
                type="message",
                author_id=held.author_id,
                body=row.body,
                client_id=held.client_id,
                data=row.data,
                created_at=now,
            )
        )
        author = {"id": held.author_id, "display_name": row.display_name}
        frame = frame_of(
            room_id=held.room_id,
            seq=seq,
            type_="message",
            ts=now,
            author=author,
            body=row.body,
            client_id=held.client_id,
            data=row.data,
        )
    await _decide(conn, held, "approved", by, now, seq)
    await conn.execute(  # the message's crisis alert now points at the posted message
        update(queue_items)
        .where(queue_items.c.held_id == held.id, queue_items.c.kind == "crisis")
        .values(target_seq=seq)
    )
    closed = await close(conn, held_item_of(held.id), status="resolved", by=by, reason="approved", now=now)
    return Approved(seq=seq, frame=frame, closed=closed, trusted_now=await _maybe_trust(conn, held))


async def reject(conn: AsyncConnection, held: Held, by: int, reason: str | None, now: datetime) -> list[int]:
    """The held message is never posted; the queue items it closed."""
    await _decide(conn, held, "rejected", by, now, None)
    return await close(conn, held_item_of(held.id), status="dismissed", by=by, reason=reason, now=now)


async def _decide(conn: AsyncConnection, held: Held, status: str, by: int, now: datetime, seq: int | None) -> None:
    await conn.execute(
        update(held_messages)
        .where(held_messages.c.id == held.id)
        .values(status=status, seq=seq, decided_by=by, decided_at=now)
    )


def _program_rooms(program_id: int) -> Any:
    return select(rooms.c.id).where(rooms.c.program_id == program_id).scalar_subquery()


async def _maybe_trust(conn: AsyncConnection, held: Held) -> bool:
    """After ``hold_first_posts`` approvals of theirs in the program, a member's posts are no longer held."""
    if held.program_id is None or await approvals_needed(conn, held.program_id, held.author_id):
        return False
    return await set_trust(conn, held.program_id, True, user_id=held.author_id) > 0


async def set_trust(conn: AsyncConnection, program_id: int, trusted: bool, *, user_id: int | None = None) -> int:
    """Trust (or not) memberships in the program's rooms: one person's, or everyone's; how many changed."""
    where = [memberships.c.room_id.in_(_program_rooms(program_id)), memberships.c.trusted.is_(not trusted)]
    if user_id is not None:
        where.append(memberships.c.user_id == user_id)
    result = await conn.execute(update(memberships).where(*where).values(trusted=trusted))
    return result.rowcount


async def approvals_needed(conn: AsyncConnection, program_id: int, user_id: int) -> bool:
    """Whether the program holds first posts and the person has had fewer approved than it asks."""
    needed = (
        await conn.execute(select(programs.c.hold_first_posts).where(programs.c.id == program_id))
    ).scalar_one_or_none()
    if not needed:
        return False
    approved = (
        await conn.execute(
            select(func.count())
            .select_from(held_messages)
            .where(
                held_messages.c.author_id == user_id,
                held_messages.c.status == "approved",
                held_messages.c.room_id.in_(_program_rooms(program_id)),
            )
        )
    ).scalar_one()
    return bool(approved < needed)
