"""Deleting my own account (``POST /api/me/delete``), confirmed with my password.

The work is one transaction in ``server.store.deletion``; after it commits, the change goes
live on every process the way a withdrawal does (``lifecycle.go_live``: membership events,
kicks, every session's sockets closed with 4001) and each erased message's ``redacted`` event
is published, so peers and staff see the tombstones at once.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.auth.guards import SESSION_COOKIE
from server.http.auth import confirm_own_password
from server.http.common import ApiError, parse, services_of, session_of
from server.lifecycle import go_live
from server.protocol import ErrorCode
from server.rules.erasure import may_delete_own_account
from server.store.database import utcnow
from server.store.deletion import DeletionRefused, delete_account


class DeleteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=256)


async def delete_me(request: Request) -> Response:
    """Delete the caller's account for good; 204 and the session cookie cleared.

    The password is asked again (a session left open on a shared computer must not be enough)
    and a wrong one is charged to the login throttle like a failed sign-in.
    """
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, DeleteBody)
    person = session.person
    if not may_delete_own_account(person.role):
        raise ApiError(ErrorCode.FORBIDDEN, "staff accounts are closed by an administrator")
    await confirm_own_password(request, person, body.password, "the password is wrong", field="password")
    try:
        async with services.db.write() as conn:
            done = await delete_account(conn, person.id, utcnow())
    except DeletionRefused as exc:
        raise ApiError(exc.code, exc.message) from None
    go_live(services.hub, done.change, status_moved=False, ended_sessions=done.ended_sessions)
    for frame in done.redactions:
        services.hub.publish_stored(frame["room"], frame["seq"], frame)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTES = [Route("/api/me/delete", delete_me, methods=["POST"])]
