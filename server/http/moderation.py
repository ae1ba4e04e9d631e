"""A moderator's room actions over HTTP: remove a message, mute, remove a person, ban.

Invariant: each action is one write transaction that also appends its audit entry
(``server.store.audit``); only after it commits does the action go live on every process
(the stored event published, the person's sockets told, kicked or closed). Room actions
belong to whoever runs the room (``may_run_room``); bans to whoever moderates the program
(``require_moderator``). Anyone else learns nothing about the room or program.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import lifecycle
from server import moderation as moderation_live
from server.http.common import ApiError, json, parse, publish, services_of, session_of
from server.http.program_access import may_run_room, path_id, require_moderator, room_path_id
from server.protocol import MAX_ID, ErrorCode
from server.store import audit
from server.store import duty as duty_store
from server.store import moderation as moderation_store
from server.store import queue as queue_store
from server.store import rooms as room_store
from server.store import users as user_store
from server.store.audit import Entry
from server.store.database import utcnow
from server.store.duty import RoomInfo
from server.store.enrollments import Change
from server.store.events import iso
from server.store.users import Person

MUTE_MAX_MINUTES = 30 * 24 * 60
# the resolution of a message's open reports when a moderator removes it: what they asked for was done
REPORTS_SETTLED = "the message was removed"
ERASED_ALREADY = {  # removing a message whose text another erasure took: what the 409 says
    "deleted": "this message was erased already: its writer deleted their account",
    "expired": "this message was erased already: the program's retention period passed",
    "moderator": "this message was removed already",
}
UserId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Model = TypeVar("Model", bound=BaseModel)


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason | None = None


class MuteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: UserId
    minutes: Annotated[int, Field(strict=True, ge=1, le=MUTE_MAX_MINUTES)]
    reason: Reason | None = None


class BanBody(BaseModel):
    """Ending someone's access needs a reason on the record (as a withdrawal does)."""

    model_config = ConfigDict(extra="forbid")
    user: UserId
    reason: Reason


async def _optional(request: Request, model: type[Model]) -> Model:
    """A body that may be left out altogether (DELETE with nothing to say)."""
    if request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers:
        return model()
    return await parse(request, model)


async def _room(conn: AsyncConnection, person: Person, room_id: int) -> RoomInfo:
    """The room, if the caller runs it; outsiders are told only ``not_member``, members ``forbidden``."""
    room = await duty_store.room_info(conn, room_id)
    role = None if room is None else await room_store.role_in(conn, room_id, person.id)
    if room is not None and await may_run_room(conn, person, role, room.program_id):
        return room
    if room is None or role is None:
        raise ApiError(ErrorCode.NOT_MEMBER, "no such room, or you are not a member of it")
    raise ApiError(ErrorCode.FORBIDDEN, "only the room's moderators, its program's staff and admins may")


async def _member(conn: AsyncConnection, room_id: int, user_id: int | None) -> tuple[Person, str]:
    """The person the request names and their role in the room; the room's moderators are off limits."""
    person = None if user_id is None else await user_store.by_id(conn, user_id)
    role = None if person is None else await room_store.role_in(conn, room_id, person.id)
    if person is None or role is None:
        raise ApiError(ErrorCode.NOT_FOUND, "this person is not a member of the room", field="user")
    if role == "moderator":
        raise ApiError(ErrorCode.CONFLICT, "moderators of the room are not muted or removed", field="user")
    return person, role


async def remove_message(request: Request) -> Response:
    """DELETE /api/rooms/{id}/messages/{seq}: the message becomes a tombstone (again: the first
    removal; erased by a deletion or retention: 409, nothing stored or audited)."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    target = path_id(request, "seq")
    body = await _optional(request, ReasonBody)
    async with services.db.write() as conn:
        room = await _room(conn, session.person, room_id)
        try:
            redaction = None if target is None else await moderation_store.redact(conn, room_id=room_id, target=target)
        except moderation_store.ErasedAlready as exc:
            raise ApiError(ErrorCode.CONFLICT, ERASED_ALREADY[exc.reason], removed=exc.reason) from None
        if redaction is None or target is None:
            raise ApiError(ErrorCode.NOT_FOUND, "no such message in this room")
        resolved: list[int] = []
        if redaction.frame is not None:
            resolved = await queue_store.close(
                conn,
                queue_store.reports_on(room_id, target),
                status="resolved",
                by=session.person.id,
                reason=REPORTS_SETTLED,
                now=utcnow(),
            )
            entry = Entry(
                actor_id=session.person.id,
                action="message.remove",
                program_id=room.program_id,
                room_id=room_id,
                target_user_id=redaction.author_id,
                target=f"seq {target}",
                reason=body.reason,
                detail={"reports_resolved": resolved} if resolved else None,
            )
            await audit.record(conn, entry)
    if redaction.frame is not None:
        services.hub.publish_stored(room_id, redaction.seq, redaction.frame)
    if resolved:
        await services.hub.alerts.tell(resolved)
    return json({"room": room_id, "target": target, "seq": redaction.seq})


async def mute(request: Request) -> Response:
    """POST /api/rooms/{id}/mutes {user, minutes, reason?}: their sends get ``muted`` until then."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    body = await parse(request, MuteBody)
    until = utcnow().replace(microsecond=0) + timedelta(minutes=body.minutes)
    async with services.db.write() as conn:
        room = await _room(conn, session.person, room_id)
        person, _ = await _member(conn, room_id, body.user)
        await moderation_store.mute(conn, user_id=person.id, room_ids=[room_id], until=until)
        entry = Entry(
            actor_id=session.person.id,
            action="member.mute",
            program_id=room.program_id,
            room_id=room_id,
            target_user_id=person.id,
            reason=body.reason,
            detail={"minutes": body.minutes, "until": iso(until)},
        )
        await audit.record(conn, entry)
    moderation_live.announce_mute(services.hub, person.id, room_id, until, body.reason)
    return json({"room": room_id, "user": person.id, "until": iso(until)})


async def unmute(request: Request) -> Response:
    """DELETE /api/rooms/{id}/mutes/{user}: they may post again now."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    body = await _optional(request, ReasonBody)
    async with services.db.write() as conn:
        room = await _room(conn, session.person, room_id)
        person, _ = await _member(conn, room_id, path_id(request, "user_id"))
        changed = await moderation_store.mute(conn, user_id=person.id, room_ids=[room_id], until=None)
        if changed:
            entry = Entry(
                actor_id=session.person.id,
                action="member.unmute",
                program_id=room.program_id,
                room_id=room_id,
                target_user_id=person.id,
                reason=body.reason,
            )
            await audit.record(conn, entry)
    if changed:
        moderation_live.announce_mute(services.hub, person.id, room_id, None, body.reason)
    return json({"room": room_id, "user": person.id, "until": None})


async def remove_member(request: Request) -> Response:
    """DELETE /api/rooms/{id}/members/{user}: out of the room now; their sockets leave it on every
    process. It lasts: enrollment changes do not bring them back, only a moderator adding them."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    body = await _optional(request, ReasonBody)
    async with services.db.write() as conn:
        room = await _room(conn, session.person, room_id)
        person, _ = await _member(conn, room_id, path_id(request, "user_id"))
        frame = await room_store.remove_member(conn, room_id=room_id, person=person, reason="removed")
        assert frame is not None  # _member found the membership in this transaction
        await room_store.keep_out(conn, room_id=room_id, user_id=person.id, by=session.person.id)
        entry = Entry(
            actor_id=session.person.id,
            action="member.remove",
            program_id=room.program_id,
            room_id=room_id,
            target_user_id=person.id,
            reason=body.reason,
        )
        await audit.record(conn, entry)
    publish(services, Change(frames=[frame], removed=[(person.id, room_id)]))
    return json({"room": room_id, "user": person.id, "seq": frame["seq"]})


async def _program_moderator(request: Request, person: Person, program_id: int | None) -> None:
    """Refused before the body is read (``require_moderator``)."""
    async with services_of(request).db.read() as conn:
        await require_moderator(conn, person, program_id)


async def _target(conn: AsyncConnection, user_id: int | None) -> Person:
    person = None if user_id is None else await user_store.by_id(conn, user_id)
    if person is None:
        raise ApiError(ErrorCode.NOT_FOUND, "this person is not enrolled in the program", field="user")
    return person


async def ban(request: Request) -> Response:
    """POST /api/programs/{id}/bans {user, reason}: out of the program's rooms, every session
    ended, the invite they joined with withdrawn if still usable (``invites_revoked``: ids)."""
    services = services_of(request)
    session = await session_of(request)
    program_id = path_id(request, "program_id")
    await _program_moderator(request, session.person, program_id)
    assert program_id is not None  # require_moderator found it
    body = await parse(request, BanBody)
    async with services.db.write() as conn:
        person = await _target(conn, body.user)
        if person.id == session.person.id:
            raise ApiError(ErrorCode.CONFLICT, "you cannot ban yourself", field="user")
        try:
            banned = await moderation_store.ban(
                conn, person=person, program_id=program_id, by=session.person.id, reason=body.reason
            )
        except moderation_store.BanRefused as exc:
            raise ApiError(exc.code, exc.message, field="user") from None
        entry = Entry(
            actor_id=session.person.id,
            action="person.ban",
            program_id=program_id,
            target_user_id=person.id,
            reason=body.reason,
            detail={"sessions_ended": len(banned.ended_sessions), "invites_revoked": banned.invites_revoked},
        )
        await audit.record(conn, entry)
    change = banned.change
    lifecycle.go_live(services.hub, change, status_moved=True, ended_sessions=banned.ended_sessions)
    assert change.standing is not None
    return json({"enrollment": change.standing.public(), "invites_revoked": banned.invites_revoked})


async def unban(request: Request) -> Response:
    """DELETE /api/programs/{id}/bans/{user}: back to the status they had before the ban (the
    invites the ban withdrew stay withdrawn)."""
    services = services_of(request)
    session = await session_of(request)
    program_id = path_id(request, "program_id")
    await _program_moderator(request, session.person, program_id)
    assert program_id is not None
    body = await _optional(request, ReasonBody)
    async with services.db.write() as conn:
        person = await _target(conn, path_id(request, "user_id"))
        try:
            change = await moderation_store.unban(
                conn, person=person, program_id=program_id, by=session.person.id, reason=body.reason
            )
        except moderation_store.BanRefused as exc:
            raise ApiError(exc.code, exc.message) from None
        entry = Entry(
            actor_id=session.person.id,
            action="person.unban",
            program_id=program_id,
            target_user_id=person.id,
            reason=body.reason,
        )
        await audit.record(conn, entry)
    lifecycle.go_live(services.hub, change, status_moved=True)
    assert change.standing is not None
    return json({"enrollment": change.standing.public()})


ROUTES = [
    Route("/api/rooms/{room_id}/messages/{seq}", remove_message, methods=["DELETE"]),
    Route("/api/rooms/{room_id}/mutes", mute, methods=["POST"]),
    Route("/api/rooms/{room_id}/mutes/{user_id}", unmute, methods=["DELETE"]),
    Route("/api/rooms/{room_id}/members/{user_id}", remove_member, methods=["DELETE"]),
    Route("/api/programs/{program_id}/bans", ban, methods=["POST"]),
    Route("/api/programs/{program_id}/bans/{user_id}", unban, methods=["DELETE"]),
]
