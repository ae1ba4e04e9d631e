"""The warning ladder: does a new warning turn into a timed mute, and for how long?

Pure: the store passes the person's earlier warnings in the program and the policy from
``config/moderation.toml``. Warnings decay (each counts until its ``expires_at``); every
``warnings_to_mute`` active warnings since the last ladder mute make one mute, and each
mute within ``memory_days`` of the previous ones is the next step longer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Policy:
    warning_hours: float = 720.0
    warnings_to_mute: int = 3
    mute_minutes: tuple[int, ...] = (60, 1440, 10080)
    memory_days: float = 90.0

    def problem(self) -> str | None:
        """Why this policy cannot work, or None."""
        if not self.warning_hours > 0:
            return "warning_hours must be positive"
        if self.warnings_to_mute < 1:
            return "warnings_to_mute must be at least 1"
        if not self.mute_minutes or any(minutes < 1 for minutes in self.mute_minutes):
            return "mute_minutes must list at least one positive number of minutes"
        if not self.memory_days > 0:
            return "memory_days must be positive"
        return None


@dataclass(frozen=True)
class PastWarning:
    created_at: datetime
    expires_at: datetime
    mute_minutes: int | None  # set when this warning tipped the ladder into a mute


def expires(now: datetime, policy: Policy) -> datetime:
    return now + timedelta(hours=policy.warning_hours)


def mute_for(earlier: Sequence[PastWarning], now: datetime, policy: Policy) -> int | None:
    """Minutes of mute that a warning given ``now`` brings, or None (just a warning)."""
    tips = [w.created_at for w in earlier if w.mute_minutes is not None]
    last_tip = max(tips, default=None)
    counting = [w for w in earlier if w.expires_at > now and (last_tip is None or w.created_at > last_tip)]
    if len(counting) + 1 < policy.warnings_to_mute:
        return None
    step = sum(1 for tip in tips if tip > now - timedelta(days=policy.memory_days))
    return policy.mute_minutes[min(step, len(policy.mute_minutes) - 1)]
