"""The WebSocket endpoint: handshake checks, then one reader loop and one writer task.

Invariant: no input ends the connection or the process. Every frame is decoded by
``protocol.decode``; any refusal becomes an ``error`` frame echoing the frame's ``ref``,
and the loop reads the next frame. Authorisation is checked for every frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import Send as AsgiSend
from starlette.websockets import WebSocket

from server.auth.current import active_session, signed_session_id
from server.auth.guards import origin_allowed, websocket_token
from server.connection import CLOSE_GRACE, Connection
from server.logs import LogContext, bind, new_id, note_user
from server.moderation import muted_frame
from server.protocol import (
    CloseCode,
    ErrorCode,
    Join,
    Leave,
    Ping,
    ProtocolError,
    React,
    Send,
    Typing,
    decode,
    encode,
    error_frame,
    peek_ref,
)
from server.rules.handshake import Answer, Verdict, hostile_close
from server.rules.limits import take
from server.services import Services
from server.store import direct_reads
from server.store import duty as duty_store
from server.store import reactions as reaction_store
from server.store.database import StoreUnavailable, utcnow
from server.store.duty import Member
from server.store.events import NewMessage, Posted, iso
from server.transport import SEND_MANY

log = logging.getLogger("alongside.ws")
# seconds a handshake waits for its turn to read the session; the reads ahead of it take at most
# CONNECT_TIMEOUT and a pool's wait each when the database does not answer
TURN_WAIT = 10.0


async def websocket_endpoint(ws: WebSocket, services: Services, send: AsgiSend) -> None:
    """Handshake checks, then this coroutine reads frames while the writer task sends.

    Frames go out through the raw ASGI ``send`` (Starlette's wrapper checks state on every
    frame, and knows nothing of the transport's ``alongside.send_many`` extension).
    """
    settings = services.settings
    bind(LogContext(conn_id=new_id()))  # every line written while this socket is handled names it
    metrics = services.hub.metrics
    host = ws.client.host if ws.client is not None else None  # behind a proxy: what --proxy-headers gives
    allowed, session_id = _credentials(services, Headers(scope=ws.scope))
    ws.scope["headers"] = []  # the handshake is over: idle sockets are most of our memory (W3)
    verdict = services.handshakes.before_lookup(allowed, host, session_id)
    if verdict.answer != Answer.OPEN or session_id is None:
        await _refuse(ws, services, verdict)
        return
    try:
        async with _turn(services):
            session = await active_session(services.db, session_id)
    except StoreUnavailable:
        metrics.handshakes_refused.labels("unavailable").inc()
        log.warning("ws refused: storage unavailable", extra={"fields": {"close": 1013}})
        await ws.accept()
        await ws.send_text(error_frame(ErrorCode.UNAVAILABLE, "storage is unavailable; try again shortly"))
        await ws.close(1013, "try again later")
        return
    verdict = services.handshakes.after_lookup(host, session_id, None if session is None else session.person.id)
    if verdict.answer != Answer.OPEN or session is None:
        await _refuse(ws, services, verdict)
        return
    await ws.accept()

    note_user(session.person.id)
    log.info("ws open")
    conn = Connection(
        session.person,
        session.id,
        session.expires_at,
        _raw_sender(send),
        ws.close,
        settings.limits.outgoing_queue,
        _batch_sender(send) if SEND_MANY in ws.scope.get("extensions", {}) else None,
    )
    me = asyncio.current_task()
    conn.owner = me
    services.hub.attach(conn)
    metrics.connections_opened.inc()
    conn.push(_hello(services, conn))
    client_code: int | None = None
    try:
        client_code = await _read_frames(services, conn, ws)
    except asyncio.CancelledError:
        if not conn.closed or me is None:
            raise  # not ours: the server is shutting down
        me.uncancel()  # we stopped reading on purpose (the client is too slow or did not answer)
        if conn.close_code == CloseCode.SLOW_CONSUMER:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(conn.close_code, "too slow"), CLOSE_GRACE)
    finally:
        services.hub.detach(conn)
        metrics.closed(conn.close_code)
        closed_by = "server" if conn.close_code is not None else "client"
        code = conn.close_code if conn.close_code is not None else client_code
        log.info("ws closed", extra={"fields": {"close": code, "by": closed_by}})
        if hostile_close(code):  # closed for flooding: its reconnects are throttled (server.rules.handshake)
            services.handshakes.strike(conn.session_id, conn.person.id)
            services.trimmer.churned()
        conn.closed = True
        await conn.stop_writer()


@contextlib.asynccontextmanager
async def _turn(services: Services) -> AsyncIterator[None]:
    """A turn to read the session: sockets opening together take turns with the rooms' traffic
    (``limits.sessions_read_at_once``). No turn within ``TURN_WAIT`` means the reads ahead are
    stuck (the database does not answer): the socket is told ``unavailable``, as they will be."""
    try:
        async with asyncio.timeout(TURN_WAIT):
            await services.opening.acquire()
    except TimeoutError:
        raise StoreUnavailable("no turn to read the session") from None
    try:
        yield
    finally:
        services.opening.release()


def _credentials(services: Services, headers: Headers) -> tuple[bool, str | None]:
    """Whether the Origin is allowed, and the session id a valid token names (no database work).

    Not ``ws.headers``: that copy would stay cached on the socket.
    """
    allowed = origin_allowed(headers.get("origin"), services.settings.allowed_origins)
    token = websocket_token(headers, cookie_parser(headers.get("cookie", ""))) if allowed else None
    return allowed, signed_session_id(services.signers, token, services.settings.session_max_age)


def _denial(services: Services, verdict: Verdict) -> tuple[int, dict[str, str], bytes] | None:
    """The HTTP answer (status, headers, JSON body) refusing a handshake before the upgrade, counted;
    None for a verdict answered otherwise."""
    metrics = services.hub.metrics
    if verdict.answer == Answer.FORBIDDEN:
        metrics.handshakes_refused.labels("origin").inc()
        log.info("ws refused: origin not allowed", extra={"fields": {"status": 403}})
        return 403, {}, orjson.dumps({"code": "forbidden", "message": "this origin may not open a WebSocket here"})
    if verdict.answer == Answer.THROTTLED:
        metrics.handshakes_refused.labels("throttled").inc()
        log.debug("ws refused: throttled", extra={"fields": {"status": 429, "retry_after": verdict.retry_after}})
        body = {
            "code": ErrorCode.RATE_LIMITED,
            "message": "too many failed or flooding connections; try again later",
            "retry_after": verdict.retry_after,
        }
        return 429, {"retry-after": str(verdict.retry_after)}, orjson.dumps(body)
    return None


def early_refusal(
    services: Services, raw_headers: Iterable[tuple[bytes, bytes]], peer: str | None
) -> tuple[int, dict[str, str], bytes] | None:
    """A refusal decided from the upgrade request alone, before the WebSocket machinery exists.

    A flood's reconnects are mostly refused: a session past its strikes, a forged token from an
    address past its failures, a foreign Origin. Answered here (``server.admission``), such a
    try costs a quarter of what it costs once upgraded and routed (bench/flood.py), and the
    rooms' traffic shares the loop with fewer of them. Nothing is charged here: whatever is
    not refused goes on to ``websocket_endpoint``, which decides (and charges) as before.
    The client address is only judged when it is the peer's own (no ``X-Forwarded-For``, which
    ``--proxy-headers`` would apply later).
    """
    headers = Headers(raw=list(raw_headers))
    allowed, session_id = _credentials(services, headers)
    if session_id is None and allowed and "x-forwarded-for" in headers:
        return None
    verdict = services.handshakes.peek(allowed, peer, session_id)
    if verdict.answer not in (Answer.FORBIDDEN, Answer.THROTTLED):
        return None
    services.trimmer.churned()
    return _denial(services, verdict)


async def _refuse(ws: WebSocket, services: Services, verdict: Verdict) -> None:
    """Answer a handshake that does not open a socket, as ``server.rules.handshake`` decided."""
    services.trimmer.churned()
    denial = _denial(services, verdict)
    if denial is not None:  # before the upgrade: the cheapest answer there is
        status, headers, body = denial
        await ws.send_denial_response(Response(body, status, headers=headers, media_type="application/json"))
        return
    # accepted, then told: a browser learns only a close code, and 4001 sends it to sign in
    services.hub.metrics.handshakes_refused.labels("unauthorized").inc()
    log.info("ws refused: no valid session", extra={"fields": {"close": CloseCode.SESSION_ENDED}})
    await ws.accept()
    await ws.send_text(error_frame(ErrorCode.UNAUTHORIZED, "sign in first: no valid session"))
    await ws.close(CloseCode.SESSION_ENDED, "no valid session")


def _raw_sender(send: AsgiSend) -> Callable[[str], Awaitable[None]]:
    async def send_text(text: str) -> None:
        await send({"type": "websocket.send", "text": text})

    return send_text


def _batch_sender(send: AsgiSend) -> Callable[[list[str]], Awaitable[None]]:
    async def send_texts(texts: list[str]) -> None:
        await send({"type": SEND_MANY, "texts": texts})

    return send_texts


def _hello(services: Services, conn: Connection) -> str:
    limits = services.settings.limits
    return encode(
        {
            "type": "hello",
            "user": conn.person.private(),
            "limits": {
                "max_body_chars": limits.max_body_chars,
                "max_frame_bytes": limits.max_frame_bytes,
                "rate_per_second": limits.rate_per_second,
                "rate_burst": limits.rate_burst,
            },
        }
    )


async def _read_frames(services: Services, conn: Connection, ws: WebSocket) -> int | None:
    """Read until the client goes away (returns its close code); each frame is answered
    before the next is read."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                code: int | None = message.get("code")
                return code
            if conn.closed:
                continue
            text = message.get("text")
            await handle(services, conn, text if text is not None else message.get("bytes", b""))
    except Exception as exc:
        log.debug("reader for connection %s stopped: %s", conn.id, type(exc).__name__)
    return None


# refusals that say the client sends what it should not, or too fast; past the connection's
# bound (``refused_burst``, refilled at ``refused_per_second``) the socket is closed with 1008
HOSTILE = frozenset({ErrorCode.INVALID, ErrorCode.TOO_LARGE, ErrorCode.RATE_LIMITED})


async def handle(services: Services, conn: Connection, text: str | bytes) -> None:
    """Answer one client frame; every refusal becomes an error frame, never an exception.

    Every frame, valid or not, is charged to the person's rate limit before anything else,
    and a frame over it is refused without being decoded: a flood costs a bucket update each.
    """
    limits = services.settings.limits
    ref: Any = None
    now = time.monotonic()
    decision = take(services.buckets.get(conn.person.id), now, limits.rate_per_second, limits.rate_burst)
    services.buckets[conn.person.id] = decision.bucket
    try:
        if conn.expires_at <= utcnow():
            conn.kill(
                CloseCode.SESSION_ENDED, "session expired", error_frame(ErrorCode.UNAUTHORIZED, "session expired")
            )
            return
        if not decision.allowed:
            ref = peek_ref(text, limits.max_frame_bytes)
            raise ProtocolError(ErrorCode.RATE_LIMITED, "slow down", retry_after=decision.retry_after)
        if isinstance(text, bytes):
            raise ProtocolError(ErrorCode.INVALID, "binary frames are not accepted; send JSON text")
        frame = decode(text, limits.max_frame_bytes)
        ref = frame.ref
        if isinstance(frame, Send):
            await _send(services, conn, frame)
        elif isinstance(frame, React):
            await _react(services, conn, frame)
        elif isinstance(frame, Join):
            member = await _check_member(services, conn, frame.room)
            if conn.person.is_staff:  # only staff are ever in someone else's direct room
                await direct_reads.note_read(services.db, room_id=frame.room, reader_id=conn.person.id, via="join")
            await services.hub.join(conn, frame.room, frame.since, ref)
            if member.listen_until is not None and member.listen_until > utcnow():
                conn.push(encode({"type": "observing", "room": frame.room, "until": iso(member.listen_until)}))
            if member.muted_until is not None and member.muted_until > utcnow():
                conn.push(encode(muted_frame(frame.room, member.muted_until, None)))
        elif isinstance(frame, Leave):
            services.hub.leave(conn, frame.room)
            conn.push(_with_ref({"type": "left", "room": frame.room, "reason": "leave"}, ref))
        elif isinstance(frame, Typing):
            services.hub.typing(conn, frame.room)
        elif isinstance(frame, Ping):
            conn.push(_with_ref({"type": "pong"}, ref))
    except ProtocolError as exc:
        services.hub.metrics.frames_refused.labels(exc.code).inc()
        answer = error_frame(exc.code, exc.message, ref if ref is not None else exc.extra.pop("ref", None), **exc.extra)
        if exc.code not in HOSTILE or _may_refuse(services, conn, now):
            conn.push(answer)
        else:  # the client is flooding: this answer is its last frame (what is queued is dropped)
            log.info("ws closing: too many refused frames", extra={"fields": {"close": CloseCode.POLICY}})
            conn.kill(CloseCode.POLICY, "too many refused frames", answer)
    except StoreUnavailable:
        services.hub.metrics.frames_refused.labels(ErrorCode.UNAVAILABLE).inc()
        conn.push(error_frame(ErrorCode.UNAVAILABLE, "storage is unavailable; nothing was stored, retry", ref))
    except Exception:
        log.exception("frame handling failed on connection %s", conn.id)
        services.hub.metrics.frames_refused.labels(ErrorCode.INTERNAL).inc()
        conn.push(error_frame(ErrorCode.INTERNAL, "something went wrong on our side", ref))


def _may_refuse(services: Services, conn: Connection, now: float) -> bool:
    """Spend one of the connection's refusals; False once past its bound (``HOSTILE``)."""
    limits = services.settings.limits
    decision = take(conn.refusals, now, limits.refused_per_second, limits.refused_burst)
    conn.refusals = decision.bucket
    return decision.allowed


def _with_ref(frame: dict[str, Any], ref: Any) -> str:
    if ref is not None:
        frame["ref"] = ref
    return encode(frame)


async def _check_member(services: Services, conn: Connection, room_id: int) -> Member:
    async with services.db.read() as db:
        member = await duty_store.member_of(db, room_id, conn.person.id)
    if member is None:
        raise ProtocolError(ErrorCode.NOT_MEMBER, "no such room, or you are not a member of it", room=room_id)
    return member


async def _send(services: Services, conn: Connection, frame: Send) -> None:
    limits = services.settings.limits
    extra = {"room": frame.room, "client_id": str(frame.client_id)}
    if len(frame.body) > limits.max_body_chars:
        raise ProtocolError(
            ErrorCode.TOO_LARGE, f"a message may be at most {limits.max_body_chars} characters", **extra
        )
    if not frame.body.strip():
        raise ProtocolError(ErrorCode.INVALID, "body: a message cannot be empty", **extra)
    if "\x00" in frame.body:
        raise ProtocolError(ErrorCode.INVALID, "body: NUL characters are not allowed", **extra)
    client_id = str(frame.client_id)
    message = NewMessage(
        room_id=frame.room,
        author_id=conn.person.id,
        author_name=conn.person.display_name,
        body=frame.body,
        client_id=client_id,
        reply_to=frame.reply_to,
    )
    ref = frame.ref

    def answer(future: asyncio.Future[Posted]) -> None:
        exc = future.exception()
        if exc is None:
            conn.push(_answer(future.result(), ref, extra))
        elif isinstance(exc, StoreUnavailable):
            conn.push(
                error_frame(ErrorCode.UNAVAILABLE, "storage is unavailable; nothing was stored, retry", ref, **extra)
            )
        else:
            conn.push(error_frame(ErrorCode.INTERNAL, "the message could not be stored", ref, **extra))

    services.ingest.submit(message).add_done_callback(answer)


REFUSALS = {
    ErrorCode.NOT_MEMBER: "no such room, or you may not post in it",
    ErrorCode.READ_ONLY: "this room is read-only for you",
    ErrorCode.OBSERVING: "you are observing this room (listen only); lift it to post",
    ErrorCode.MUTED: "a moderator muted you in this room for a while",
    ErrorCode.LOCKED: "this room is locked; only its moderators post for now",
    ErrorCode.SLOW_MODE: "this room is in slow mode; wait a little before posting again",
}


def _refusal(
    refused: str | None, until: datetime | None, retry_after: float | None = None
) -> tuple[ErrorCode, str, dict[str, Any]]:
    """A store's refusal of a send or a reaction as an error's code, message, ``until`` and ``retry_after``."""
    code = ErrorCode(refused or ErrorCode.NOT_MEMBER)
    extra: dict[str, Any] = {"until": None if until is None else iso(until)}
    if retry_after is not None:
        extra["retry_after"] = retry_after
    return code, REFUSALS.get(code, REFUSALS[ErrorCode.NOT_MEMBER]), extra


def _answer(posted: Posted, ref: Any, extra: dict[str, Any]) -> str:
    """The frame that answers a committed send: ``ack``, ``held`` (only its author sees it), or an error."""
    if posted.seq is not None:
        ack = {"type": "ack", "room": extra["room"], "seq": posted.seq, "client_id": extra["client_id"]}
        return _with_ref(ack, ref)
    if posted.held:
        return _with_ref({"type": "held", **extra}, ref)
    if posted.refused == ErrorCode.INVALID:
        return error_frame(ErrorCode.INVALID, "reply_to: not a message of this room", ref, field="reply_to", **extra)
    code, message, until = _refusal(posted.refused, posted.until, posted.retry_after)
    return error_frame(code, message, ref, **until, **extra)


async def _react(services: Services, conn: Connection, frame: React) -> None:
    """Store a reaction when it changes something, fan it out after commit, and answer ``ack``."""
    async with services.db.write() as db:
        reacted = await reaction_store.react(
            db, room_id=frame.room, person=conn.person, target=frame.target, emoji=frame.emoji, on=frame.on
        )
    if reacted.refused == ErrorCode.INVALID:
        raise ProtocolError(ErrorCode.INVALID, "target: not a message of this room", room=frame.room, field="target")
    if reacted.refused is not None:
        code, message, until = _refusal(reacted.refused, reacted.until, reacted.retry_after)
        raise ProtocolError(code, message, room=frame.room, **until)
    seq = None
    if reacted.frame is not None:
        seq = reacted.frame["seq"]
        services.hub.publish_stored(frame.room, seq, reacted.frame)
    conn.push(_with_ref({"type": "ack", "room": frame.room, "seq": seq}, frame.ref))
