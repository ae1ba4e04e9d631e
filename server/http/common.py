"""What every HTTP handler shares: error answers, body parsing, and who is asking.

Invariant: a handler never sees a request body that was not size-checked and validated
by a pydantic model, and never acts for a cookie-authenticated write without a matching
CSRF token.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.auth.current import csrf_valid, resolve
from server.auth.guards import CSRF_HEADER, SESSION_COOKIE, UNSAFE_METHODS, bearer_token
from server.lifecycle import go_live
from server.logs import note_user
from server.protocol import ErrorCode
from server.services import Services
from server.store.enrollments import Change
from server.store.sessions import ActiveSession

Model = TypeVar("Model", bound=BaseModel)

STATUS = {
    ErrorCode.INVALID: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CSRF: 403,
    ErrorCode.NOT_MEMBER: 403,
    ErrorCode.READ_ONLY: 403,
    ErrorCode.OBSERVING: 403,
    ErrorCode.MUTED: 403,
    ErrorCode.LOCKED: 403,
    ErrorCode.SLOW_MODE: 429,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
    ErrorCode.INVITE_INVALID: 400,
    ErrorCode.INVITE_EXPIRED: 410,
    ErrorCode.INVITE_USED: 410,
    ErrorCode.INVITE_REVOKED: 410,
    ErrorCode.INVITE_GONE: 410,
}


class ApiError(Exception):
    """Raised by handlers; becomes ``{"code", "message"}`` with the matching status."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def decimal(raw: str | None, low: int, high: int) -> int | None:
    """The integer ``raw`` spells in ASCII digits, if it lies from ``low`` to ``high``; else None.

    For path and query parameters: ``str.isdigit`` alone also passes "²" (which ``int``
    refuses) and "١٢" (which it reads), and ``int`` refuses more than 4300 digits.
    """
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if low <= value <= high else None


def json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def error_response(code: ErrorCode, message: str, **extra: Any) -> JSONResponse:
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(max(1, round(extra["retry_after"])))
    return JSONResponse({"code": code.value, "message": message, **extra}, STATUS[code], headers=headers)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def publish(services: Services, change: Change) -> None:
    """After commit: deliver the stored membership events, end the access the change removed,
    and tell everyone whose rooms changed (``server.lifecycle.go_live``)."""
    go_live(services.hub, change, status_moved=False)


async def parse(request: Request, model: type[Model]) -> Model:
    """Read a bounded JSON body and validate it against ``model``."""
    limit = services_of(request).settings.limits.max_http_body
    declared = decimal(request.headers.get("content-length"), 0, 2**62)
    if declared is not None and declared > limit:
        raise ApiError(ErrorCode.TOO_LARGE, f"request body over {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(ErrorCode.TOO_LARGE, f"request body over {limit} bytes")
    try:
        data = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        raise ApiError(ErrorCode.INVALID, "request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(ErrorCode.INVALID, "request body must be a JSON object")
    if b"\\u0000" in body and _holds_nul(data):  # PostgreSQL refuses NUL in text; nobody needs one
        raise ApiError(ErrorCode.INVALID, "request body: NUL characters (\\u0000) are not allowed in text")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(ErrorCode.INVALID, f"{where}: {first['msg']}", field=where) from None


def _holds_nul(data: Any) -> bool:
    """Whether any string in parsed JSON (a key or a value, at any depth) contains NUL."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


async def session_of(request: Request) -> ActiveSession:
    """The caller's live session; cookie-authenticated writes must carry the CSRF token."""
    services = services_of(request)
    max_age = services.settings.session_max_age
    token = bearer_token(request.headers)
    by_cookie = token is None
    if by_cookie:
        token = request.cookies.get(SESSION_COOKIE)
    session = await resolve(services.db, services.signers, token, max_age)
    if session is None:
        raise ApiError(ErrorCode.UNAUTHORIZED, "sign in first")
    note_user(session.person.id)
    csrf_needed = by_cookie and request.method in UNSAFE_METHODS
    if csrf_needed and not csrf_valid(services.signers, request.headers.get(CSRF_HEADER), session.id, max_age):
        raise ApiError(ErrorCode.CSRF, "missing or wrong X-CSRF-Token header")
    return session


async def staff_session(request: Request) -> ActiveSession:
    session = await session_of(request)
    if not session.person.is_staff:
        raise ApiError(ErrorCode.FORBIDDEN, "only staff may do this")
    return session
