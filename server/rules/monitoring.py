"""Whether a room is watched right now, what happens to a new message in it, and who may post.

Pure decisions over a snapshot (the room's schedule, hold mode and duty check-ins) and
``now``; the store, the hub and the HTTP handlers all come here, so the state a client is
shown and the way its message is treated cannot disagree.

``monitored`` has three values, because a clinician must be able to trust it:
- ``True``: the schedule covers now, or a moderator of the room is checked in;
- ``False``: the room has monitored hours (or holds messages while unmonitored) and now is
  outside them with nobody on duty;
- ``None``: the room makes no promise either way (no schedule, no hold, nobody checked
  in). Clients must not present it as watched: it gets the crisis resources too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from server.rules.schedule import Schedule, covers

HoldMode = Literal["off", "unmonitored", "always"]
HOLD_MODES: tuple[HoldMode, ...] = ("off", "unmonitored", "always")
OBSERVE_MAX_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Duty:
    """One moderator's check-in, as peers see it (display name only)."""

    user_id: int
    display_name: str
    expires_at: datetime


@dataclass(frozen=True)
class Setup:
    """What decides a room's state; ``version`` changes whenever any of it is changed."""

    room_id: int
    version: int
    hold_mode: str
    schedule: Schedule | None
    duty: tuple[Duty, ...]
    locked: bool = False  # only moderators post
    slow_seconds: int = 0  # one message per this many seconds per person (0: off)


def on_duty(duty: tuple[Duty, ...], now: datetime) -> list[Duty]:
    """Check-ins that have not expired, earliest first (a check-in ends by itself)."""
    return sorted((d for d in duty if d.expires_at > now), key=lambda d: (d.expires_at, d.user_id))


def monitored(schedule: Schedule | None, hold_mode: str, anyone_on_duty: bool, now: datetime) -> bool | None:
    """True, False or None (no promise), as the module docstring defines them."""
    if anyone_on_duty or (schedule is not None and covers(schedule, now)):
        return True
    if schedule is not None or hold_mode != "off":
        return False
    return None


def hold_applies(hold_mode: str, is_monitored: bool | None) -> bool:
    """Whether a member's new message waits for review instead of being posted."""
    return hold_mode == "always" or (hold_mode == "unmonitored" and is_monitored is not True)


def holds(role: str, hold_applies_now: bool) -> bool:
    """Whether this person's message is held; a moderator's never is (they are the reviewers)."""
    return hold_applies_now and role != "moderator"


def state(setup: Setup, now: datetime, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``room_state`` frame: everyone in the room sees the same one."""
    present = on_duty(setup.duty, now)
    watched = monitored(setup.schedule, setup.hold_mode, bool(present), now)
    frame: dict[str, Any] = {
        "type": "room_state",
        "room": setup.room_id,
        "monitored": watched,
        "on_duty": [d.display_name for d in present],
        "hold": hold_applies(setup.hold_mode, watched),
        "locked": setup.locked,
        "slow_seconds": setup.slow_seconds,
    }
    if watched is not True:
        frame["resources"] = resources
    return frame


def time_sensitive(setup: Setup, now: datetime) -> bool:
    """Whether the mere passing of time can change the room's state (a schedule, or a check-in to expire)."""
    return setup.schedule is not None or bool(on_duty(setup.duty, now))


def posting_refusal(role: str, listen_until: datetime | None, now: datetime) -> str | None:
    """Why a member may not post now (an ErrorCode value), or None when they may."""
    if role == "reader":
        return "read_only"
    if listen_until is not None and listen_until > now:
        return "observing"
    return None


def may_take_duty(room_role: str | None) -> bool:
    """Only a moderator of the room checks in: on duty means reading the room live, so admins
    who are not its moderators cannot claim it."""
    return room_role == "moderator"


def duty_ends(now: datetime, hours: float) -> datetime:
    """When a check-in made (or renewed) now lapses by itself; people forget to check out."""
    return now + timedelta(hours=hours)
