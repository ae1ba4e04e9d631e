"""A group room's staff back-channel (handing over between shifts), opened by its staff.

Invariant: only staff and admins who may run the room open it or are added by opening it;
participants, even a room's peer moderators, never reach it (``server.store.backchannel``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.http.common import ApiError, json, publish, services_of, session_of
from server.http.program_access import may_run_room, room_path_id
from server.protocol import ErrorCode
from server.store import audit
from server.store import rooms as room_store
from server.store.backchannel import NoBackchannel, open_backchannel
from server.store.enrollments import Change


async def backchannel(request: Request) -> Response:
    """POST /api/rooms/{id}/backchannel: the room's back-channel (201 made now, 200 it existed)."""
    services = services_of(request)
    session = await session_of(request)
    room_id = room_path_id(request)
    async with services.db.write() as conn:
        role = await room_store.role_in(conn, room_id, session.person.id)
        program_id = await room_store.program_of(conn, room_id)
        if not session.person.is_staff or not await may_run_room(conn, session.person, role, program_id):
            raise ApiError(ErrorCode.FORBIDDEN, "only the room's staff, its program's staff and admins may")
        try:
            opened = await open_backchannel(conn, room_id, session.person)
        except NoBackchannel:
            raise ApiError(ErrorCode.NOT_FOUND, "only a group room has a back-channel") from None
        if opened.created:
            await audit.record(
                conn,
                audit.Entry(
                    actor_id=session.person.id,
                    action="backchannel.create",
                    program_id=program_id,
                    room_id=opened.room_id,
                    target=f"room {room_id}",
                ),
            )
    publish(services, Change(frames=opened.frames))
    return json({"id": opened.room_id, "parent": room_id}, 201 if opened.created else 200)
