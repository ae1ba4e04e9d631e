"""Why an invite cannot be used: one row per case, the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.protocol import ErrorCode
from server.rules.invites import InviteState, invite_problem, remaining_uses

NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def state(
    uses: int = 0, max_uses: int = 1, expires_at: datetime = LATER, revoked: bool = False, deleted: bool = False
) -> InviteState:
    return InviteState(uses=uses, max_uses=max_uses, expires_at=expires_at, revoked=revoked, cohort_deleted=deleted)


@pytest.mark.parametrize(
    ("invite", "problem"),
    [
        (state(), None),
        (state(uses=2, max_uses=3), None),
        (state(uses=1), ErrorCode.INVITE_USED),
        (state(uses=3, max_uses=3), ErrorCode.INVITE_USED),
        (state(expires_at=NOW), ErrorCode.INVITE_EXPIRED),  # the expiry instant is already too late
        (state(expires_at=NOW + timedelta(microseconds=1)), None),
        (state(revoked=True), ErrorCode.INVITE_REVOKED),
        (state(deleted=True), ErrorCode.INVITE_GONE),
        # a deliberate act is named before the limits it would also break
        (state(uses=1, expires_at=NOW, revoked=True), ErrorCode.INVITE_REVOKED),
        (state(uses=1, expires_at=NOW, deleted=True), ErrorCode.INVITE_GONE),
        (state(uses=1, expires_at=NOW), ErrorCode.INVITE_EXPIRED),
    ],
)
def test_invite_problem(invite: InviteState, problem: ErrorCode | None) -> None:
    assert invite_problem(invite, NOW) == problem


@pytest.mark.parametrize(("uses", "max_uses", "left"), [(0, 1, 1), (1, 3, 2), (3, 3, 0), (5, 3, 0)])
def test_remaining_uses(uses: int, max_uses: int, left: int) -> None:
    assert remaining_uses(state(uses=uses, max_uses=max_uses)) == left
