"""Who may post now: read-only, observing, muted, locked and slow mode, in one table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.rules.posting import Poster, Refusal, refusal

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
SOON = NOW + timedelta(minutes=10)
PAST = NOW - timedelta(seconds=1)


@pytest.mark.parametrize(
    ("poster", "locked", "slow", "reacting", "expected"),
    [
        (Poster("member"), False, 0, False, None),
        (Poster("reader"), False, 0, False, Refusal("read_only")),
        (Poster("reader", muted_until=SOON), True, 0, False, Refusal("read_only")),  # read-only says it best
        (Poster("member", listen_until=SOON), False, 0, False, Refusal("observing", until=SOON)),
        (Poster("member", listen_until=PAST), False, 0, False, None),
        (Poster("member", muted_until=SOON), False, 0, False, Refusal("muted", until=SOON, retry_after=600.0)),
        (Poster("member", muted_until=SOON), False, 0, True, Refusal("muted", until=SOON, retry_after=600.0)),
        (Poster("member", muted_until=NOW), False, 0, False, None),  # a mute ends at its until
        (Poster("member", muted_until=SOON), True, 30, False, Refusal("muted", until=SOON, retry_after=600.0)),
        (Poster("member"), True, 0, False, Refusal("locked")),
        (Poster("member"), True, 0, True, Refusal("locked")),  # reactions obey the lock
        (
            Poster("member", last_posted_at=NOW - timedelta(seconds=20)),
            False,
            30,
            False,
            Refusal("slow_mode", retry_after=10.0),
        ),
        (Poster("member", last_posted_at=NOW - timedelta(seconds=20)), False, 30, True, None),  # not reactions
        (Poster("member", last_posted_at=NOW - timedelta(seconds=30)), False, 30, False, None),
        (Poster("member", last_posted_at=NOW - timedelta(seconds=5)), False, 0, False, None),  # slow mode off
        (Poster("member"), False, 30, False, None),  # never posted here
        (Poster("moderator", muted_until=SOON, last_posted_at=NOW), True, 30, False, None),  # never muted/locked/slowed
        (Poster("moderator", listen_until=SOON), False, 0, False, Refusal("observing", until=SOON)),  # their own choice
    ],
)
def test_refusal(poster: Poster, locked: bool, slow: int, reacting: bool, expected: Refusal | None) -> None:
    assert refusal(poster, locked=locked, slow_seconds=slow, now=NOW, reacting=reacting) == expected
