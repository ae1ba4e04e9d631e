"""Moderation goes live: what a muted person's sockets are told, on every process.

Invariant: the store (``store.moderation``, ``store.people``) only changes rows; the frames
here go out after the caller's transaction committed, through ``Hub.notify_user``, so the
person's sockets on every process hear it (as ``server.lifecycle`` does for lifecycle steps).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from server.store.events import iso

if TYPE_CHECKING:
    from server.hub import Hub


def muted_frame(room_id: int, until: datetime | None, reason: str | None) -> dict[str, Any]:
    """What the muted person's clients are told: ``muted`` with its end, or ``unmuted``."""
    if until is None:
        return {"type": "unmuted", "room": room_id}
    return {"type": "muted", "room": room_id, "until": iso(until), "reason": reason}


def announce_mute(hub: Hub, user_id: int, room_id: int, until: datetime | None, reason: str | None) -> None:
    """After commit: tell the person's sockets on every process (``muted`` or ``unmuted``)."""
    hub.notify_user(user_id, muted_frame(room_id, until, reason))
