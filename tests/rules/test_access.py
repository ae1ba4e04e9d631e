"""Who may moderate a program: managers (admins, its active staff) and moderators of any of its rooms."""

from __future__ import annotations

import pytest

from server.rules.access import may_join_program_room, may_moderate_program


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


@pytest.mark.parametrize(
    ("global_role", "status", "expected"),
    [
        ("participant", "active", True),
        ("participant", "alumni", True),
        ("participant", "withdrawn", False),  # withdrawal took their rooms
        ("participant", "banned", False),
        ("participant", None, False),  # enrolled in another program, or nowhere
        ("staff", None, True),  # a staff account moderating a room unenrolled
        ("admin", None, True),
    ],
)
def test_may_join_program_room(global_role: str, status: str | None, expected: bool) -> None:
    assert may_join_program_room(global_role, status) is expected
