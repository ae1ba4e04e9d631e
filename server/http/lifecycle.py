"""A person's way through a program: graduate, withdraw, readmit, counsellor, and the record.

Only those who manage the program (admins; its active staff) may call these; everyone
else gets ``forbidden`` before learning whether the program, cohort or person exists. The work and its
live effects are in ``server.lifecycle``, shared with the command line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import lifecycle
from server.http.common import ApiError, json, parse, services_of, session_of
from server.http.program_access import path_id, require_manager
from server.protocol import ErrorCode
from server.store import enrollments as enrollment_store
from server.store import users as user_store
from server.store.programs import get_cohort
from server.store.sessions import ActiveSession
from server.store.users import Person


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class WithdrawBody(BaseModel):
    """Ending someone's access needs a reason on the record."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class CounsellorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)


async def _manager(request: Request, program_id: int | None, what: str = "program") -> ActiveSession:
    """The caller's session, if they manage this program (``program_access.require_manager``)."""
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        await require_manager(conn, session.person, program_id, what)
    return session


async def _person(request: Request) -> Person:
    """The person the path names; unknown people are answered like people not enrolled."""
    services = services_of(request)
    user_id = path_id(request, "user_id")
    async with services.db.read() as conn:
        person = None if user_id is None else await user_store.by_id(conn, user_id)
    if person is None:
        raise ApiError(ErrorCode.NOT_FOUND, "this person is not enrolled in the program")
    return person


def _refused(exc: lifecycle.Refused) -> ApiError:
    return ApiError(exc.code, exc.message, **exc.extra)


Handler = Callable[[Request], Awaitable[Response]]


def _status_change(to_status: str, body_model: type[ReasonBody] | type[WithdrawBody]) -> Handler:
    """One handler per move; they differ only in the status and whether a reason is required."""

    async def handler(request: Request) -> Response:
        services = services_of(request)
        program_id = path_id(request, "program_id")
        session = await _manager(request, program_id)
        assert program_id is not None  # require_manager found it
        body = await parse(request, body_model)
        person = await _person(request)
        try:
            change = await lifecycle.change_status(
                services.db,
                services.hub,
                person=person,
                program_id=program_id,
                to_status=to_status,
                by=session.person.id,
                reason=body.reason,
            )
        except lifecycle.Refused as exc:
            raise _refused(exc) from None
        assert change.standing is not None
        return json({"enrollment": change.standing.public()})

    return handler


graduate = _status_change("alumni", ReasonBody)
withdraw = _status_change("withdrawn", WithdrawBody)
readmit = _status_change("active", ReasonBody)


async def graduate_cohort(request: Request) -> Response:
    """Every active participant of the cohort becomes an alumnus, in one transaction."""
    services = services_of(request)
    cohort_id = path_id(request, "cohort_id")
    async with services.db.read() as conn:
        cohort = None if cohort_id is None else await get_cohort(conn, cohort_id)
    session = await _manager(request, None if cohort is None else cohort.program_id, "cohort")
    assert cohort is not None  # require_manager found its program
    body = await parse(request, ReasonBody)
    try:
        done = await lifecycle.graduate_cohort(
            services.db, services.hub, cohort_id=cohort.id, by=session.person.id, reason=body.reason
        )
    except lifecycle.Refused as exc:
        raise _refused(exc) from None
    graduated = [
        {"user": person.for_staff(), "enrollment": change.standing.public()}
        for person, change in done
        if change.standing is not None
    ]
    return json({"cohort": cohort.id, "graduated": graduated})


async def assign_counsellor(request: Request) -> Response:
    services = services_of(request)
    program_id = path_id(request, "program_id")
    session = await _manager(request, program_id)
    assert program_id is not None  # require_manager found it
    body = await parse(request, CounsellorBody)
    participant = await _person(request)
    async with services.db.read() as conn:
        counsellor = await user_store.by_username(conn, body.username.strip().lower())
    if counsellor is None:
        raise ApiError(ErrorCode.NOT_FOUND, "no such user", field="username")
    try:
        room_id, _ = await lifecycle.assign_counsellor(
            services.db,
            services.hub,
            program_id=program_id,
            participant=participant,
            counsellor=counsellor,
            by=session.person.id,
        )
    except lifecycle.Refused as exc:
        raise _refused(exc) from None
    return json({"room": room_id, "participant": participant.for_staff(), "counsellor": counsellor.for_staff()})


async def enrollment(request: Request) -> Response:
    """Staff view: the person (real identity), their enrollment, its history, their counsellor."""
    services = services_of(request)
    program_id = path_id(request, "program_id")
    await _manager(request, program_id)
    assert program_id is not None  # require_manager found it
    person = await _person(request)
    async with services.db.read() as conn:
        standing = await enrollment_store.standing(conn, person.id, program_id)
        if standing is None:
            raise ApiError(ErrorCode.NOT_FOUND, "this person is not enrolled in the program")
        history = await enrollment_store.history_of(conn, standing.enrollment_id)
        room_id = await enrollment_store.direct_room_of(conn, program_id, person.id)
        counsellor = None if room_id is None else await enrollment_store.counsellor_of(conn, room_id)
    return json(
        {
            "user": person.for_staff(),
            "enrollment": standing.public(),
            "history": history,
            "direct_room": room_id,
            "counsellor": None if counsellor is None else counsellor.for_staff(),
        }
    )


def _routes() -> list[Route]:
    person = "/api/programs/{program_id}/people/{user_id}"
    endpoints: list[tuple[str, Handler, str]] = [
        (person, enrollment, "GET"),
        (person + "/graduate", graduate, "POST"),
        (person + "/withdraw", withdraw, "POST"),
        (person + "/readmit", readmit, "POST"),
        (person + "/counsellor", assign_counsellor, "POST"),
        ("/api/cohorts/{cohort_id}/graduate", graduate_cohort, "POST"),
    ]
    return [Route(path, endpoint, methods=[method]) for path, endpoint, method in endpoints]


ROUTES = _routes()
