"""Programs, their cohorts, program rooms and roster: thin handlers over the program store.

Everything here but creating a program (admins) and listing my programs is for the
program's managers (``require_manager``). Membership changes the roster causes are stored
events, published after the transaction commits.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.http.common import ApiError, json, parse, publish, services_of, session_of
from server.http.program_access import path_id, require_manager
from server.protocol import ErrorCode
from server.rules.access import may_create_program
from server.rules.erasure import MAX_RETENTION_DAYS
from server.store import audit, audit_entries, enrollments
from server.store import programs as program_store
from server.store import queue as queue_store
from server.store.enrollments import Change


class ProgramBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    alumni_post_in_cohort: StrictBool = False


class OptionsBody(BaseModel):
    """Any of the options; one left out stays as it is. ``retention_days: null`` keeps messages for ever."""

    model_config = ConfigDict(extra="forbid")
    alumni_post_in_cohort: StrictBool | None = None
    hold_first_posts: Annotated[int, Field(strict=True, ge=0, le=20)] | None = None
    retention_days: Annotated[int, Field(strict=True, ge=1, le=MAX_RETENTION_DAYS)] | None = None


class CohortBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    starts_on: date
    ends_on: date | None = None


class ProgramRoomBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["topic", "alumni"]


def _name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise ApiError(ErrorCode.INVALID, "name: must not be blank", field="name")
    return name


async def create_program(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    if not may_create_program(session.person.role):
        raise ApiError(ErrorCode.FORBIDDEN, "only admins may create programs")
    body = await parse(request, ProgramBody)
    name = _name(body.name)
    try:
        async with services.db.write() as conn:
            program = await program_store.create_program(
                conn, name=name, creator=session.person, alumni_post_in_cohort=body.alumni_post_in_cohort
            )
            await audit.record(conn, audit_entries.program_created(session.person.id, program.id))
    except program_store.NameTaken:
        raise ApiError(ErrorCode.CONFLICT, "a program with that name exists", field="name") from None
    return json(program.public(), 201)


async def list_programs(request: Request) -> Response:
    """Admins: every program. Everyone else: the programs they are enrolled in, with their standing."""
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        mine = {s.program_id: s for s in await enrollments.standings_of(conn, session.person.id)}
        if session.person.role == "admin":
            found = await program_store.all_programs(conn)
        else:
            found = [p for p in [await program_store.get_program(conn, pid) for pid in mine] if p is not None]
    return json(
        {"programs": [{**p.public(), "enrollment": None if p.id not in mine else mine[p.id].public()} for p in found]}
    )


async def get_program(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        program = await require_manager(conn, session.person, path_id(request, "program_id"))
        cohorts = await program_store.cohorts_of(conn, program.id)
        rooms = await program_store.rooms_of_program(conn, program.id)
    return json({**program.public(), "cohorts": [c.public() for c in cohorts], "rooms": rooms})


async def set_options(request: Request) -> Response:
    """Program options. Alumni's cohort-room role follows ``alumni_post_in_cohort`` at once;
    ``hold_first_posts`` applies to participants who join from now on, and 0 trusts everyone."""
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, OptionsBody)
    options = body.model_dump(exclude_none=True)
    if "retention_days" in body.model_fields_set:  # null is a value here: keep messages for ever
        options["retention_days"] = body.retention_days
    if not options:
        raise ApiError(ErrorCode.INVALID, "give alumni_post_in_cohort, hold_first_posts or retention_days")
    change = Change()
    async with services.db.write() as conn:
        program = await require_manager(conn, session.person, path_id(request, "program_id"))
        await program_store.set_program_options(conn, program.id, **options)
        await audit.record(
            conn, audit.Entry(session.person.id, "program.options", program_id=program.id, detail=options)
        )
        if body.hold_first_posts == 0:
            await queue_store.set_trust(conn, program.id, True)
        if body.alumni_post_in_cohort is not None:
            for person, standing in await enrollments.people_of(conn, program.id):
                if standing.status == "alumni":
                    change.merge(await enrollments.sync_memberships(conn, person, program.id))
        program = await require_manager(conn, session.person, program.id)
    publish(services, change)
    return json(program.public())


async def create_cohort(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, CohortBody)
    name = _name(body.name)
    if body.ends_on is not None and body.ends_on < body.starts_on:
        raise ApiError(ErrorCode.INVALID, "ends_on: must not be before starts_on", field="ends_on")
    async with services.db.write() as conn:
        program = await require_manager(conn, session.person, path_id(request, "program_id"))
        cohort, frames = await program_store.create_cohort(
            conn, program_id=program.id, name=name, starts_on=body.starts_on, ends_on=body.ends_on
        )
        await audit.record(conn, audit_entries.cohort_created(session.person.id, cohort))
    publish(services, Change(frames=frames))
    return json(cohort.public(), 201)


async def list_cohorts(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        program = await require_manager(conn, session.person, path_id(request, "program_id"))
        cohorts = await program_store.cohorts_of(conn, program.id)
    return json({"cohorts": [c.public() for c in cohorts]})


async def delete_cohort(request: Request) -> Response:
    """Soft delete: its invites stop working; its room, members and history stay."""
    services = services_of(request)
    session = await session_of(request)
    cohort_id = path_id(request, "cohort_id")
    async with services.db.write() as conn:
        cohort = None if cohort_id is None else await program_store.get_cohort(conn, cohort_id)
        live = None if cohort is None or cohort.deleted else cohort
        await require_manager(conn, session.person, None if live is None else live.program_id, "cohort")
        assert live is not None
        await program_store.delete_cohort(conn, live.id)
        await audit.record(
            conn,
            audit.Entry(session.person.id, "cohort.delete", program_id=live.program_id, target=f"cohort {live.id}"),
        )
    return Response(status_code=204)


async def create_room(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, ProgramRoomBody)
    name = _name(body.name)
    async with services.db.write() as conn:
        program = await require_manager(conn, session.person, path_id(request, "program_id"))
        room_id, frames = await program_store.create_program_room(
            conn, program_id=program.id, name=name, kind=body.kind
        )
        await audit.record(
            conn,
            audit.Entry(
                session.person.id, "room.create", program_id=program.id, room_id=room_id, detail={"kind": body.kind}
            ),
        )
    publish(services, Change(frames=frames))
    return json({"id": room_id, "name": name, "kind": body.kind, "program": program.id}, 201)


async def people(request: Request) -> Response:
    """The staff view of the roster: real names beside display names, standing and cohort."""
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        program = await require_manager(conn, session.person, path_id(request, "program_id"))
        roster = await enrollments.people_of(conn, program.id)
    found: list[dict[str, Any]] = [
        {"user": person.for_staff(), "enrollment": standing.public()} for person, standing in roster
    ]
    return json({"people": found})


ROUTES = [
    Route("/api/programs", create_program, methods=["POST"]),
    Route("/api/programs", list_programs, methods=["GET"]),
    Route("/api/programs/{program_id}", get_program, methods=["GET"]),
    Route("/api/programs/{program_id}", set_options, methods=["PATCH"]),
    Route("/api/programs/{program_id}/cohorts", create_cohort, methods=["POST"]),
    Route("/api/programs/{program_id}/cohorts", list_cohorts, methods=["GET"]),
    Route("/api/cohorts/{cohort_id}", delete_cohort, methods=["DELETE"]),
    Route("/api/programs/{program_id}/rooms", create_room, methods=["POST"]),
    Route("/api/programs/{program_id}/people", people, methods=["GET"]),
]
