"""The ASGI application: routes, security headers, and the lifespan that owns the parts.

``server.app:app`` is built from settings read once at import; tests call
``create_app(settings)`` to build their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from server.admission import EARLY_REFUSAL, REFUSAL_TARPIT, UPGRADE_PACER, RefusalTarpit, UpgradePacer
from server.auth.tokens import Signers
from server.broker import open_broker
from server.heap import settle
from server.http import (
    account,
    audit,
    auth,
    backchannel,
    health,
    invites,
    lifecycle,
    metrics,
    moderation,
    monitoring,
    people,
    privacy,
    programs,
    queue,
    rooms,
)
from server.http.common import ApiError, error_response
from server.hub import Hub
from server.ingest import Ingest
from server.logs import configure_logging
from server.protocol import ErrorCode
from server.request_log import RequestLog
from server.services import Services, new_process_id
from server.settings import Settings, load_settings
from server.store.database import Database, StoreUnavailable
from server.stuck import log_pending_tasks
from server.ws import early_refusal, websocket_endpoint

log = logging.getLogger("alongside.app")
CLIENT_DIR = Path(__file__).resolve().parent.parent / "client_web"
STOP_STEP_TIMEOUT = 5.0  # seconds each part of the lifespan's shutdown gets

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Adds the same protective headers to every HTTP response (pure ASGI, no buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)
                if scope["path"].startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.code, exc.message, **exc.extra)


async def _unavailable(request: Request, exc: Exception) -> Response:
    return error_response(ErrorCode.UNAVAILABLE, "storage is unavailable; nothing was stored, retry")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}.get(exc.status_code, ErrorCode.INVALID)
    response = error_response(code, str(exc.detail))
    response.status_code = exc.status_code
    return response


async def _internal(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(ErrorCode.INTERNAL, "something went wrong on our side")


async def index(request: Request) -> Response:
    return FileResponse(CLIENT_DIR / "index.html", headers={"cache-control": "no-cache"})


async def console(request: Request) -> Response:
    """The moderator console; it signs in with the same session cookie as the chat."""
    return FileResponse(CLIENT_DIR / "console.html", headers={"cache-control": "no-cache"})


class Alongside:
    """The ASGI entry point: `/ws` goes straight to the WebSocket endpoint, the rest to Starlette.

    Idle WebSockets are most of a process's memory (W3 in bench/); keeping the HTTP
    middleware stack out of their call chain saves its suspended frames on every socket.
    """

    def __init__(self, http: Starlette) -> None:
        self.http = RequestLog(http)  # outside Starlette's error handling, so it sees every 500
        self.state = http.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if scope["path"] == "/ws":
                await websocket_endpoint(WebSocket(scope, receive, send), self.state.services, send)
            else:
                await WebSocket(scope, receive, send).close(1008)
            return
        await self.http(scope, receive, send)


async def _bounded(step: Awaitable[None], what: str) -> None:
    """Await one part of the shutdown for at most ``STOP_STEP_TIMEOUT``, then go on without it.

    uvicorn bounds the sockets' part of a stop, not the lifespan's: a part that waits for
    something that never comes held SIGTERM until the supervisor's SIGKILL (bench/soak.py:
    "down 30 s", the process idle in ``hub.stop``). Past the bound it is cancelled
    and the next part runs; what the writer had not committed was never acknowledged.
    """
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=STOP_STEP_TIMEOUT)
    if not done:
        log.error("shutdown: %s did not finish within %s s; cancelled", what, STOP_STEP_TIMEOUT)
        log_pending_tasks(log, f"shutdown: waiting for {what}")  # what it was stuck on, before cancelling
        task.cancel()
        return
    task.result()


def create_app(settings: Settings, serving: bool = False) -> Alongside:
    """Build the application; the lifespan opens the database, broker, hub and writer.

    ``serving``: the process exists to run this app (``uvicorn server.app:app``), so once it
    is ready its start-up heap is frozen (``server.heap``); tests build apps side by side.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        process_id = new_process_id()
        db = Database(settings.database_url)
        broker = open_broker(settings.redis_url, process_id)
        hub = Hub(db, broker, settings, process_id)
        ingest = Ingest(db, hub, writers=1 if db.is_sqlite else 2)
        app.state.services = Services(
            settings=settings,
            db=db,
            broker=broker,
            hub=hub,
            ingest=ingest,
            signers=Signers(settings.secret_keys),
            process_id=process_id,
        )
        await hub.start()
        ingest.start()
        if serving:
            settle()
        log.info("alongside process %s ready", process_id)
        try:
            # the lifespan state reaches uvicorn's protocols (app_state): server.admission asks it
            yield {
                EARLY_REFUSAL: partial(early_refusal, app.state.services),
                UPGRADE_PACER: UpgradePacer(
                    settings.limits.upgrades_per_turn,
                    settings.limits.upgrades_per_second,
                    settings.limits.upgrade_burst,
                ),
                REFUSAL_TARPIT: RefusalTarpit(
                    settings.limits.refused_handshake_delay, settings.limits.refused_handshakes_held
                ),
            }
        finally:
            await _bounded(ingest.stop(), "the writer")
            await _bounded(hub.stop(), "the hub")
            await _bounded(db.dispose(), "the database pool")

    routes = [
        Route("/", index),
        Route("/console", console),
        Route("/healthz", health.healthz),
        Route("/readyz", health.readyz),
        Route("/metrics", metrics.metrics),
        Route("/api/crisis-resources", health.crisis_resources),
        Route("/api/auth/login", auth.login, methods=["POST"]),
        Route("/api/auth/logout", auth.logout, methods=["POST"]),
        Route("/api/me", auth.me),
        Route("/api/me/password", auth.change_password, methods=["POST"]),
        Route("/api/rooms", rooms.list_rooms, methods=["GET"]),
        Route("/api/rooms", rooms.create_room, methods=["POST"]),
        Route("/api/rooms/{room_id}/members", rooms.add_member, methods=["POST"]),
        Route("/api/rooms/{room_id}/messages", rooms.history, methods=["GET"]),
        Route("/api/rooms/{room_id}/read", rooms.mark_read, methods=["POST"]),
        *programs.ROUTES,
        *invites.ROUTES,
        *lifecycle.ROUTES,
        *monitoring.ROUTES,
        *queue.ROUTES,
        *moderation.ROUTES,
        *people.ROUTES,
        *account.ROUTES,
        *privacy.ROUTES,
        Route("/api/audit", audit.read_trail, methods=["GET"]),
        Route("/api/rooms/{room_id}/backchannel", backchannel.backchannel, methods=["POST"]),
        Mount("/static", StaticFiles(directory=CLIENT_DIR, check_dir=False), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            StoreUnavailable: _unavailable,
            HTTPException: _http_error,
            Exception: _internal,
        },
    )
    app.add_middleware(SecurityHeaders)
    return Alongside(app)


def _app_from_environment() -> Alongside:
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings, serving=True)


app = _app_from_environment()
