"""Who may moderate a program: managers (admins, its active staff) and moderators of any of its rooms."""

from __future__ import annotations

import pytest

from server.rules.access import may_moderate_program


@pytest.mark.parametrize(
    ("global_role", "program_role", "status", "moderates_a_room", "expected"),
    [
        ("admin", None, None, False, True),  # admins, enrolled or not
        ("staff", "staff", "active", False, True),
        ("staff", "staff", "withdrawn", False, False),
        ("staff", None, None, False, False),  # staff of another program
        ("staff", None, None, True, True),  # staff added as a moderator of one of its rooms
        ("participant", "participant", "active", False, False),
        ("participant", "participant", "active", True, True),  # a peer moderator of one of its rooms
        ("participant", "participant", "alumni", False, False),
        ("participant", None, None, False, False),
        ("staff", "participant", "active", False, False),  # staff elsewhere, a participant here
    ],
)
def test_may_moderate_program(
    global_role: str, program_role: str | None, status: str | None, moderates_a_room: bool, expected: bool
) -> None:
    assert may_moderate_program(global_role, program_role, status, moderates_a_room) is expected
