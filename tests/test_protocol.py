"""The frame parser: every client frame shape, and every way a frame can be wrong."""

from __future__ import annotations

import uuid

import orjson
import pytest

from server.protocol import ErrorCode, Join, Ping, ProtocolError, React, Send, decode, error_frame

LIMIT = 65536
CID = str(uuid.uuid4())


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({"type": "join", "room": 1, "since": None, "ref": 1}, Join),
        ({"type": "join", "room": 1, "since": 0}, Join),
        ({"type": "join", "room": 7}, Join),
        ({"type": "send", "room": 1, "body": "hi", "client_id": CID, "ref": "a"}, Send),
        ({"type": "send", "room": 1, "body": "hi", "client_id": CID, "reply_to": 4, "ref": "a"}, Send),
        ({"type": "send", "room": 1, "body": "hi", "client_id": CID, "reply_to": None}, Send),
        ({"type": "react", "room": 1, "target": 3, "emoji": "heart", "on": True, "ref": "r"}, React),
        ({"type": "react", "room": 1, "target": 3, "emoji": "strong", "on": False}, React),
        ({"type": "ping"}, Ping),
    ],
)
def test_valid_frames_decode_to_their_model(raw: dict[str, object], kind: type) -> None:
    assert isinstance(decode(orjson.dumps(raw).decode(), LIMIT), kind)


BAD = [
    ("not json", "{nope", ErrorCode.INVALID),
    ("array", "[1, 2]", ErrorCode.INVALID),
    ("string", '"join"', ErrorCode.INVALID),
    ("no type", '{"room": 1}', ErrorCode.INVALID),
    ("unknown type", '{"type": "explode", "ref": 1}', ErrorCode.INVALID),
    ("type not a string", '{"type": 5}', ErrorCode.INVALID),
    ("room as string", '{"type": "join", "room": "1"}', ErrorCode.INVALID),
    ("room as float", '{"type": "join", "room": 1.0}', ErrorCode.INVALID),
    ("room as bool", '{"type": "join", "room": true}', ErrorCode.INVALID),
    ("room zero", '{"type": "join", "room": 0}', ErrorCode.INVALID),
    ("negative since", '{"type": "join", "room": 1, "since": -1}', ErrorCode.INVALID),
    ("huge since", '{"type": "join", "room": 1, "since": 99999999999999999999999}', ErrorCode.INVALID),
    ("missing room", '{"type": "join"}', ErrorCode.INVALID),
    ("missing body", f'{{"type": "send", "room": 1, "client_id": "{CID}"}}', ErrorCode.INVALID),
    ("body not a string", f'{{"type": "send", "room": 1, "body": 5, "client_id": "{CID}"}}', ErrorCode.INVALID),
    ("client_id not a uuid", '{"type": "send", "room": 1, "body": "x", "client_id": "abc"}', ErrorCode.INVALID),
    ("extra field", '{"type": "ping", "evil": true}', ErrorCode.INVALID),
    ("lone surrogate", '{"type": "send", "room": 1, "body": "\\ud800", "client_id": "' + CID + '"}', ErrorCode.INVALID),
    ("too large", '{"type": "ping", "pad": "' + "x" * LIMIT + '"}', ErrorCode.TOO_LARGE),
    (
        "reply_to as string",
        f'{{"type": "send", "room": 1, "body": "x", "client_id": "{CID}", "reply_to": "4"}}',
        ErrorCode.INVALID,
    ),
    (
        "reply_to zero",
        f'{{"type": "send", "room": 1, "body": "x", "client_id": "{CID}", "reply_to": 0}}',
        ErrorCode.INVALID,
    ),
    (
        "reply_to as bool",
        f'{{"type": "send", "room": 1, "body": "x", "client_id": "{CID}", "reply_to": true}}',
        ErrorCode.INVALID,
    ),
    (
        "reply_to as float",
        f'{{"type": "send", "room": 1, "body": "x", "client_id": "{CID}", "reply_to": 4.0}}',
        ErrorCode.INVALID,
    ),
    (
        "reply_to as object",
        f'{{"type": "send", "room": 1, "body": "x", "client_id": "{CID}", "reply_to": {{"seq": 4}}}}',
        ErrorCode.INVALID,
    ),
    (
        "unknown emoji",
        '{"type": "react", "room": 1, "target": 3, "emoji": "thumbs_down", "on": true}',
        ErrorCode.INVALID,
    ),
    (
        "emoji as a character",
        '{"type": "react", "room": 1, "target": 3, "emoji": "\u2764", "on": true}',
        ErrorCode.INVALID,
    ),
    ("emoji in capitals", '{"type": "react", "room": 1, "target": 3, "emoji": "HEART", "on": true}', ErrorCode.INVALID),
    ("missing emoji", '{"type": "react", "room": 1, "target": 3, "on": true}', ErrorCode.INVALID),
    ("target as string", '{"type": "react", "room": 1, "target": "3", "emoji": "clap", "on": true}', ErrorCode.INVALID),
    ("target zero", '{"type": "react", "room": 1, "target": 0, "emoji": "clap", "on": true}', ErrorCode.INVALID),
    ("target as bool", '{"type": "react", "room": 1, "target": true, "emoji": "clap", "on": true}', ErrorCode.INVALID),
    ("target as float", '{"type": "react", "room": 1, "target": 3.0, "emoji": "clap", "on": true}', ErrorCode.INVALID),
    ("missing target", '{"type": "react", "room": 1, "emoji": "clap", "on": true}', ErrorCode.INVALID),
    ("on as number", '{"type": "react", "room": 1, "target": 3, "emoji": "clap", "on": 1}', ErrorCode.INVALID),
    ("on as string", '{"type": "react", "room": 1, "target": 3, "emoji": "clap", "on": "true"}', ErrorCode.INVALID),
    ("missing on", '{"type": "react", "room": 1, "target": 3, "emoji": "clap"}', ErrorCode.INVALID),
    (
        "react extra field",
        '{"type": "react", "room": 1, "target": 3, "emoji": "clap", "on": true, "by": 2}',
        ErrorCode.INVALID,
    ),
    ("react without room", '{"type": "react", "target": 3, "emoji": "clap", "on": true}', ErrorCode.INVALID),
]


@pytest.mark.parametrize(("name", "raw", "code"), BAD, ids=[row[0] for row in BAD])
def test_bad_frames_raise_a_stable_code(name: str, raw: str, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(raw, LIMIT)
    assert caught.value.code == code


def test_error_keeps_the_ref_when_the_frame_had_one() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode('{"type": "join", "room": "x", "ref": "r1"}', LIMIT)
    assert caught.value.extra["ref"] == "r1"


def test_error_frame_shape() -> None:
    frame = orjson.loads(error_frame(ErrorCode.RATE_LIMITED, "slow down", "r", retry_after=1.5))
    assert frame == {"type": "error", "code": "rate_limited", "message": "slow down", "ref": "r", "retry_after": 1.5}


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "send", "room": 1, "body": "hi", "client_id": CID, "ref": "a"},
        {"type": "send", "room": 1, "body": "hi", "client_id": CID.upper(), "ref": 7},
        {"type": "send", "room": 2**62, "body": "", "client_id": "{" + CID + "}"},
        {"type": "send", "room": True, "body": "hi", "client_id": CID},
        {"type": "send", "room": 1, "body": "hi", "client_id": CID, "ref": "r" * 65},
        {"type": "send", "room": 1, "body": "hi", "client_id": CID, "ref": 1.5},
        {"type": "send", "room": 1, "body": "hi", "client_id": CID, "extra": 1},
        {"type": "send", "room": 1, "body": "hi", "client_id": 5},
        {"type": "send", "room": 1, "body": "hi", "client_id": CID, "reply_to": 9},
        {"type": "send", "room": 1, "body": "hi", "client_id": CID, "reply_to": 9, "ref": "r"},
        {"type": "send", "room": 1, "body": "hi", "client_id": CID, "reply_to": None},
        {"type": "send", "room": 1, "body": "hi", "client_id": CID, "reply_to": True},
    ],
)
def test_the_fast_path_for_send_agrees_with_the_model(raw: dict[str, object]) -> None:
    """Whatever the hand-written check for `send` accepts, the model accepts identically."""
    from server.protocol import Send, _client_frame

    try:
        expected: object = _client_frame.validate_python(raw)
    except Exception:
        expected = ProtocolError
    try:
        got: object = decode(orjson.dumps(raw).decode(), LIMIT)
    except ProtocolError:
        got = ProtocolError
    assert got == expected
    if isinstance(got, Send):
        assert got.client_id == uuid.UUID(str(raw["client_id"]).strip("{}"))


def test_a_reply_and_a_reaction_decode_to_what_they_say() -> None:
    reply = decode(f'{{"type": "send", "room": 2, "body": "me too", "client_id": "{CID}", "reply_to": 7}}', LIMIT)
    assert isinstance(reply, Send) and reply.reply_to == 7
    plain = decode(f'{{"type": "send", "room": 2, "body": "me too", "client_id": "{CID}"}}', LIMIT)
    assert isinstance(plain, Send) and plain.reply_to is None
    reaction = decode('{"type": "react", "room": 2, "target": 7, "emoji": "pray", "on": false, "ref": 3}', LIMIT)
    assert reaction == React(type="react", room=2, target=7, emoji="pray", on=False, ref=3)


def test_an_unknown_emoji_names_the_field() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode('{"type": "react", "room": 1, "target": 3, "emoji": "fire", "on": true, "ref": "x"}', LIMIT)
    assert caught.value.message.startswith("emoji:") and caught.value.extra["ref"] == "x"
