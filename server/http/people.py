"""People as moderators see them (warnings, notes, the moderation history) and my personal mutes.

Invariant: everything under ``/api/programs/{id}`` here passes ``require_moderator`` first
(admins, the program's active staff, moderators of any of its rooms); a warning and the
ladder's mute commit with their audit entry before the person hears of them.
Personal mutes (``/api/me/mutes``) only change what I am shown: nobody else is told.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import moderation as moderation_live
from server.http.audit import with_names
from server.http.common import ApiError, json, parse, services_of, session_of
from server.http.program_access import may_moderate, path_id, require_moderator
from server.protocol import MAX_ID, ErrorCode
from server.store import audit
from server.store import enrollments as enrollment_store
from server.store import people as people_store
from server.store import queue as queue_store
from server.store import rooms as room_store
from server.store import users as user_store
from server.store.database import utcnow
from server.store.events import iso
from server.store.users import Person

Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]


class WarningBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: Id
    reason: str = Field(min_length=1, max_length=500)
    room: Id | None = None


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=4000)


class MuteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: Id


def _text(raw: str, field: str) -> str:
    text = raw.strip()
    if not text:
        raise ApiError(ErrorCode.INVALID, f"{field}: must not be blank", field=field)
    return text


async def _enrolled(conn: AsyncConnection, program_id: int, user_id: int | None) -> Person:
    """A person enrolled in the program; anyone else is ``not_found`` (the same for no such person)."""
    person = None if user_id is None else await user_store.by_id(conn, user_id)
    if person is None or await enrollment_store.standing(conn, person.id, program_id) is None:
        raise ApiError(ErrorCode.NOT_FOUND, "this person is not enrolled in the program", field="user")
    return person


def _notes_for(notes: list[dict[str, Any]], staff: bool) -> list[dict[str, Any]]:
    """Notes as the viewer may see them: a moderator who is not staff sees authors' display names."""
    if staff:
        return notes
    return [{**n, "author": {"id": n["author"]["id"], "display_name": n["author"]["display_name"]}} for n in notes]


async def warn(request: Request) -> Response:
    """POST /api/programs/{id}/warnings {user, reason, room?}: warn; the ladder may mute them too."""
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, WarningBody)
    reason = _text(body.reason, "reason")
    async with services.db.write() as conn:
        program = await require_moderator(conn, session.person, path_id(request, "program_id"))
        person = await _enrolled(conn, program.id, body.user)
        if await may_moderate(conn, person, program.id):
            raise ApiError(ErrorCode.CONFLICT, "moderators and staff of the program are not warned", field="user")
        if body.room is not None and await room_store.program_of(conn, body.room) != program.id:
            raise ApiError(ErrorCode.INVALID, "room: not a room of this program", field="room")
        warned = await people_store.warn(
            conn,
            program_id=program.id,
            user_id=person.id,
            by=session.person.id,
            reason=reason,
            room_id=body.room,
            now=utcnow(),
            policy=services.settings.ladder,
        )
    services.hub.notify_user(person.id, warned.frame())
    for room_id in warned.muted_rooms:
        moderation_live.announce_mute(services.hub, person.id, room_id, warned.muted_until, reason)
    muted_until = None if warned.muted_until is None else iso(warned.muted_until)
    return json({"warning": warned.warning, "muted_until": muted_until, "muted_rooms": warned.muted_rooms}, 201)


async def list_notes(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        program = await require_moderator(conn, session.person, path_id(request, "program_id"))
        person = await _enrolled(conn, program.id, path_id(request, "user_id"))
        found = await people_store.notes_of(conn, program.id, person.id)
    return json({"notes": _notes_for(found, session.person.is_staff)})


async def add_note(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    text = _text((await parse(request, NoteBody)).body, "body")
    async with services.db.write() as conn:
        program = await require_moderator(conn, session.person, path_id(request, "program_id"))
        person = await _enrolled(conn, program.id, path_id(request, "user_id"))
        note = await people_store.add_note(
            conn, program_id=program.id, user_id=person.id, author_id=session.person.id, body=text, now=utcnow()
        )
    return json({"note": note}, 201)


async def moderation_history(request: Request) -> Response:
    """GET /api/programs/{id}/people/{user}/moderation: everything moderators know of the person here."""
    services = services_of(request)
    session = await session_of(request)
    now = utcnow()
    staff = session.person.is_staff
    async with services.db.read() as conn:
        program = await require_moderator(conn, session.person, path_id(request, "program_id"))
        person = await _enrolled(conn, program.id, path_id(request, "user_id"))
        standing = await enrollment_store.standing(conn, person.id, program.id)
        warnings = await people_store.warnings_of(conn, program.id, person.id)
        trail = await audit.entries(conn, audit.Filter(program_id=program.id, target_user_id=person.id, limit=200))
        answer: dict[str, Any] = {
            "user": person.for_staff() if staff else person.public(),
            "enrollment": None if standing is None else standing.public(),
            "warnings": warnings,
            "active_warnings": sum(1 for w in warnings if w["expires_at"] > iso(now)),
            "mutes": await people_store.mutes_of(conn, program.id, person.id, now),
            "queue": await queue_store.items(conn, queue_store.about(program.id, person.id), session.person.id, staff),
            "audit": await with_names(conn, trail, staff),
            "notes": _notes_for(await people_store.notes_of(conn, program.id, person.id), staff),
        }
    return json(answer)


async def my_mutes(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        found = await people_store.my_mutes(conn, session.person.id)
    return json({"mutes": found})


async def mute_for_me(request: Request) -> Response:
    """POST /api/me/mutes {user}: hide their messages from me (201; 200 when hidden already)."""
    services = services_of(request)
    session = await session_of(request)
    user_id = (await parse(request, MuteBody)).user
    if user_id == session.person.id:
        raise ApiError(ErrorCode.INVALID, "user: you cannot mute yourself", field="user")
    async with services.db.write() as conn:
        if await user_store.by_id(conn, user_id) is None:
            raise ApiError(ErrorCode.NOT_FOUND, "no such user", field="user")
        created = await people_store.mute_for_me(conn, session.person.id, user_id, utcnow())
        found = await people_store.my_mutes(conn, session.person.id)
    return json({"mutes": found}, 201 if created else 200)


async def unmute_for_me(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    user_id = path_id(request, "user_id")
    async with services.db.write() as conn:
        if user_id is None or not await people_store.unmute_for_me(conn, session.person.id, user_id):
            raise ApiError(ErrorCode.NOT_FOUND, "you have not muted this person")
        found = await people_store.my_mutes(conn, session.person.id)
    return json({"mutes": found})


ROUTES = [
    Route("/api/programs/{program_id}/warnings", warn, methods=["POST"]),
    Route("/api/programs/{program_id}/people/{user_id}/notes", list_notes, methods=["GET"]),
    Route("/api/programs/{program_id}/people/{user_id}/notes", add_note, methods=["POST"]),
    Route("/api/programs/{program_id}/people/{user_id}/moderation", moderation_history, methods=["GET"]),
    Route("/api/me/mutes", my_mutes, methods=["GET"]),
    Route("/api/me/mutes", mute_for_me, methods=["POST"]),
    Route("/api/me/mutes/{user_id}", unmute_for_me, methods=["DELETE"]),
]
