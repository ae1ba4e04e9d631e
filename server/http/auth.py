"""Login, logout, who am I, and changing one's password."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from server.auth.current import csrf_token
from server.auth.guards import SESSION_COOKIE
from server.auth.passwords import hash_password, password_problem, verify_password
from server.http.common import ApiError, json, parse, services_of, session_of
from server.logs import note_user
from server.protocol import ErrorCode
from server.services import Services
from server.store import audit
from server.store import sessions as session_store
from server.store import users as user_store
from server.store.users import Person


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


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
    note_user(person.id)
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


async def confirm_own_password(request: Request, person: Person, password: str, wrong: str, field: str) -> None:
    """Check a signed-in person's own password before a grave step (new password, deletion).

    A wrong one is charged to the login throttle like a failed sign-in, so a stolen session
    cannot be used to guess the password faster than the sign-in form allows; an error before
    a verdict costs nothing. Raises 429 when throttled and 403 (``wrong``, ``field``) when wrong.
    """
    services = services_of(request)
    host = request.client.host if request.client is not None else None
    throttle = services.login_throttle
    admission = throttle.admit(person.username, host)
    if not admission.allowed:
        raise ApiError(
            ErrorCode.RATE_LIMITED, "too many wrong passwords; try again later", retry_after=admission.retry_after
        )
    try:
        async with services.db.read() as conn:
            stored_hash = await user_store.password_hash_of(conn, person.id)
        verified = await verify_password(stored_hash, password)
    except BaseException:
        throttle.refund(person.username, host)
        raise
    if not verified:
        raise ApiError(ErrorCode.FORBIDDEN, wrong, field=field)
    throttle.refund(person.username, host)


async def change_password(request: Request) -> Response:
    """Change my password: every other session of mine ends (on every process); this one stays.

    A wrong current password is charged to the login throttle (``confirm_own_password``).
    """
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, PasswordBody)
    problem = password_problem(body.new_password)
    if problem is not None:
        raise ApiError(ErrorCode.INVALID, f"new_password: {problem}", field="new_password")
    person = session.person
    await confirm_own_password(
        request, person, body.current_password, "the current password is wrong", field="current_password"
    )
    new_hash = await hash_password(body.new_password)
    async with services.db.write() as conn:
        await user_store.set_password(conn, person.id, new_hash)
        ended = await session_store.revoke_all(conn, person.id, keep=session.id)
        await audit.record(conn, audit.Entry(person.id, "account.password", target_user_id=person.id))
    for session_id in ended:
        services.hub.end_session(session_id)
    return json({"ended_sessions": len(ended)})
