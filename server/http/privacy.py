"""A person's data: their own export through a short-lived signed link, staff disclosures of it,
and the accounting of those disclosures that the person reads.

Invariants: every export carries the redisclosure notice (42 CFR Part 2, section 2.32) from
``config/privacy.toml``; every export is in the audit trail, written in the transaction that
read the record; every disclosure to someone else (a staff export, a legal hold) is in the
accounting of disclosures, written in that same transaction. A person's own export is not a
disclosure to someone else, so it is audited but not accounted.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.http.common import ApiError, json, parse, services_of, session_of
from server.http.program_access import path_id
from server.protocol import ErrorCode
from server.rules.privacy import export_link_matches, export_link_payload, may_disclose
from server.settings import PrivacySettings
from server.store import audit
from server.store import disclosures as disclosure_store
from server.store import enrollments as enrollment_store
from server.store import exports as export_store
from server.store.audit import Entry
from server.store.database import utcnow
from server.store.disclosures import Made
from server.store.events import iso
from server.store.programs import ProgramInfo, get_program
from server.store.users import Person

STAFF_EXPORT_SCOPE = "the program's record: account, enrollment, rooms, messages, reactions, reports and warnings"
Text = Annotated[str, Field(min_length=1, max_length=500)]


class DisclosureBody(BaseModel):
    """Who receives the record and why (a staff export)."""

    model_config = ConfigDict(extra="forbid")
    recipient: Annotated[str, Field(min_length=1, max_length=200)]
    purpose: Text


class RecordedDisclosureBody(DisclosureBody):
    """A disclosure made outside the service and recorded here (a legal hold), and what it covered."""

    kind: Literal["legal_hold"]
    scope: Text


def _filled(body: DisclosureBody) -> None:
    for name in type(body).model_fields:
        value = getattr(body, name)
        if isinstance(value, str) and not value.strip():
            raise ApiError(ErrorCode.INVALID, f"{name}: must not be blank", field=name)


def _document(privacy: PrivacySettings, record: dict[str, Any], export: dict[str, Any], now: datetime) -> bytes:
    """The export file: the notice first, then what kind of export it is, then the record."""
    return orjson.dumps(
        {
            "notice": {"title": privacy.notice_title, "text": privacy.notice_text},
            "format": export_store.FORMAT,
            "generated_at": iso(now),
            "export": export,
            **record,
        },
        option=orjson.OPT_INDENT_2,
    )


def _attachment(document: bytes, username: str, now: datetime) -> Response:
    """A JSON download (the middleware adds ``Cache-Control: no-store`` to every /api/ answer)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", username)[:64] or "person"
    filename = f"alongside-export-{safe}-{now:%Y%m%d}.json"
    return Response(
        document,
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


async def request_export(request: Request) -> Response:
    """POST /api/me/export: a download link for my record, good for a few minutes in this session."""
    services = services_of(request)
    session = await session_of(request)
    minutes = services.settings.privacy.export_link_minutes
    token = services.signers.export.sign(export_link_payload(session.person.id, session.id))
    expires_at = utcnow() + timedelta(minutes=minutes)
    return json({"url": f"/api/me/export/{token}", "expires_at": iso(expires_at)}, 201)


async def download_export(request: Request) -> Response:
    """GET /api/me/export/{token}: my record as a JSON file, if the link is mine, fresh and for exports."""
    services = services_of(request)
    session = await session_of(request)
    token = request.path_params["token"]
    max_age = round(services.settings.privacy.export_link_minutes * 60)
    payload = None if len(token) > 512 else services.signers.export.verify(token, max_age=max_age)
    if not export_link_matches(payload, session.person.id, session.id):
        raise ApiError(ErrorCode.FORBIDDEN, "this download link has expired or is not yours; ask for a new one")
    now = utcnow()
    async with services.db.write() as conn:
        record = await export_store.record_of(conn, session.person.id)
        if record is None:
            raise ApiError(ErrorCode.UNAUTHORIZED, "sign in first")
        await audit.record(
            conn,
            Entry(
                session.person.id,
                "export.self",
                target_user_id=session.person.id,
                detail={"messages": len(record["messages"])},
            ),
            now,
        )
    document = _document(services.settings.privacy, record, {"kind": "self"}, now)
    return _attachment(document, session.person.username, now)


async def my_disclosures(request: Request) -> Response:
    """GET /api/me/disclosures: to whom my record was disclosed, when, why, and by whom (newest first)."""
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        found = await disclosure_store.of_subject(conn, session.person.id)
    return json({"disclosures": found})


async def _discloser(conn: AsyncConnection, request: Request, person: Person) -> tuple[ProgramInfo, int]:
    """The program and the person the path names, if the caller may disclose that person's record
    (``server.rules.privacy``).

    Anyone refused learns nothing of the program or the person: ``forbidden`` for both "not
    yours" and "no such person here"; only an admin hears ``not_found``.
    """
    program_id, subject_id = path_id(request, "program_id"), path_id(request, "user_id")
    program = None if program_id is None else await get_program(conn, program_id)
    mine = None if program is None else await enrollment_store.standing(conn, person.id, program.id)
    subject = None
    if program is not None and subject_id is not None:
        subject = await enrollment_store.standing(conn, subject_id, program.id)
    allowed = may_disclose(
        person.role, None if mine is None else mine.role, None if mine is None else mine.status, subject is not None
    )
    if program is None or subject is None or not allowed:
        if person.role == "admin":
            raise ApiError(ErrorCode.NOT_FOUND, "no such program, or the person is not enrolled in it")
        raise ApiError(ErrorCode.FORBIDDEN, "only admins and this program's staff may disclose its people's records")
    return program, subject.user_id


async def staff_export(request: Request) -> Response:
    """POST /api/programs/{id}/people/{user}/export {recipient, purpose}: the program's record of
    the person as a JSON file for the named recipient; accounted as a disclosure and audited."""
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, DisclosureBody)
    _filled(body)
    now = utcnow()
    async with services.db.write() as conn:
        program, subject_id = await _discloser(conn, request, session.person)
        record = await export_store.record_of(conn, subject_id, program.id)
        if record is None:
            raise ApiError(ErrorCode.NOT_FOUND, "no such person")
        made = Made(
            subject_id=subject_id,
            program_id=program.id,
            kind="staff_export",
            recipient=body.recipient.strip(),
            purpose=body.purpose.strip(),
            scope=STAFF_EXPORT_SCOPE,
            disclosed_by=session.person.id,
        )
        disclosure_id = await _account_for(conn, made, "export.staff", now)
    export = {
        "kind": "staff_export",
        "disclosure": disclosure_id,
        "program": {"id": program.id, "name": program.name},
        "recipient": made.recipient,
        "purpose": made.purpose,
        "disclosed_by": session.person.public(),
    }
    document = _document(services.settings.privacy, record, export, now)
    return _attachment(document, record["account"]["username"], now)


async def record_disclosure(request: Request) -> Response:
    """POST /api/programs/{id}/people/{user}/disclosures {kind: legal_hold, recipient, purpose, scope}:
    account for a disclosure made outside the service (under legal process); no data leaves here."""
    services = services_of(request)
    session = await session_of(request)
    body = await parse(request, RecordedDisclosureBody)
    _filled(body)
    now = utcnow()
    async with services.db.write() as conn:
        program, subject_id = await _discloser(conn, request, session.person)
        made = Made(
            subject_id=subject_id,
            program_id=program.id,
            kind=body.kind,
            recipient=body.recipient.strip(),
            purpose=body.purpose.strip(),
            scope=body.scope.strip(),
            disclosed_by=session.person.id,
        )
        disclosure_id = await _account_for(conn, made, f"disclosure.{made.kind}", now)
        found = await disclosure_store.of_subject(conn, subject_id)
    return json({"disclosure": next(d for d in found if d["id"] == disclosure_id)}, 201)


async def person_disclosures(request: Request) -> Response:
    """GET /api/programs/{id}/people/{user}/disclosures: the person's accounting, for those who may disclose."""
    services = services_of(request)
    session = await session_of(request)
    async with services.db.read() as conn:
        _, subject_id = await _discloser(conn, request, session.person)
        found = await disclosure_store.of_subject(conn, subject_id)
    return json({"disclosures": found})


async def _account_for(conn: AsyncConnection, made: Made, action: str, now: datetime) -> int:
    """Record a disclosure in the person's accounting and audit it, in the caller's transaction."""
    disclosure_id = await disclosure_store.record(conn, made, now)
    await audit.record(conn, _disclosure_entry(made, disclosure_id, action), now)
    return disclosure_id


def _disclosure_entry(made: Made, disclosure_id: int, action: str) -> Entry:
    """The audit side of a disclosure: who, whose record, to whom and why (no record content)."""
    return Entry(
        made.disclosed_by,
        action,
        program_id=made.program_id,
        target_user_id=made.subject_id,
        target=f"disclosure {disclosure_id}",
        reason=made.purpose,
        detail={"recipient": made.recipient, "kind": made.kind},
    )


ROUTES = [
    Route("/api/me/export", request_export, methods=["POST"]),
    Route("/api/me/export/{token}", download_export, methods=["GET"]),
    Route("/api/me/disclosures", my_disclosures, methods=["GET"]),
    Route("/api/programs/{program_id}/people/{user_id}/export", staff_export, methods=["POST"]),
    Route("/api/programs/{program_id}/people/{user_id}/disclosures", record_disclosure, methods=["POST"]),
    Route("/api/programs/{program_id}/people/{user_id}/disclosures", person_disclosures, methods=["GET"]),
]
