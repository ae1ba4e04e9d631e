"""Whether a room is watched, whether a message waits for review, and who may post: pure tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.rules.monitoring import (
    Duty,
    Setup,
    hold_applies,
    holds,
    may_take_duty,
    monitored,
    posting_refusal,
    state,
    time_sensitive,
)
from server.rules.schedule import Schedule

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday, 15:00 UTC
COVERING = Schedule.model_validate(
    {"timezone": "UTC", "windows": [{"days": ["wed"], "start": "09:00", "end": "17:00"}]}
)
NOT_COVERING = Schedule.model_validate(
    {"timezone": "UTC", "windows": [{"days": ["wed"], "start": "18:00", "end": "20:00"}]}
)
RESOURCES = [{"name": "Lifeline", "contact": "988", "description": "24/7"}]


@pytest.mark.parametrize(
    ("schedule", "hold_mode", "on_duty", "expected"),
    [
        (COVERING, "off", False, True),
        (NOT_COVERING, "off", True, True),  # a check-in watches the room outside its hours
        (NOT_COVERING, "off", False, False),
        (NOT_COVERING, "always", False, False),
        (None, "off", True, True),
        (None, "off", False, None),  # no hours, no hold, nobody on duty: no promise either way
        (None, "unmonitored", False, False),  # holding while unmonitored says it is unmonitored
        (None, "always", False, False),
    ],
)
def test_monitored_is_true_false_or_no_promise(
    schedule: Schedule | None, hold_mode: str, on_duty: bool, expected: bool | None
) -> None:
    assert monitored(schedule, hold_mode, on_duty, NOW) is expected


@pytest.mark.parametrize(
    ("hold_mode", "watched", "role", "expected"),
    [
        ("off", False, "member", False),
        ("off", None, "member", False),
        ("unmonitored", True, "member", False),
        ("unmonitored", False, "member", True),
        ("unmonitored", None, "member", True),
        ("always", True, "member", True),
        ("always", True, "moderator", False),  # the reviewers' own messages are never held
        ("unmonitored", False, "moderator", False),
    ],
)
def test_a_message_is_held_when_the_mode_applies_and_the_author_is_not_a_moderator(
    hold_mode: str, watched: bool | None, role: str, expected: bool
) -> None:
    assert holds(role, hold_applies(hold_mode, watched)) is expected


@pytest.mark.parametrize(
    ("role", "listen_until", "expected"),
    [
        ("member", None, None),
        ("moderator", None, None),
        ("reader", None, "read_only"),
        ("member", NOW + timedelta(minutes=1), "observing"),
        ("member", NOW, None),  # observing ends at its instant
        ("member", NOW - timedelta(days=1), None),
        ("reader", NOW + timedelta(minutes=1), "read_only"),
    ],
)
def test_who_may_post_now(role: str, listen_until: datetime | None, expected: str | None) -> None:
    assert posting_refusal(role, listen_until, NOW) == expected


@pytest.mark.parametrize(
    ("role", "expected"), [("moderator", True), ("member", False), ("reader", False), (None, False)]
)
def test_only_a_moderator_of_the_room_goes_on_duty(role: str | None, expected: bool) -> None:
    assert may_take_duty(role) is expected


def _setup(schedule: Schedule | None = None, hold_mode: str = "off", *duty: Duty) -> Setup:
    return Setup(room_id=7, version=1, hold_mode=hold_mode, schedule=schedule, duty=duty)


def test_the_state_names_who_is_on_duty_and_drops_a_lapsed_check_in() -> None:
    kim = Duty(user_id=1, display_name="Kim", expires_at=NOW + timedelta(hours=1))
    lee = Duty(user_id=2, display_name="Lee", expires_at=NOW + timedelta(minutes=5))
    setup = _setup(NOT_COVERING, "unmonitored", kim, lee)
    assert state(setup, NOW, RESOURCES) == {
        "type": "room_state",
        "room": 7,
        "monitored": True,
        "on_duty": ["Lee", "Kim"],
        "hold": False,
        "locked": False,
        "slow_seconds": 0,
    }
    later = NOW + timedelta(minutes=30)
    assert state(setup, later, RESOURCES)["on_duty"] == ["Kim"]
    lapsed = state(setup, NOW + timedelta(hours=2), RESOURCES)
    assert lapsed == {
        "type": "room_state",
        "room": 7,
        "monitored": False,
        "on_duty": [],
        "hold": True,
        "locked": False,
        "slow_seconds": 0,
        "resources": RESOURCES,
    }


def test_the_state_tells_everyone_the_room_is_locked_or_slowed() -> None:
    setup = Setup(room_id=7, version=1, hold_mode="off", schedule=None, duty=(), locked=True, slow_seconds=30)
    frame = state(setup, NOW, RESOURCES)
    assert (frame["locked"], frame["slow_seconds"]) == (True, 30)


def test_crisis_resources_come_with_every_state_that_is_not_watched() -> None:
    assert "resources" not in state(_setup(COVERING), NOW, RESOURCES)
    assert state(_setup(NOT_COVERING), NOW, RESOURCES)["resources"] == RESOURCES
    no_promise = state(_setup(), NOW, RESOURCES)
    assert no_promise["monitored"] is None and no_promise["resources"] == RESOURCES


def test_only_rooms_with_a_schedule_or_a_running_check_in_change_with_time() -> None:
    kim = Duty(user_id=1, display_name="Kim", expires_at=NOW + timedelta(hours=1))
    assert time_sensitive(_setup(NOT_COVERING), NOW)
    assert time_sensitive(_setup(None, "off", kim), NOW)
    assert not time_sensitive(_setup(None, "off", kim), NOW + timedelta(hours=1))
    assert not time_sensitive(_setup(None, "always"), NOW)
