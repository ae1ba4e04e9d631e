"""Why an invite cannot be used: one row per case, the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.protocol import ErrorCode
from server.rules.invites import InviteState, invite_problem, remaining_uses, target_problem

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


@pytest.mark.parametrize(
    ("role", "cohort_program", "cohort_live", "refused"),
    [
        ("participant", 1, True, False),  # a live cohort of this program
        ("participant", None, False, True),  # no cohort named (or none found)
        ("participant", 2, True, True),  # another program's cohort
        ("participant", 1, False, True),  # a deleted cohort
        ("staff", None, False, False),  # staff: the whole program
        ("staff", 1, True, True),  # staff invites name no cohort
    ],
)
def test_who_an_invite_can_be_for(role: str, cohort_program: int | None, cohort_live: bool, refused: bool) -> None:
    problem = target_problem(role, 1, cohort_program, cohort_live)
    assert (problem is not None) == refused
