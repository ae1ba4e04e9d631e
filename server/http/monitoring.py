"""A room's watch: its state and settings, moderators' duty, and members' listen-only mode.

Invariant: every change here commits first and is then announced (``RoomStates.changed``
re-reads the room on every process; ``Hub.notify_user`` tells the person's own clients), and
every answer carries the room's state as it stands after the change.

Who may do what: the room's settings (schedule, hold mode) belong to its moderators, the
active staff of its program and admins; only a moderator of the room checks in (being on
duty means reading it live); a member puts only themselves into listen-only mode.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.http.common import ApiError, json, parse, services_of, session_of
from server.http.program_access import may_run_room, room_path_id
from server.protocol import ErrorCode
from server.rules.monitoring import OBSERVE_MAX_MINUTES, HoldMode, duty_ends, may_take_duty
from server.rules.schedule import Schedule
from server.services import Services
from server.store import audit
from server.store import duty as duty_store
from server.store.database import utcnow
from server.store.duty import Member, RoomInfo
from server.store.events import iso
from server.store.users import Person

SLOW_MAX_SECONDS = 3600


class RoomOptions(BaseModel):
    """``schedule: null`` removes the schedule; a field left out stays as it is; ``reason`` goes
    to the audit trail."""

    model_config = ConfigDict(extra="forbid")
    schedule: Schedule | None = None
    hold_mode: HoldMode | None = None
    locked: StrictBool | None = None
    slow_seconds: Annotated[int, Field(strict=True, ge=0, le=SLOW_MAX_SECONDS)] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None

    def audited(self, actor: int, room: RoomInfo) -> list[audit.Entry]:
        """One audit entry per setting given (room.schedule, room.hold_mode, room.lock or
        room.unlock, room.slow_mode)."""
        given = self.model_fields_set
        changes: list[tuple[str, dict[str, Any] | None]] = []
        if "schedule" in given:
            changes.append(
                ("room.schedule", {"schedule": None if self.schedule is None else self.schedule.model_dump()})
            )
        if self.hold_mode is not None:
            changes.append(("room.hold_mode", {"hold_mode": self.hold_mode}))
        if self.locked is not None:
            changes.append(("room.lock" if self.locked else "room.unlock", None))
        if self.slow_seconds is not None:
            changes.append(("room.slow_mode", {"slow_seconds": self.slow_seconds}))
        return [
            audit.Entry(actor, action, program_id=room.program_id, room_id=room.id, reason=self.reason, detail=detail)
            for action, detail in changes
        ]


class ObserveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: Annotated[int, Field(strict=True, ge=1, le=OBSERVE_MAX_MINUTES)]


async def _describe(services: Services, conn: AsyncConnection, room: RoomInfo, member: Member | None) -> dict[str, Any]:
    now = utcnow()
    setup = await duty_store.setup_of(conn, room.id, now)
    assert setup is not None  # the room row was read in this same transaction
    until = None if member is None else member.listen_until
    muted = None if member is None else member.muted_until
    return {
        "room": room.public(),
        "role": None if member is None else member.role,
        "observing_until": iso(until) if until is not None and until > now else None,
        "muted_until": iso(muted) if muted is not None and muted > now else None,
        "state": services.hub.states.describe(setup, now),
    }


async def _load(conn: AsyncConnection, person: Person, room_id: int) -> tuple[RoomInfo, Member | None]:
    """The room and the caller's membership; a room the caller may neither see nor run is ``not_member``."""
    room = await duty_store.room_info(conn, room_id)
    member = None if room is None else await duty_store.member_of(conn, room_id, person.id)
    if room is None or (member is None and not await may_run_room(conn, person, None, room.program_id)):
        raise ApiError(ErrorCode.NOT_MEMBER, "no such room, or you are not a member of it")
    return room, member


async def room_detail(request: Request) -> Response:
    """GET /api/rooms/{id}: the room, my role in it, and whether it is watched now."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    async with services.db.read() as conn:
        room, member = await _load(conn, session.person, room_id)
        return json(await _describe(services, conn, room, member))


async def configure_room(request: Request) -> Response:
    """PATCH /api/rooms/{id}: schedule, hold mode, lock and slow mode (each audited)."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    body = await parse(request, RoomOptions)
    if not body.model_fields_set - {"reason"}:
        raise ApiError(ErrorCode.INVALID, "give schedule, hold_mode, locked or slow_seconds")
    async with services.db.write() as conn:
        room, member = await _load(conn, session.person, room_id)
        if not await may_run_room(conn, session.person, None if member is None else member.role, room.program_id):
            raise ApiError(ErrorCode.FORBIDDEN, "only the room's moderators, its program's staff and admins may")
        await duty_store.set_options(
            conn,
            room_id,
            hold_mode=body.hold_mode,
            schedule=body.schedule,
            set_schedule="schedule" in body.model_fields_set,
            locked=body.locked,
            slow_seconds=body.slow_seconds,
        )
        for entry in body.audited(session.person.id, room):
            await audit.record(conn, entry)
        room, _ = await _load(conn, session.person, room_id)
        answer = await _describe(services, conn, room, member)
    services.hub.states.changed(room_id)
    return json(answer)


async def _duty(request: Request, on: bool) -> Response:
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    now = utcnow()
    until = duty_ends(now, services.settings.duty_hours)
    async with services.db.write() as conn:
        room, member = await _load(conn, session.person, room_id)
        if not may_take_duty(None if member is None else member.role):
            raise ApiError(ErrorCode.FORBIDDEN, "only a moderator of the room goes on duty in it")
        if on:
            await duty_store.check_in(conn, room_id, session.person.id, now, until)
        else:
            await duty_store.check_out(conn, room_id, session.person.id, now)
        action, detail = ("duty.check_in", {"until": iso(until)}) if on else ("duty.check_out", None)
        await audit.record(
            conn,
            audit.Entry(session.person.id, action, program_id=room.program_id, room_id=room_id, detail=detail),
            now,
        )
        answer = await _describe(services, conn, room, member)
    services.hub.states.changed(room_id)
    return json({**answer, "on_duty_until": iso(until) if on else None})


async def check_in(request: Request) -> Response:
    """POST /api/rooms/{id}/duty: on duty until DUTY_HOURS from now (again: renewed)."""
    return await _duty(request, on=True)


async def check_out(request: Request) -> Response:
    """DELETE /api/rooms/{id}/duty: off duty now."""
    return await _duty(request, on=False)


async def _observe(request: Request, start: bool) -> Response:
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    until = utcnow() + timedelta(minutes=(await parse(request, ObserveBody)).minutes) if start else None
    async with services.db.write() as conn:
        member = await duty_store.member_of(conn, room_id, session.person.id)
        if member is None:
            raise ApiError(ErrorCode.NOT_MEMBER, "no such room, or you are not a member of it")
        if member.role == "reader" and until is not None:
            raise ApiError(ErrorCode.READ_ONLY, "this room is read-only for you already")
        await duty_store.set_listen_until(conn, room_id, session.person.id, until)
    stamp = None if until is None else iso(until)
    services.hub.notify_user(session.person.id, {"type": "observing", "room": room_id, "until": stamp})
    return json({"room": room_id, "observing_until": stamp})


async def observe(request: Request) -> Response:
    """POST /api/rooms/{id}/observe {minutes}: listen only, for a while."""
    return await _observe(request, start=True)


async def stop_observing(request: Request) -> Response:
    """DELETE /api/rooms/{id}/observe: post again."""
    return await _observe(request, start=False)


ROUTES = [
    Route("/api/rooms/{room_id}", room_detail, methods=["GET"]),
    Route("/api/rooms/{room_id}", configure_room, methods=["PATCH"]),
    Route("/api/rooms/{room_id}/duty", check_in, methods=["POST"]),
    Route("/api/rooms/{room_id}/duty", check_out, methods=["DELETE"]),
    Route("/api/rooms/{room_id}/observe", observe, methods=["POST"]),
    Route("/api/rooms/{room_id}/observe", stop_observing, methods=["DELETE"]),
]
