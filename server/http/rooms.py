"""Rooms: create (staff), list mine, add members (moderators, program staff), read history and
mark it read (members)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from server.http.common import ApiError, decimal, json, parse, services_of, session_of, staff_session
from server.http.program_access import may_run_room, room_path_id
from server.protocol import ErrorCode
from server.rules.access import may_join_program_room
from server.store import audit, direct_reads, enrollments, reading
from server.store import backchannel as backchannel_store
from server.store import events as event_store
from server.store import rooms as room_store
from server.store import users as user_store


class RoomBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["group", "cohort", "topic", "alumni", "direct"] = "group"


class ReadBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seq: Annotated[int, Field(strict=True, ge=0, le=2**62)]


class MemberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    role: Literal["member", "moderator"] = "member"


def _int_param(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = decimal(raw, low, high)
    if value is None:
        raise ApiError(ErrorCode.INVALID, f"{name} must be an integer from {low} to {high}", field=name)
    return value


async def create_room(request: Request) -> Response:
    services = services_of(request)
    session = await staff_session(request)
    body = await parse(request, RoomBody)
    name = body.name.strip()
    if not name:
        raise ApiError(ErrorCode.INVALID, "name: must not be blank", field="name")
    async with services.db.write() as conn:
        room_id = await room_store.create(conn, name=name, kind=body.kind, creator=session.person)
        await audit.record(
            conn, audit.Entry(session.person.id, "room.create", room_id=room_id, detail={"kind": body.kind})
        )
    return json({"id": room_id}, 201)


async def list_rooms(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        found = await room_store.of_user(conn, session.person.id)
    return json({"rooms": found})


async def add_member(request: Request) -> Response:
    """POST /api/rooms/{id}/members: add a person or change their role; adding someone a moderator
    had removed ends that removal (the roster may place them again)."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    body = await parse(request, MemberBody)
    async with services.db.write() as conn:
        role = await room_store.role_in(conn, room_id, session.person.id)
        program_id = await room_store.program_of(conn, room_id)
        if not await may_run_room(conn, session.person, role, program_id):
            raise ApiError(ErrorCode.FORBIDDEN, "only admins, the room's moderators and its program's staff may")
        if not await room_store.exists(conn, room_id):
            raise ApiError(ErrorCode.NOT_FOUND, "no such room")
        person = await user_store.by_username(conn, body.username.strip().lower())
        if person is None:
            raise ApiError(ErrorCode.NOT_FOUND, "no such user", field="username")
        if not person.is_staff and await backchannel_store.is_staff_room(conn, room_id):
            raise ApiError(ErrorCode.FORBIDDEN, "a staff back-channel is for staff only", field="username")
        if program_id is not None:
            standing = await enrollments.standing(conn, person.id, program_id)
            status = None if standing is None else standing.status
            if status == "banned":
                raise ApiError(ErrorCode.CONFLICT, "this person is banned from the program", field="username")
            if not may_join_program_room(person.role, status):
                raise ApiError(
                    ErrorCode.FORBIDDEN, "this person is not enrolled in the room's program", field="username"
                )
        frame = await room_store.set_member(conn, room_id=room_id, person=person, role=body.role)
        lifted = await room_store.let_back(conn, room_id=room_id, user_id=person.id)
        if frame is not None:
            detail: dict[str, Any] = {"role": body.role}
            if lifted:
                detail["removal_lifted"] = True
            await audit.record(
                conn,
                audit.Entry(
                    session.person.id,
                    "room.member_add" if frame["type"] == "member_added" else "room.member_role",
                    program_id=program_id,
                    room_id=room_id,
                    target_user_id=person.id,
                    detail=detail,
                ),
            )
    if frame is None:
        return json({"room": room_id, "user": person.public(), "role": body.role, "seq": None})
    services.hub.publish_stored(room_id, frame["seq"], frame)
    return json({"room": room_id, "user": person.public(), "role": body.role, "seq": frame["seq"]}, 201)


async def history(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    limits = services.settings.limits
    after = _int_param(request, "after", None, 0, 2**62)
    before = _int_param(request, "before", None, 1, 2**62)
    limit = _int_param(request, "limit", 100, 1, limits.history_page_max) or 100
    if after is not None and before is not None:
        raise ApiError(ErrorCode.INVALID, "give after or before, not both")
    async with services.db.read() as conn:
        if await room_store.role_in(conn, room_id, session.person.id) is None:
            raise ApiError(ErrorCode.NOT_MEMBER, "no such room, or you are not a member of it")
        frames, has_more = await event_store.history(conn, room_id, after=after, before=before, limit=limit)
    if session.person.is_staff:  # only staff are ever in someone else's direct room
        await direct_reads.note_read(services.db, room_id=room_id, reader_id=session.person.id, via="history")
    return json({"messages": frames, "has_more": has_more})


async def mark_read(request: Request) -> Response:
    """POST /api/rooms/{id}/read {seq}: I have read up to here (any role); my other clients hear of it."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    seq = (await parse(request, ReadBody)).seq
    me = session.person.id
    async with services.db.write() as conn:
        if await room_store.role_in(conn, room_id, me) is None:
            raise ApiError(ErrorCode.NOT_MEMBER, "no such room, or you are not a member of it")
        last = (await event_store.last_seqs(conn, [room_id]))[room_id]
        if seq > last:
            raise ApiError(ErrorCode.INVALID, f"seq: the room's last seq is {last}", field="seq")
        marker, moved = await reading.mark_read(conn, room_id, me, seq)
    if moved:
        services.hub.notify_user(me, {"type": "read", "room": room_id, "last_read_seq": marker})
    return json({"room": room_id, "last_read_seq": marker})
