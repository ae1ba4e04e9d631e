"""The audit trail over HTTP: admins read and filter it; nothing here (or anywhere) changes it.

Entries are returned newest first, a page at a time (``before`` = the last id of the page
before), with the actor and the target person as staff see them (real names beside
display names); ``null`` actor is the system or an operator at the command line.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from server.http.common import ApiError, decimal, json, services_of, session_of
from server.protocol import MAX_ID, ErrorCode
from server.store import audit
from server.store import users as user_store
from server.store.database import as_utc


async def with_names(conn: AsyncConnection, entries: list[dict[str, Any]], staff: bool = True) -> list[dict[str, Any]]:
    """The entries with ``actor`` and ``target_user`` as people instead of ids: as staff see them
    (real names), or as peers do (display names) for a moderator who is not staff."""
    ids = {e[key] for e in entries for key in ("actor", "target_user") if e[key] is not None}
    people = {
        user_id: person.for_staff() if staff else person.public()
        for user_id, person in (await user_store.by_ids(conn, ids)).items()
    }
    return [{**e, "actor": people.get(e["actor"]), "target_user": people.get(e["target_user"])} for e in entries]


_ACTION = re.compile(r"[a-z0-9_.]{1,40}")  # every action name (room.create, member.mute, …) is of this form


def _id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name) or None
    value = decimal(raw, 1, MAX_ID)
    if raw is not None and value is None:
        raise ApiError(ErrorCode.INVALID, f"{name} must be a positive integer", field=name)
    return value


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name) or None
    if raw is None:
        return None
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(ErrorCode.INVALID, f"{name} must be an ISO 8601 time", field=name) from None
    if stamp.tzinfo is None:
        raise ApiError(ErrorCode.INVALID, f"{name} must name its time zone (e.g. Z or +00:00)", field=name)
    return as_utc(stamp)


def _filter(request: Request) -> audit.Filter:
    limit = _id(request, "limit") or 100
    if limit > audit.MAX_PAGE:
        raise ApiError(ErrorCode.INVALID, f"limit must be at most {audit.MAX_PAGE}", field="limit")
    action = request.query_params.get("action") or None
    if action is not None and not _ACTION.fullmatch(action):
        raise ApiError(ErrorCode.INVALID, "action: at most 40 characters, a-z, 0-9, '_' and '.'", field="action")
    return audit.Filter(
        program_id=_id(request, "program"),
        actor_id=_id(request, "actor"),
        target_user_id=_id(request, "target_user"),
        room_id=_id(request, "room"),
        action=action,
        since=_time(request, "since"),
        until=_time(request, "until"),
        before_id=_id(request, "before"),
        limit=limit,
    )


async def read_trail(request: Request) -> Response:
    """GET /api/audit?program=&actor=&target_user=&room=&action=&since=&until=&before=&limit= (admins)."""
    services = services_of(request)
    session = await session_of(request)
    if session.person.role != "admin":
        raise ApiError(ErrorCode.FORBIDDEN, "only admins read the audit trail")
    wanted = _filter(request)
    async with services.db.read() as conn:
        found = await with_names(conn, await audit.entries(conn, wanted))
    full = len(found) == wanted.limit
    return json({"entries": found, "next_before": found[-1]["id"] if full and found else None})
