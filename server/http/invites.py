"""Invite links (create, list, revoke, preview) and registration through one.

Invariant: registration is one transaction: the invite's use, the account, the enrollment
with its rooms, and the session either all happen or none does; the stored membership
events are published only after it commits.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.auth.passwords import hash_password, password_problem
from server.http.auth import signed_in
from server.http.common import ApiError, json, parse, publish, services_of, session_of
from server.http.program_access import path_id, require_manager
from server.protocol import MAX_ID, ErrorCode
from server.rules.accounts import display_name_problem, normalise_username, username_problem
from server.rules.invites import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS, MAX_USES, target_problem
from server.services import Services
from server.store import audit, audit_entries, enrollments
from server.store import invites as invite_store
from server.store import sessions as session_store
from server.store import users as user_store
from server.store.database import utcnow
from server.store.enrollments import Change
from server.store.invites import InviteInfo, InviteRefused
from server.store.programs import get_cohort
from server.store.users import Person


class InviteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["participant", "staff"]
    cohort: StrictInt | None = Field(default=None, ge=1, le=MAX_ID)
    max_uses: StrictInt = Field(default=1, ge=1, le=MAX_USES)
    expires_in_days: StrictInt = Field(default=DEFAULT_EXPIRY_DAYS, ge=1, le=MAX_EXPIRY_DAYS)
    real_name: str | None = Field(default=None, max_length=100)


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    display_name: str = Field(min_length=1, max_length=64)
    invite: str = Field(min_length=1, max_length=invite_store.MAX_TOKEN_CHARS)


_INVITE_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # what store.invites.create makes (token_urlsafe)


def _link(request: Request, services: Services, invite: InviteInfo) -> dict[str, str]:
    """The token and the client's register page for it, on the address the request came to."""
    token = services.signers.invite.sign(invite.id)
    return {"token": token, "url": f"{request.base_url}#invite={token}"}


async def create_invite(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, InviteBody)
    real_name = (body.real_name or "").strip() or None
    async with services.db.write() as conn:
        program = await require_manager(conn, session.person, path_id(request, "program_id"))
        cohort = None if body.cohort is None else await get_cohort(conn, body.cohort)
        problem = target_problem(
            body.role,
            program.id,
            None if cohort is None else cohort.program_id,
            cohort is not None and not cohort.deleted,
        )
        if problem is not None:
            raise ApiError(ErrorCode.INVALID, f"cohort: {problem}", field="cohort")
        invite = await invite_store.create(
            conn,
            program_id=program.id,
            cohort_id=body.cohort,
            role=body.role,
            real_name=real_name,
            max_uses=body.max_uses,
            expires_at=utcnow() + timedelta(days=body.expires_in_days),
            created_by=session.person.id,
        )
        await audit.record(conn, audit_entries.invite_created(session.person.id, invite))
    return json({**invite.for_staff(utcnow()), **_link(request, services, invite)}, 201)


async def list_invites(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        program = await require_manager(conn, session.person, path_id(request, "program_id"))
        found = await invite_store.of_program(conn, program.id)
    now = utcnow()
    return json({"invites": [{**invite.for_staff(now), **_link(request, services, invite)} for invite in found]})


async def revoke_invite(request: Request) -> Response:
    services = services_of(request)
    session = await session_of(request)
    raw = request.path_params["invite_id"]
    async with services.db.write() as conn:
        invite = await invite_store.get(conn, raw) if _INVITE_ID.fullmatch(raw) else None
        await require_manager(conn, session.person, None if invite is None else invite.program_id, "invite")
        assert invite is not None
        await invite_store.revoke(conn, invite.id)
        await audit.record(
            conn,
            audit.Entry(session.person.id, "invite.revoke", program_id=invite.program_id, target=f"invite {invite.id}"),
        )
    return Response(status_code=204)


async def preview_invite(request: Request) -> Response:
    """Public on purpose (the person has no account yet): is this link good, and for what."""
    services = services_of(request)
    try:
        invite_id = invite_store.invite_id_of(services.signers.invite, request.path_params["token"])
    except InviteRefused as exc:
        return json({"valid": False, "code": exc.code.value, "message": exc.message})
    async with services.db.read() as conn:
        invite = await invite_store.get(conn, invite_id)
    if invite is None:
        code = ErrorCode.INVITE_INVALID
        return json({"valid": False, "code": code.value, "message": invite_store.MESSAGES[code]})
    answer: dict[str, Any] = invite.preview(utcnow())
    if answer["code"] is not None:
        answer["message"] = invite_store.MESSAGES[ErrorCode(answer["code"])]
    return json(answer)


def _account_problem(body: RegisterBody) -> ApiError | None:
    checks = (
        ("username", username_problem(normalise_username(body.username))),
        ("display_name", display_name_problem(body.display_name.strip())),
        ("password", password_problem(body.password)),
    )
    for field, problem in checks:
        if problem is not None:
            return ApiError(ErrorCode.INVALID, f"{field}: {problem}", field=field)
    return None


async def _usable_invite_id(services: Services, token: str) -> str:
    """The invite a link names, refused early (before paying for a password hash) if dead."""
    invite_id = invite_store.invite_id_of(services.signers.invite, token)
    async with services.db.read() as conn:
        found = await invite_store.get(conn, invite_id)
    if found is None:
        raise InviteRefused(ErrorCode.INVITE_INVALID)
    dead = found.problem(utcnow())
    if dead is not None:
        raise InviteRefused(dead)
    return invite_id


async def _join_through(
    conn: AsyncConnection, services: Services, body: RegisterBody, invite_id: str, password_hash: str
) -> tuple[Person, Change, str]:
    """Inside the registration transaction: the use, the account, the enrollment, the session."""
    invite = await invite_store.redeem(conn, invite_id)
    try:
        person = await user_store.create_user(
            conn,
            username=normalise_username(body.username),
            display_name=body.display_name.strip(),
            password_hash=password_hash,
            role=invite.role,
            real_name=invite.real_name,
        )
    except user_store.UsernameTaken:
        raise ApiError(ErrorCode.CONFLICT, "that username is taken", field="username") from None
    change = await enrollments.enroll(
        conn,
        person=person,
        program_id=invite.program_id,
        cohort_id=invite.cohort_id,
        role=invite.role,
        by=invite.created_by,
        reason="registered with an invite",
        invite_id=invite.id,
    )
    session_id = await session_store.create(conn, person.id, services.settings.session_max_age)
    return person, change, session_id


async def register(request: Request) -> Response:
    services = services_of(request)
    body = await parse(request, RegisterBody)
    problem = _account_problem(body)
    if problem is not None:
        raise problem
    try:
        invite_id = await _usable_invite_id(services, body.invite)
        password_hash = await hash_password(body.password)
        async with services.db.write() as conn:
            person, change, session_id = await _join_through(conn, services, body, invite_id, password_hash)
    except InviteRefused as exc:
        raise ApiError(exc.code, exc.message, field="invite") from None
    publish(services, change)
    return signed_in(services, person, session_id, 201)


ROUTES = [
    Route("/api/auth/register", register, methods=["POST"]),
    Route("/api/programs/{program_id}/invites", create_invite, methods=["POST"]),
    Route("/api/programs/{program_id}/invites", list_invites, methods=["GET"]),
    Route("/api/invites/{token}", preview_invite, methods=["GET"]),
    Route("/api/invites/{invite_id}", revoke_invite, methods=["DELETE"]),
]
