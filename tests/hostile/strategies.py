"""Hypothesis strategies for hostile input: any JSON, and near-valid values built from a valid one.

A near-valid value keeps most of a valid frame or body and breaks one thing at a time (a
field of the wrong type, missing, extra, huge, nested), so the parser is pushed past its
first check into every later one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from hypothesis import strategies as st

# Numbers at and around every bound the schemas use, and beyond what 64 bits hold.
EDGE_INTS = st.sampled_from([0, 1, -1, 2**31, 2**53 + 1, 2**62, 2**62 + 1, 2**63 - 1, 2**63, -(2**63), 2**64 - 1])
TEXT = st.text(max_size=40) | st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\u202e\u2066rtl",
        "😀" * 10,
        "é\u0301",
        "²",
        "١٢٣",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "America",
        "Etc",
        "9" * 5000,
        "x" * 70_000,
    ]
)
SCALARS = (
    st.none() | st.booleans() | st.integers() | EDGE_INTS | st.floats(allow_nan=False, allow_infinity=False) | TEXT
)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value orjson can write (finite floats; integers within 64 bits or written as floats)."""
    return st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=max_leaves,
    )


@dataclass(frozen=True)
class Raw:
    """JSON text put into a value as it is (for what no Python value writes: very deep nesting)."""

    text: str


def nested(depth: int) -> Raw:
    """An array or object nested ``depth`` deep (orjson reads at most 1024 levels)."""
    return Raw("[" * depth + "1" + "]" * depth if depth % 2 else '{"a":' * depth + "1" + "}" * depth)


def to_json(value: Any) -> str:
    """JSON text of ``value``; integers beyond 64 bits are written out by hand, as a hostile client would."""
    if isinstance(value, Raw):
        return value.text
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        if isinstance(value, int):
            return str(value)
        if isinstance(value, list):
            return "[" + ",".join(to_json(item) for item in value) + "]"
        if isinstance(value, dict):
            return "{" + ",".join(f"{orjson.dumps(str(k)).decode()}:{to_json(v)}" for k, v in value.items()) + "}"
        raise


HOSTILE_VALUES = json_values() | st.integers(min_value=2**64, max_value=2**80) | st.builds(nested, st.integers(1, 1100))


@st.composite
def near(
    draw: st.DrawFn, valid: dict[str, Any], fixed: frozenset[str] = frozenset(), known: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``valid`` with one to three things broken: a field replaced, dropped or added.

    ``fixed`` fields are never touched (e.g. ``type``, so the frame reaches its own model);
    an added field is as often one of the ``known`` names (a model's optional fields) as any text.
    """
    names = st.text(max_size=12) | st.sampled_from(known) if known else st.text(max_size=12)
    value = dict(valid)
    for _ in range(draw(st.integers(1, 3))):
        keys = sorted(set(value) - fixed)
        action = draw(st.sampled_from(["replace", "drop", "add", "inside"] if keys else ["add"]))
        if action == "add":
            value[draw(names)] = draw(HOSTILE_VALUES)
            continue
        key = draw(st.sampled_from(keys))
        inner = value[key]
        if action == "drop":
            del value[key]
        elif action == "inside" and isinstance(inner, dict):
            value[key] = draw(near(inner))
        elif action == "inside" and isinstance(inner, list) and inner and isinstance(inner[0], dict):
            value[key] = [draw(near(inner[0])), *inner[1:]]
        else:
            value[key] = draw(HOSTILE_VALUES)
    return value


def bodies(valid: dict[str, Any], known: tuple[str, ...] = ()) -> st.SearchStrategy[str | bytes]:
    """Request or frame text around ``valid``: near-valid objects, any JSON, and text that is not JSON."""
    return st.one_of(
        near(valid, known=known).map(to_json),
        json_values().map(to_json),
        st.text(max_size=60),
        st.binary(max_size=60),
        st.sampled_from(["", "{", "[]", "null", '{"a":1', '"\\ud800"', "\ufeff{}", "1e999", "[" * 2000 + "]" * 2000]),
    )


CLIENT_ID = "0b6a4c5e-7d1f-4a3b-9c2d-1e5f6a7b8c9d"
FRAME_EXAMPLES: dict[str, dict[str, Any]] = {
    "join": {"type": "join", "room": 1, "since": 0, "ref": "j"},
    "send": {"type": "send", "room": 1, "body": "hi", "client_id": CLIENT_ID, "reply_to": 3, "ref": 7},
    "react": {"type": "react", "room": 1, "target": 3, "emoji": "heart", "on": True, "ref": "r"},
    "leave": {"type": "leave", "room": 1, "ref": "l"},
    "typing": {"type": "typing", "room": 1},
    "ping": {"type": "ping", "ref": "p"},
}
"""One valid frame of every type a client may send (``protocol.KNOWN_TYPES``)."""

near_valid_frames = st.sampled_from(sorted(FRAME_EXAMPLES)).flatmap(
    lambda kind: near(FRAME_EXAMPLES[kind], frozenset({"type"}))
)
client_frames: st.SearchStrategy[str | bytes] = st.one_of(
    near_valid_frames.map(to_json), *(bodies(FRAME_EXAMPLES[kind]) for kind in sorted(FRAME_EXAMPLES))
)
"""What a hostile client may put in one WebSocket message."""
