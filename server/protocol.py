"""Every WebSocket frame as a typed model, and the one place frames are decoded and encoded.

Invariant: nothing a client sends reaches the rest of the server except as one of the
models below; anything else becomes a ``ProtocolError`` carrying a stable ``ErrorCode``,
which the endpoint turns into an ``error`` frame while the connection stays open.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, TypeAdapter, ValidationError


class ErrorCode(StrEnum):
    """Stable error codes shared by WebSocket error frames and HTTP error bodies."""

    INVALID = "invalid"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_MEMBER = "not_member"
    NOT_JOINED = "not_joined"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    CSRF = "csrf"
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "too_large"
    MUTED = "muted"
    LOCKED = "locked"
    SLOW_MODE = "slow_mode"
    READ_ONLY = "read_only"
    OBSERVING = "observing"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"
    INVITE_INVALID = "invite_invalid"
    INVITE_EXPIRED = "invite_expired"
    INVITE_USED = "invite_used"
    INVITE_REVOKED = "invite_revoked"
    INVITE_GONE = "invite_gone"


class CloseCode:
    """WebSocket close codes the server uses, documented in docs/protocol.md."""

    NORMAL = 1000
    POLICY = 1008
    TOO_BIG = 1009
    INTERNAL = 1011
    RESTART = 1012
    TRY_AGAIN = 1013
    SESSION_ENDED = 4001
    SLOW_CONSUMER = 4008


class ProtocolError(Exception):
    """A client frame or request was refused; carries what the error frame says."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


Ref = Annotated[Annotated[StrictStr, Field(max_length=64)] | StrictInt, Field(union_mode="left_to_right")]
# ids are PostgreSQL `integer` columns: a larger one would fail in the driver, not be refused
MAX_ID = 2**31 - 1
RoomId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Seq = Annotated[StrictInt, Field(ge=1, le=2**62)]
Emoji = Literal["heart", "clap", "pray", "hug", "strong"]  # supportive reactions only, by design


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ref: Ref | None = None


class Join(_Frame):
    type: Literal["join"]
    room: RoomId
    since: Annotated[StrictInt, Field(ge=0, le=2**62)] | None = None


class Send(_Frame):
    type: Literal["send"]
    room: RoomId
    body: StrictStr
    client_id: UUID
    reply_to: Seq | None = None


class React(_Frame):
    type: Literal["react"]
    room: RoomId
    target: Seq
    emoji: Emoji
    on: StrictBool


class Leave(_Frame):
    type: Literal["leave"]
    room: RoomId


class Typing(_Frame):
    type: Literal["typing"]
    room: RoomId


class Ping(_Frame):
    type: Literal["ping"]


ClientFrame = Annotated[Join | Send | React | Leave | Typing | Ping, Field(discriminator="type")]
_client_frame: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
KNOWN_TYPES = frozenset({"join", "send", "react", "leave", "typing", "ping"})


def _ref_of(data: dict[str, Any]) -> str | int | None:
    ref = data.get("ref")
    if isinstance(ref, bool) or not isinstance(ref, (str, int)):
        return None
    if isinstance(ref, str) and len(ref) > 64:
        return None
    return ref


def _over(text: str | bytes, max_bytes: int) -> bool:
    """Whether a frame is over ``max_bytes`` of UTF-8, without encoding it when its length tells."""
    if len(text) > max_bytes or isinstance(text, bytes) or text.isascii():
        return len(text) > max_bytes  # a character is at least one byte; ASCII exactly one
    return len(text.encode("utf-8", "surrogatepass")) > max_bytes


def decode(text: str | bytes, max_bytes: int) -> ClientFrame:
    """Turn one text frame into a typed client frame, or raise ProtocolError.

    The size is checked first, so a frame over the limit is never parsed."""
    if _over(text, max_bytes):
        raise ProtocolError(ErrorCode.TOO_LARGE, f"frame is over the limit of {max_bytes} bytes")
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProtocolError(ErrorCode.INVALID, "frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.INVALID, "frame must be a JSON object")
    ref = _ref_of(data)
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in KNOWN_TYPES:
        raise ProtocolError(ErrorCode.INVALID, "unknown or missing frame type", ref=ref)
    if kind == "send":
        fast = _fast_send(data)
        if fast is not None:
            return fast
    try:
        return _client_frame.validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "frame"
        raise ProtocolError(ErrorCode.INVALID, f"{where}: {first['msg']}", ref=ref) from None


def peek_ref(text: str | bytes, max_bytes: int) -> str | int | None:
    """Only the ``ref`` of a frame refused before decoding (rate-limited), so its sender can
    match the answer; nothing is validated, and a frame over ``max_bytes`` is not parsed."""
    if _over(text, max_bytes):
        return None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return _ref_of(data) if isinstance(data, dict) else None


_SEND_KEYS = frozenset({"type", "room", "body", "client_id", "ref"})


def _fast_send(data: dict[str, Any]) -> Send | None:
    """The hot frame, checked by hand; None sends it through full validation (and its errors).

    Accepts exactly what the ``Send`` model accepts, minus the cases that need a message.
    A reply (``reply_to``) is rare: it takes the model's path, so plain sends pay nothing for it.
    """
    room, body, client_id, ref = data.get("room"), data.get("body"), data.get("client_id"), data.get("ref")
    if (
        len(data) > 5
        or not _SEND_KEYS.issuperset(data)
        or type(room) is not int
        or not 1 <= room <= MAX_ID
        or type(body) is not str
        or type(client_id) is not str
        or len(client_id) != 36
        or not client_id.isascii()
        or not (ref is None or type(ref) is int or (type(ref) is str and len(ref) <= 64))
    ):
        return None
    try:
        parsed = UUID(client_id)
    except ValueError:
        return None
    if str(parsed) != client_id.lower():  # uuid.UUID also reads "+0…", "1_0…", "urn:…" forms the model refuses
        return None
    return Send.model_construct(type="send", room=room, body=body, client_id=parsed, ref=ref, reply_to=None)


def encode(frame: dict[str, Any]) -> str:
    """Serialise a server frame once; the same text goes to every recipient."""
    return orjson.dumps(frame).decode()


def error_frame(code: ErrorCode, message: str, ref: str | int | None = None, **extra: Any) -> str:
    """The one shape every refusal takes on the wire."""
    frame: dict[str, Any] = {"type": "error", "code": code.value, "message": message}
    if ref is not None:
        frame["ref"] = ref
    frame.update({key: value for key, value in extra.items() if value is not None})
    return encode(frame)
