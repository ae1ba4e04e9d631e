from __future__ import annotations

import pytest

from server.auth.passwords import password_problem
from server.rules.accounts import display_name_problem, normalise_username, username_problem


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("alice", True),
        ("a.b-c_d", True),
        ("ab", False),
        ("-alice", False),
        ("al ice", False),
        ("ÄLICE", False),
        ("a" * 33, False),
    ],
)
def test_usernames(name: str, ok: bool) -> None:
    assert (username_problem(normalise_username(name)) is None) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Sam", True),
        ("Sam 🌱", True),
        ("", False),
        ("   ", False),
        ("x" * 65, False),
        ("evil\u202eman", False),
        ("tab\there", False),
    ],
)
def test_display_names(name: str, ok: bool) -> None:
    assert (display_name_problem(name) is None) is ok


@pytest.mark.parametrize(
    ("password", "ok"), [("short", False), ("long enough pw", True), (" " * 12, False), ("x" * 300, False)]
)
def test_passwords(password: str, ok: bool) -> None:
    assert (password_problem(password) is None) is ok
