"""Properties of the frame parser (``server.protocol.decode``): whatever a client sends becomes a
typed frame or a ``ProtocolError`` with a stable code, never any other exception."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from server.protocol import KNOWN_TYPES, ClientFrame, ErrorCode, ProtocolError, Send, _fast_send, decode
from tests.hostile.strategies import FRAME_EXAMPLES, client_frames, json_values, near_valid_frames, to_json

LIMIT = 65536
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(text: str | bytes) -> ClientFrame | ProtocolError:
    """What ``decode`` makes of the text: a frame, or the refusal; anything else fails the test."""
    try:
        return decode(text, LIMIT)
    except ProtocolError as refused:
        return refused


def test_every_known_type_has_a_valid_example() -> None:
    assert set(FRAME_EXAMPLES) == KNOWN_TYPES
    for frame in FRAME_EXAMPLES.values():
        assert not isinstance(outcome(orjson.dumps(frame)), ProtocolError)


@FAST
@given(client_frames)
@example("[" * 1100 + "]" * 1100)
@example('{"type": "join", "room": ' + "9" * 5000 + "}")
@example(b"\xff\xfe{}")
def test_any_frame_decodes_or_is_refused_with_a_stable_code(text: str | bytes) -> None:
    result = outcome(text)
    if isinstance(result, ProtocolError):
        assert result.code in (ErrorCode.INVALID, ErrorCode.TOO_LARGE)
        assert isinstance(result.message, str) and result.message
        ref = result.extra.get("ref")
        assert ref is None or (type(ref) is int) or (isinstance(ref, str) and len(ref) <= 64)
        return
    assert result.type in KNOWN_TYPES
    # What was accepted says the same thing when written back out and read again.
    again = decode(result.model_dump_json(exclude_none=True), LIMIT)
    assert again == result


@FAST
@given(near_valid_frames)
def test_a_near_valid_frame_is_its_model_or_invalid(frame: dict[str, Any]) -> None:
    result = outcome(to_json(frame))
    if isinstance(result, ProtocolError):
        assert result.code in (ErrorCode.INVALID, ErrorCode.TOO_LARGE)
    else:
        assert result.type == frame["type"]


UUID_TEXT = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: "urn:uuid:" + str(u)),
    st.sampled_from(
        [
            "+" + "0" * 31,
            "1_" + "0" * 30,
            " " + "0" * 31,
            "٠" * 32,
            "urn:" + "0" * 32,
            "0" * 8 + "urn:" + "0" * 24,
            "--" + "0" * 32,
        ]
    ),
    st.text(alphabet="0123456789abcdefABCDEF-{}_+ :nru٠", min_size=30, max_size=40),
)


@FAST
@given(
    st.fixed_dictionaries(
        {"type": st.just("send"), "room": st.integers(-1, 2**63), "body": st.text(max_size=5), "client_id": UUID_TEXT},
        optional={"ref": st.none() | st.integers() | st.text(max_size=70) | st.booleans()},
    )
)
@example({"type": "send", "room": 1, "body": "x", "client_id": "+" + "0" * 31})
@example({"type": "send", "room": 1, "body": "x", "client_id": "٠" * 32})
def test_the_fast_path_for_send_agrees_with_the_model(frame: dict[str, Any]) -> None:
    """``send`` is checked by hand for speed; it must accept exactly what ``Send`` accepts, as the same frame."""
    fast = _fast_send(frame)
    try:
        model: Send | None = Send.model_validate(frame)
    except ValidationError:
        model = None
    if fast is not None:
        assert model is not None, f"the fast path accepted what the model refuses: {frame!r}"
        assert fast == model


@pytest.mark.parametrize("size", [LIMIT, LIMIT + 1])
def test_the_size_limit_counts_bytes_not_characters(size: int) -> None:
    pad = "é" * ((size - len('{"type":"ping","ref":""}')) // 2)
    text = '{"type":"ping","ref":"' + pad + '"}'
    result = outcome(text)
    encoded = len(text.encode())
    assert isinstance(result, ProtocolError)
    assert result.code == (ErrorCode.TOO_LARGE if encoded > LIMIT else ErrorCode.INVALID)


@FAST
@given(json_values())
def test_any_json_value_that_is_not_a_frame_is_invalid(value: Any) -> None:
    result = outcome(to_json(value))
    if isinstance(result, ProtocolError):
        assert result.code in (ErrorCode.INVALID, ErrorCode.TOO_LARGE)
    else:
        assert isinstance(value, dict) and value.get("type") in KNOWN_TYPES


def test_a_client_id_is_read_as_the_uuid_it_names() -> None:
    client_id = uuid.uuid4()
    frame = decode(orjson.dumps({"type": "send", "room": 1, "body": "x", "client_id": str(client_id)}), LIMIT)
    assert isinstance(frame, Send) and frame.client_id == client_id
