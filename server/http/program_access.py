"""Who may manage a program, asked the same way by every program handler.

Invariant: a handler that changes or reveals a program's roster, cohorts, rooms or invites
first passes ``require_manager``: admins, or active staff of *this* program. Anyone else
is refused with ``forbidden`` before learning whether the program (or cohort, or invite)
exists; only admins are told ``not_found``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request

from server.http.common import ApiError, decimal
from server.protocol import MAX_ID, ErrorCode
from server.rules.access import may_manage_program, may_moderate_program, may_moderate_room
from server.store import enrollments
from server.store import rooms as room_store
from server.store.programs import ProgramInfo, get_program
from server.store.users import Person


def path_id(request: Request, name: str) -> int | None:
    """A positive integer path parameter, or None when it cannot name anything."""
    return decimal(request.path_params[name], 1, MAX_ID)


def room_path_id(request: Request) -> int:
    """The room of ``/api/rooms/{room_id}/...``; one answer for "no such room" and "not yours"."""
    room_id = path_id(request, "room_id")
    if room_id is None:
        raise ApiError(ErrorCode.NOT_MEMBER, "no such room, or you are not a member of it")
    return room_id


async def may_manage(conn: AsyncConnection, person: Person, program_id: int) -> bool:
    standing = await enrollments.standing(conn, person.id, program_id)
    return may_manage_program(
        person.role, None if standing is None else standing.role, None if standing is None else standing.status
    )


async def may_run_room(conn: AsyncConnection, person: Person, room_role: str | None, program_id: int | None) -> bool:
    """Room tools (adding members, schedule, hold mode): admins, the room's moderators, and
    active staff of the program the room belongs to."""
    if may_moderate_room(person.role, room_role):
        return True
    return program_id is not None and await may_manage(conn, person, program_id)


async def require_manager(
    conn: AsyncConnection, person: Person, program_id: int | None, what: str = "program"
) -> ProgramInfo:
    """The program, if this person may manage it; ``program_id`` None: the ``what`` was not found."""
    allowed = person.role == "admin" if program_id is None else await may_manage(conn, person, program_id)
    if not allowed:
        raise ApiError(ErrorCode.FORBIDDEN, "only admins and this program's staff may do this")
    program = None if program_id is None else await get_program(conn, program_id)
    if program is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"no such {what}")
    return program


async def may_moderate(conn: AsyncConnection, person: Person, program_id: int) -> bool:
    """Program-level moderation: ``server.rules.access.may_moderate_program``."""
    standing = await enrollments.standing(conn, person.id, program_id)
    return may_moderate_program(
        person.role,
        None if standing is None else standing.role,
        None if standing is None else standing.status,
        await room_store.moderates_in_program(conn, person.id, program_id),
    )


async def require_moderator(conn: AsyncConnection, person: Person, program_id: int | None) -> ProgramInfo:
    """The program, if this person may moderate it; refused like ``require_manager`` otherwise."""
    allowed = person.role == "admin" if program_id is None else await may_moderate(conn, person, program_id)
    if not allowed:
        raise ApiError(ErrorCode.FORBIDDEN, "only admins, this program's staff and its rooms' moderators may do this")
    program = None if program_id is None else await get_program(conn, program_id)
    if program is None:
        raise ApiError(ErrorCode.NOT_FOUND, "no such program")
    return program
