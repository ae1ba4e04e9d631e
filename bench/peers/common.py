"""What both peers share: the frames they answer with (the shapes of docs/protocol.md) and
an ``orjson`` shim, so the JSON library is not part of any difference with our server."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import orjson

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
HELLO = {
    "type": "hello",
    "user": {"id": 0, "username": "peer", "display_name": "peer", "role": "participant"},
    "limits": {},
}
AUTHOR = {"id": 0, "display_name": "peer"}


class OrjsonModule:
    """Enough of the ``json`` module's interface for python-socketio / python-engineio."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(text: str | bytes, **_: Any) -> Any:
        return orjson.loads(text)


def now_iso() -> str:
    ts = datetime.now(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class Rooms:
    """Per-room sequence numbers, in this process's memory (no storage): a ``message`` frame
    carries a ``seq`` like ours does, so the load generator checks order the same way."""

    def __init__(self) -> None:
        self.last_seq: dict[Any, int] = {}

    def next_seq(self, room: Any) -> int:
        seq = self.last_seq[room] = self.last_seq.get(room, 0) + 1
        return seq

    def message(self, room: Any, frame: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``message`` frame for the room and the ``ack`` for its sender."""
        seq = self.next_seq(room)
        client_id = frame.get("client_id")
        message = {
            "type": "message",
            "room": room,
            "seq": seq,
            "author": AUTHOR,
            "body": frame.get("body"),
            "ts": now_iso(),
            "client_id": client_id,
        }
        ack = {"type": "ack", "room": room, "seq": seq, "client_id": client_id, "ref": frame.get("ref")}
        return message, ack
