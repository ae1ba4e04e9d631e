"""Who may disclose whose record, and what an export link is bound to."""

from __future__ import annotations

import pytest

from server.rules.privacy import export_link_matches, export_link_payload, may_disclose


@pytest.mark.parametrize(
    ("global_role", "program_role", "status", "subject_enrolled", "expected"),
    [
        ("admin", None, None, True, True),  # admins, enrolled or not
        ("admin", None, None, False, False),  # but only of someone in the program
        ("staff", "staff", "active", True, True),
        ("staff", "staff", "active", False, False),  # someone of another program
        ("staff", "staff", "withdrawn", True, False),
        ("staff", None, None, True, False),  # staff of another program
        ("staff", "participant", "active", True, False),  # staff elsewhere, a participant here
        ("participant", "participant", "active", True, False),  # a peer
        ("participant", "participant", "alumni", True, False),
        ("participant", None, None, True, False),
    ],
)
def test_may_disclose(
    global_role: str, program_role: str | None, status: str | None, subject_enrolled: bool, expected: bool
) -> None:
    assert may_disclose(global_role, program_role, status, subject_enrolled) is expected


def test_an_export_link_names_its_person_and_session() -> None:
    payload = export_link_payload(7, "session-a")
    assert export_link_matches(payload, 7, "session-a")
    assert not export_link_matches(payload, 8, "session-a")
    assert not export_link_matches(payload, 7, "session-b")
    assert not export_link_matches(None, 7, "session-a")
    assert not export_link_matches("session-a", 7, "session-a")
