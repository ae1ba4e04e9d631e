"""When an invite may still be used: one pure decision shared by redemption and preview.

The store's conditional UPDATE is what makes redemption safe under concurrency; this rule
only names *why* an invite cannot be used, so every refusal carries a stable code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.protocol import ErrorCode

DEFAULT_EXPIRY_DAYS = 7
MAX_EXPIRY_DAYS = 30
MAX_USES = 1000
# the signature outlives no invite: the longest possible life of one
TOKEN_MAX_AGE = MAX_EXPIRY_DAYS * 24 * 3600


@dataclass(frozen=True)
class InviteState:
    """What the decision needs to know about one invite."""

    uses: int
    max_uses: int
    expires_at: datetime
    revoked: bool
    cohort_deleted: bool


def invite_problem(state: InviteState, now: datetime) -> ErrorCode | None:
    """Why the invite cannot be used now, or None; a deliberate act (revoke, delete) is named first."""
    if state.revoked:
        return ErrorCode.INVITE_REVOKED
    if state.cohort_deleted:
        return ErrorCode.INVITE_GONE
    if state.expires_at <= now:
        return ErrorCode.INVITE_EXPIRED
    if state.uses >= state.max_uses:
        return ErrorCode.INVITE_USED
    return None


def remaining_uses(state: InviteState) -> int:
    return max(0, state.max_uses - state.uses)


def target_problem(role: str, program_id: int, cohort_program: int | None, cohort_live: bool) -> str | None:
    """Why an invite cannot be made for this target, or None (HTTP and the command line ask this).

    A participant joins a live cohort of the program; staff join the whole program, so a
    staff invite names no cohort. ``cohort_program`` is the named cohort's program (None: no
    cohort named, or none found).
    """
    if role == "staff":
        return None if cohort_program is None else "staff invites are for the whole program: name no cohort"
    if cohort_program != program_id or not cohort_live:
        return "a participant invite needs a cohort of this program"
    return None
