"""Whether a person may post (or react) in a room right now, and if not, why and until when.

Pure: the send path (inside the group-commit transaction) and reactions both ask here with
what they read alongside the locked rows, so a refusal and its timing are decided once.
Moderators are never muted, locked out or slowed: they are the ones keeping the room safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.rules.monitoring import posting_refusal


@dataclass(frozen=True)
class Poster:
    """A person's membership, as far as posting is concerned."""

    role: str
    listen_until: datetime | None = None
    muted_until: datetime | None = None
    last_posted_at: datetime | None = None  # read only in slow-mode rooms


@dataclass(frozen=True)
class Refusal:
    """An ErrorCode value, the end of what refuses (observing, muted) and seconds until a retry may pass."""

    code: str
    until: datetime | None = None
    retry_after: float | None = None


def refusal(
    poster: Poster, *, locked: bool, slow_seconds: int, now: datetime, reacting: bool = False
) -> Refusal | None:
    """Why this post is refused now, or None. Reactions obey mute and lock, not slow mode."""
    basic = posting_refusal(poster.role, poster.listen_until, now)
    if basic is not None:
        return Refusal(basic, until=poster.listen_until if basic == "observing" else None)
    if poster.role == "moderator":
        return None
    if poster.muted_until is not None and poster.muted_until > now:
        left = (poster.muted_until - now).total_seconds()
        return Refusal("muted", until=poster.muted_until, retry_after=round(left, 3))
    if locked:
        return Refusal("locked")
    if not reacting and slow_seconds > 0 and poster.last_posted_at is not None:
        wait = poster.last_posted_at.timestamp() + slow_seconds - now.timestamp()
        if wait > 0:
            return Refusal("slow_mode", retry_after=round(wait, 3))
    return None
