"""Login, logout and who am I."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from server.auth.current import csrf_token
from server.auth.guards import SESSION_COOKIE
from server.auth.passwords import verify_password
from server.http.common import ApiError, json, parse, services_of, session_of
from server.protocol import ErrorCode
from server.services import Services
from server.store import sessions as session_store
from server.store import users as user_store
from server.store.users import Person


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


async def login(request: Request) -> Response:
    """Sign in; failed attempts are throttled per username and per client address.

    The throttle is asked before the account is looked up, so its answer is the same
    whether the username exists or not (``server.rules.login_throttle``).
    """
    services = services_of(request)
    body = await parse(request, LoginBody)
    username = body.username.strip().lower()
    host = request.client.host if request.client is not None else None  # behind a proxy: the proxy
    throttle = services.login_throttle
    admission = throttle.admit(username, host)
    if not admission.allowed:
        raise ApiError(
            ErrorCode.RATE_LIMITED, "too many failed sign-ins; try again later", retry_after=admission.retry_after
        )
    try:
        async with services.db.read() as conn:
            found = await user_store.credentials(conn, username)
        person, stored_hash = found if found is not None else (None, None)
        verified = await verify_password(stored_hash, body.password) and person is not None
    except BaseException:
        throttle.refund(username, host)  # no verdict on the password: the attempt costs nothing
        raise
    if not verified or person is None:
        raise ApiError(ErrorCode.UNAUTHORIZED, "wrong username or password")  # the charge stays
    throttle.refund(username, host)
    async with services.db.write() as conn:
        session_id = await session_store.create(conn, person.id, services.settings.session_max_age)
    return signed_in(services, person, session_id)


def signed_in(services: Services, person: Person, session_id: str, status: int = 200) -> Response:
    """The answer that lands someone signed in (login, registration): token, CSRF token, cookie."""
    token = services.signers.session.sign(session_id)
    response = json(
        {"token": token, "csrf_token": csrf_token(services.signers, session_id), "user": person.private()}, status
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=services.settings.session_max_age,
        httponly=True,
        samesite="lax",
        secure=services.settings.environment != "development",
        path="/",
    )
    return response


async def logout(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    async with services.db.write() as conn:
        await session_store.revoke(conn, session.id)
    services.hub.end_session(session.id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def me(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    return json({"user": session.person.private(), "csrf_token": csrf_token(services.signers, session.id)})
