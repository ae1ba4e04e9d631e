"""The moderation queue over HTTP: reports and concerns from members, the queue and its
decisions for moderators, and the review of held messages.

Invariant: each decision is one write transaction that also writes its audit entry; the
live effects (``queue``/``alert`` frames, the approved message, the author's notice) go out
only after it committed. A member who reports or raises a concern learns nothing about the
item beyond its id, and the writer is never told who raised a concern.

Who: reports and concerns, any member of the room (any role). The queue, acknowledging and
resolving: admins, the room's moderators, the active staff of its program
(``may_run_room``). Held messages: the same people, for the room.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.http.common import ApiError, decimal, json, parse, services_of, session_of
from server.http.program_access import may_run_room, path_id, room_path_id
from server.protocol import MAX_ID, ErrorCode
from server.services import Services
from server.store import audit
from server.store import enrollments as enrollment_store
from server.store import queue as queue_store
from server.store import rooms as room_store
from server.store.database import utcnow
from server.store.events import message_at
from server.store.users import Person

Reason = Annotated[str, Field(min_length=1, max_length=500)]


class ReportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason | None = None


class ConcernBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Reason | None = None


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["actioned", "dismissed"]
    reason: Reason | None = None


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason | None = None


def _id(request: Request, name: str, what: str) -> int:
    found = path_id(request, name)
    if found is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"no such {what}")
    return found


async def _raise(request: Request, kind: str, reason: str | None) -> Response:
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    seq = _id(request, "seq", "message")
    async with services.db.write() as conn:
        if await room_store.role_in(conn, room_id, session.person.id) is None:
            raise ApiError(ErrorCode.NOT_MEMBER, "no such room, or you are not a member of it")
        target = await message_at(conn, room_id, seq)
        if target is None:
            raise ApiError(ErrorCode.NOT_FOUND, "no such message in this room")
        if target.removed:
            raise ApiError(ErrorCode.CONFLICT, "this message was removed already")
        raised = await queue_store.raise_item(
            conn,
            kind=kind,
            room_id=room_id,
            program_id=await room_store.program_of(conn, room_id),
            seq=seq,
            subject_id=target.author_id,
            raiser_id=session.person.id,
            reason=reason,
            now=utcnow(),
        )
    if raised.changed:
        await services.hub.alerts.tell([raised.item_id], alert=kind == "concern")
    return json({"item": raised.item_id}, 201 if raised.created else 200)


async def report(request: Request) -> Response:
    """POST /api/rooms/{id}/messages/{seq}/report {reason}: harmful content, for the queue."""
    return await _raise(request, "report", (await parse(request, ReportBody)).reason)


async def concern(request: Request) -> Response:
    """POST /api/rooms/{id}/messages/{seq}/concern {note?}: "I'm worried about this person"."""
    return await _raise(request, "concern", (await parse(request, ConcernBody)).note)


async def _scope(conn: AsyncConnection, person: Person) -> tuple[list[int] | None, list[int]]:
    """The programs (None: all, for admins) and rooms whose items this person may see; forbidden
    for someone who moderates nothing."""
    moderated = await room_store.moderated_by(conn, person.id)
    if person.role == "admin":
        return None, moderated
    managed = [
        standing.program_id
        for standing in await enrollment_store.standings_of(conn, person.id)
        if standing.role == "staff" and standing.status == "active" and person.is_staff
    ]
    if not managed and not moderated:
        raise ApiError(ErrorCode.FORBIDDEN, "only moderators and program staff have a queue")
    return managed, moderated


async def list_queue(request: Request) -> Response:
    """GET /api/queue?status=open|resolved|dismissed|all&program=ID"""
    services = services_of(request)
    session = await session_of(request)
    status = request.query_params.get("status", "open")
    if status not in ("open", "resolved", "dismissed", "all"):
        raise ApiError(ErrorCode.INVALID, "status: open, resolved, dismissed or all", field="status")
    raw_program = request.query_params.get("program")
    program = decimal(raw_program, 0, MAX_ID)
    if raw_program is not None and program is None:
        raise ApiError(ErrorCode.INVALID, "program: a program id", field="program")
    async with services.db.read() as conn:
        managed, moderated = await _scope(conn, session.person)
        where = queue_store.visible_to(
            managed,
            moderated,
            status=None if status == "all" else status,
            program_id=program,
        )
        found = await queue_store.items(conn, where, session.person.id, session.person.is_staff)
    return json({"items": found})


async def _item_for(conn: AsyncConnection, person: Person, item_id: int) -> queue_store.ItemRef:
    ref = await queue_store.item_ref(conn, item_id)
    if ref is None:
        raise ApiError(ErrorCode.NOT_FOUND, "no such queue item")
    role = await room_store.role_in(conn, ref.room_id, person.id)
    if not await may_run_room(conn, person, role, ref.program_id):
        raise ApiError(ErrorCode.FORBIDDEN, "only the room's moderators, its program's staff and admins may")
    return ref


def _entry(person: Person, action: str, ref: queue_store.ItemRef, reason: str | None = None) -> audit.Entry:
    return audit.Entry(
        person.id,
        action,
        program_id=ref.program_id,
        room_id=ref.room_id,
        target_user_id=ref.subject_id,
        target=f"queue {ref.id}",
        reason=reason,
        detail={"kind": ref.kind},
    )


async def acknowledge(request: Request) -> Response:
    """POST /api/queue/{id}/ack: I have seen it (an alert stops escalating); again: no change."""
    services = services_of(request)
    session = await session_of(request)
    item_id = _id(request, "item_id", "queue item")
    async with services.db.write() as conn:
        ref = await _item_for(conn, session.person, item_id)
        changed = await queue_store.acknowledge(conn, item_id, session.person.id, utcnow())
        if changed:
            await audit.record(conn, _entry(session.person, "queue.ack", ref))
    if changed:
        await services.hub.alerts.tell([item_id])
    return await _answer(services, session.person, item_id)


async def _answer(services: Services, person: Person, item_id: int) -> Response:
    """The item as it stands now, as this person may see it."""
    async with services.db.read() as conn:
        found = await queue_store.items(conn, queue_store.item_is(item_id), person.id, person.is_staff)
    return json({"item": found[0]})


async def resolve(request: Request) -> Response:
    """POST /api/queue/{id}/resolve {outcome: actioned|dismissed, reason?}"""
    services = services_of(request)
    session = await session_of(request)
    item_id = _id(request, "item_id", "queue item")
    body = await parse(request, ResolveBody)
    status = "resolved" if body.outcome == "actioned" else "dismissed"
    async with services.db.write() as conn:
        ref = await _item_for(conn, session.person, item_id)
        if ref.kind == "held" and ref.status == "open":
            raise ApiError(ErrorCode.CONFLICT, "approve or reject the held message instead")
        closed = await queue_store.close(
            conn, queue_store.item_is(item_id), status=status, by=session.person.id, reason=body.reason, now=utcnow()
        )
        if not closed:
            raise ApiError(ErrorCode.CONFLICT, f"this item is {ref.status} already")
        action = "queue.resolve" if status == "resolved" else "queue.dismiss"
        await audit.record(conn, _entry(session.person, action, ref, body.reason))
    await services.hub.alerts.tell([item_id])
    return await _answer(services, session.person, item_id)


async def _moderated_room(conn: AsyncConnection, person: Person, room_id: int) -> None:
    """Held messages are the room's moderators' (and program staff's, and admins') to see and decide."""
    role = await room_store.role_in(conn, room_id, person.id)
    program_id = await room_store.program_of(conn, room_id)
    if not await room_store.exists(conn, room_id) or (
        role is None and not await may_run_room(conn, person, None, program_id)
    ):
        raise ApiError(ErrorCode.NOT_MEMBER, "no such room, or you are not a member of it")
    if not await may_run_room(conn, person, role, program_id):
        raise ApiError(ErrorCode.FORBIDDEN, "only the room's moderators, its program's staff and admins may")


async def list_held(request: Request) -> Response:
    """GET /api/rooms/{id}/held: messages waiting for review, oldest first."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    async with services.db.read() as conn:
        await _moderated_room(conn, session.person, room_id)
        return json({"held": await queue_store.held_in_room(conn, room_id)})


async def _held(conn: AsyncConnection, person: Person, request: Request) -> queue_store.Held:
    room_id = room_path_id(request)
    await _moderated_room(conn, person, room_id)
    held = await queue_store.held_message(conn, room_id, _id(request, "held_id", "held message"))
    if held is None:
        raise ApiError(ErrorCode.NOT_FOUND, "no such held message in this room")
    if held.status != "held":
        raise ApiError(ErrorCode.CONFLICT, f"this message was {held.status} already", status=held.status)
    return held


def _held_entry(
    person: Person, action: str, held: queue_store.Held, *, reason: str | None = None, seq: int | None = None
) -> audit.Entry:
    return audit.Entry(
        person.id,
        action,
        program_id=held.program_id,
        room_id=held.room_id,
        target_user_id=held.author_id,
        target=f"held {held.id}",
        reason=reason,
        detail=None if seq is None else {"seq": seq},
    )


async def approve(request: Request) -> Response:
    """POST /api/rooms/{id}/held/{held_id}/approve: post it with the room's next seq."""
    services = services_of(request)
    session = await session_of(request)
    async with services.db.write() as conn:
        held = await _held(conn, session.person, request)
        approved = await queue_store.approve(conn, held, session.person.id, utcnow())
        await audit.record(conn, _held_entry(session.person, "held.approve", held, seq=approved.seq))
    if approved.frame is not None:
        services.hub.publish_stored(held.room_id, approved.seq, approved.frame)
    services.hub.notify_user(
        held.author_id,
        {"type": "held_approved", "room": held.room_id, "client_id": held.client_id, "seq": approved.seq},
    )
    await services.hub.alerts.tell(approved.closed)
    return json({"seq": approved.seq})


async def reject(request: Request) -> Response:
    """POST /api/rooms/{id}/held/{held_id}/reject {reason?}: never posted; the author is told."""
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, RejectBody)
    async with services.db.write() as conn:
        held = await _held(conn, session.person, request)
        closed = await queue_store.reject(conn, held, session.person.id, body.reason, utcnow())
        await audit.record(conn, _held_entry(session.person, "held.reject", held, reason=body.reason))
    services.hub.notify_user(
        held.author_id,
        {"type": "held_rejected", "room": held.room_id, "client_id": held.client_id, "reason": body.reason},
    )
    await services.hub.alerts.tell(closed)
    return json({"id": held.id, "status": "rejected"})


ROUTES = [
    Route("/api/rooms/{room_id}/messages/{seq}/report", report, methods=["POST"]),
    Route("/api/rooms/{room_id}/messages/{seq}/concern", concern, methods=["POST"]),
    Route("/api/queue", list_queue, methods=["GET"]),
    Route("/api/queue/{item_id}/ack", acknowledge, methods=["POST"]),
    Route("/api/queue/{item_id}/resolve", resolve, methods=["POST"]),
    Route("/api/rooms/{room_id}/held", list_held, methods=["GET"]),
    Route("/api/rooms/{room_id}/held/{held_id}/approve", approve, methods=["POST"]),
    Route("/api/rooms/{room_id}/held/{held_id}/reject", reject, methods=["POST"]),
]
