from __future__ import annotations

import pytest

from server.rules.resume import resume_point


@pytest.mark.parametrize(
    ("since", "last", "expected"),
    [
        (None, 0, 0),
        (None, 42, 42),
        (0, 0, 0),
        (0, 42, 0),
        (41, 42, 41),
        (42, 42, 42),
        (43, 42, None),
        (-1, 42, None),
    ],
)
def test_resume_point(since: int | None, last: int, expected: int | None) -> None:
    assert resume_point(since, last) == expected
