"""The warning ladder: when warnings turn into a mute, how long it lasts, and how it decays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.rules.ladder import PastWarning, Policy, expires, mute_for
from server.settings import ConfigError, load_ladder

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
POLICY = Policy(warning_hours=720, warnings_to_mute=3, mute_minutes=(60, 1440, 10080), memory_days=90)


def past(days_ago: float, muted: int | None = None, hours: float = 720) -> PastWarning:
    """A warning given ``days_ago`` that lasts ``hours`` (it tipped into a ``muted``-minute mute, if given)."""
    at = NOW - timedelta(days=days_ago)
    return PastWarning(created_at=at, expires_at=at + timedelta(hours=hours), mute_minutes=muted)


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        ([], None),  # a first warning is only a warning
        ([past(1)], None),
        ([past(2), past(1)], 60),  # the third active one: the first step
        ([past(40), past(1)], None),  # the 40-day-old one expired (30 days)
        ([past(31), past(35), past(1)], None),  # expired warnings never count
        ([past(3), past(2, muted=60)], None),  # warnings before a mute were used up by it
        ([past(3), past(2, muted=60), past(1)], None),
        ([past(5), past(4, muted=60), past(2), past(1)], 1440),  # the second mute is longer
        ([past(9, muted=60), past(6), past(5, muted=1440), past(2), past(1)], 10080),
        ([past(9, muted=60), past(8, muted=1440), past(5, muted=10080), past(2), past(1)], 10080),  # last step repeats
        ([past(100, muted=60, hours=1), past(2), past(1)], 60),  # a mute older than memory_days is forgotten
        ([past(80, muted=60, hours=1), past(2), past(1)], 1440),  # within memory_days it is not
        ([past(2, muted=60, hours=1), past(1.5), past(1)], 1440),  # the tip expired; later warnings still count
    ],
)
def test_ladder(earlier: list[PastWarning], expected: int | None) -> None:
    assert mute_for(earlier, NOW, POLICY) == expected


def test_order_does_not_matter() -> None:
    earlier = [past(1), past(4, muted=60), past(2), past(5)]
    assert mute_for(earlier, NOW, POLICY) == mute_for(sorted(earlier, key=lambda w: w.created_at), NOW, POLICY) == 1440


@pytest.mark.parametrize(
    ("policy", "earlier", "expected"),
    [
        (Policy(warnings_to_mute=1, mute_minutes=(15,)), [], 15),  # every warning mutes
        (Policy(warnings_to_mute=1, mute_minutes=(15, 30)), [past(1, muted=15)], 30),
        (Policy(warnings_to_mute=2, warning_hours=1), [past(0.5 / 24, hours=1)], 60),  # 30 minutes old, 1-hour warnings
        (Policy(warnings_to_mute=2, warning_hours=1), [past(2 / 24, hours=1)], None),  # expired an hour ago
    ],
)
def test_other_policies(policy: Policy, earlier: list[PastWarning], expected: int | None) -> None:
    assert mute_for(earlier, NOW, policy) == expected


def test_a_warning_expires_after_warning_hours() -> None:
    assert expires(NOW, Policy(warning_hours=48)) == NOW + timedelta(hours=48)


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (POLICY, None),
        (Policy(warning_hours=0), "warning_hours must be positive"),
        (Policy(warnings_to_mute=0), "warnings_to_mute must be at least 1"),
        (Policy(mute_minutes=()), "mute_minutes must list at least one positive number of minutes"),
        (Policy(mute_minutes=(60, 0)), "mute_minutes must list at least one positive number of minutes"),
        (Policy(memory_days=-1), "memory_days must be positive"),
    ],
)
def test_policy_problems(policy: Policy, problem: str | None) -> None:
    assert policy.problem() == problem


def test_the_policy_is_read_from_config(tmp_path: Path) -> None:
    assert load_ladder() == Policy(
        warning_hours=720, warnings_to_mute=3, mute_minutes=(60, 1440, 10080), memory_days=90
    )
    (tmp_path / "moderation.toml").write_text("[ladder]\nwarnings_to_mute = 2\nmute_minutes = [5, 10]\n")
    assert load_ladder(tmp_path) == Policy(warnings_to_mute=2, mute_minutes=(5, 10))


@pytest.mark.parametrize(
    "text",
    ["[ladder]\nmute_minutes = []\n", "[ladder]\nwarnings_to_mute = 'three'\n", "[ladder]\nwarnings = 3\n"],
)
def test_a_policy_that_cannot_work_stops_start_up(tmp_path: Path, text: str) -> None:
    (tmp_path / "moderation.toml").write_text(text)
    with pytest.raises(ConfigError):
        load_ladder(tmp_path)
