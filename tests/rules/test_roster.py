"""Who holds which role in which program room, and which enrollment moves are allowed."""

from __future__ import annotations

import pytest

from server.rules.roster import PROGRAM_ROLES, STATUSES, room_role, transition_allowed

MY_COHORT = 7
OTHER_COHORT = 8


# room kind, room cohort, program role, status, alumni may post in cohort, is the direct room's
# subject, role held now -> the role the roster gives
Case = tuple[str, int | None, str, str, bool, bool, str | None, str | None]
CASES: list[Case] = [
    # participants, active: their own cohort room and the topic rooms
    ("cohort", MY_COHORT, "participant", "active", False, False, None, "member"),
    ("cohort", OTHER_COHORT, "participant", "active", False, False, None, None),
    ("cohort", None, "participant", "active", False, False, None, None),
    ("topic", None, "participant", "active", False, False, None, "member"),
    ("alumni", None, "participant", "active", False, False, None, None),
    ("direct", None, "participant", "active", False, True, None, "member"),
    ("direct", None, "participant", "active", False, False, None, None),  # someone else's direct room
    ("group", None, "participant", "active", False, False, None, None),
    # graduation: alumni rooms open, the cohort room turns read-only unless the program allows posting
    ("cohort", MY_COHORT, "participant", "alumni", False, False, "member", "reader"),
    ("cohort", MY_COHORT, "participant", "alumni", True, False, "member", "member"),
    ("cohort", OTHER_COHORT, "participant", "alumni", True, False, None, None),
    ("topic", None, "participant", "alumni", False, False, "member", "member"),
    ("alumni", None, "participant", "alumni", False, False, None, "member"),
    ("direct", None, "participant", "alumni", False, True, "member", "reader"),
    # withdrawal: nowhere, whatever they held
    ("cohort", MY_COHORT, "participant", "withdrawn", True, False, "member", None),
    ("topic", None, "participant", "withdrawn", False, False, "member", None),
    ("alumni", None, "participant", "withdrawn", False, False, "member", None),
    ("direct", None, "participant", "withdrawn", False, True, "reader", None),
    # a ban: nowhere either
    ("cohort", MY_COHORT, "participant", "banned", True, False, "member", None),
    ("direct", None, "participant", "banned", False, True, "member", None),
    # staff moderate every cohort, topic and alumni room of their program while active
    ("cohort", OTHER_COHORT, "staff", "active", False, False, None, "moderator"),
    ("topic", None, "staff", "active", False, False, None, "moderator"),
    ("alumni", None, "staff", "active", False, False, None, "moderator"),
    # staff back-channels: active staff moderate them; participants never get in, whatever they held
    ("staff", None, "staff", "active", False, False, None, "moderator"),
    ("staff", None, "staff", "withdrawn", False, False, "moderator", None),
    ("staff", None, "participant", "active", False, False, "moderator", None),
    ("staff", None, "participant", "alumni", True, False, None, None),
    ("group", None, "staff", "active", False, False, None, None),
    # direct rooms: staff keep what the counsellor assignment gave them, and get nothing by default
    ("direct", None, "staff", "active", False, False, "moderator", "moderator"),
    ("direct", None, "staff", "active", False, False, None, None),
    ("cohort", MY_COHORT, "staff", "withdrawn", False, False, "moderator", None),
    ("direct", None, "staff", "withdrawn", False, False, "moderator", None),
]


def _role(case: Case, removed: bool) -> str | None:
    room_kind, room_cohort, program_role, status, alumni_post, is_subject, current, _ = case
    return room_role(
        room_kind=room_kind,
        room_cohort=room_cohort,
        program_role=program_role,
        status=status,
        person_cohort=MY_COHORT if program_role == "participant" else None,
        alumni_post_in_cohort=alumni_post,
        is_subject=is_subject,
        current=current,
        removed=removed,
    )


@pytest.mark.parametrize("case", CASES)
def test_room_role(case: Case) -> None:
    assert _role(case, removed=False) == case[-1]


@pytest.mark.parametrize("case", [case for case in CASES if case[-1] is not None])
def test_a_removal_keeps_the_person_out_whatever_the_roster_would_give(case: Case) -> None:
    """A moderator's removal from the room outlasts every status and role (until they are added back)."""
    assert _role(case, removed=True) is None


ALLOWED = {
    ("participant", "active", "alumni"),  # graduate
    ("participant", "active", "withdrawn"),  # withdraw
    ("participant", "alumni", "withdrawn"),  # discharge an alumnus (e.g. safety)
    ("participant", "withdrawn", "active"),  # readmit
    ("participant", "active", "banned"),  # a moderator's ban, from any status
    ("participant", "alumni", "banned"),
    ("participant", "withdrawn", "banned"),
    ("staff", "active", "withdrawn"),
    ("staff", "withdrawn", "active"),
    ("staff", "alumni", "withdrawn"),  # unreachable (staff never become alumni), harmless
}


@pytest.mark.parametrize("program_role", PROGRAM_ROLES)
@pytest.mark.parametrize("from_status", STATUSES)
@pytest.mark.parametrize("to_status", STATUSES)
def test_transition_allowed(program_role: str, from_status: str, to_status: str) -> None:
    """Every (role, from, to) is listed: staff never graduate nor are banned, alumni never go back
    to active, a banned person is never readmitted."""
    assert transition_allowed(program_role, from_status, to_status) is (
        (program_role, from_status, to_status) in ALLOWED
    )


@pytest.mark.parametrize("from_status", STATUSES)
@pytest.mark.parametrize("to_status", STATUSES)
def test_only_a_ban_is_lifted_and_back_to_where_the_person_was(from_status: str, to_status: str) -> None:
    expected = from_status == "banned" and to_status != "banned"
    assert transition_allowed("participant", from_status, to_status, lifting_ban=True) is expected
