"""One access line per HTTP request, and the request id every other line of it carries.

Pure ASGI (no body buffering, no task per request), around the whole HTTP application so
it sees the status of every answer, the 500s included. The WebSocket path never comes
here (``server.app.Alongside``): its lines carry a connection id instead (``server.ws``).

Invariant: the line names the route's template (``/api/invites/{token}``), never the path
as sent, which may hold a token, and never the query string, headers or body.
"""

from __future__ import annotations

import logging
import time

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.logs import LogContext, bind, request_id_from

log = logging.getLogger("alongside.http")
HEADER = b"x-request-id"


def _template(scope: Scope) -> str:
    """The matched route's path template, or the path itself when nothing matched (a 404)."""
    route = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    raw: str = scope.get("path", "")
    return raw[:200]


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = next((value for name, value in scope["headers"] if name == HEADER), None)
        request_id = request_id_from(None if presented is None else presented.decode("latin-1"))
        bind(LogContext(request_id=request_id))
        echoed = (HEADER, request_id.encode())
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), echoed]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s",
                scope["method"],
                _template(scope),
                status,
                extra={
                    "fields": {
                        "method": scope["method"],
                        "path": _template(scope),
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                },
            )
