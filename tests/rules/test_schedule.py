"""Monitored hours: wall-clock windows in the room's timezone, across DST changes and midnight."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from server.rules.schedule import Schedule, covers, stored_schedule


def at(text: str) -> datetime:
    """An instant written in UTC, so each case states exactly which moment it asks about."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def schedule(zone: str, *windows: tuple[list[str], str, str]) -> Schedule:
    return Schedule.model_validate(
        {"timezone": zone, "windows": [{"days": days, "start": start, "end": end} for days, start, end in windows]}
    )


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
NY_OFFICE = schedule("America/New_York", (WEEKDAYS, "09:00", "17:00"))
NY_SPRING_NIGHT = schedule("America/New_York", (["sun"], "01:00", "03:00"))
NY_FALL_NIGHT = schedule("America/New_York", (["sun"], "01:00", "02:00"))
LONDON_OVERNIGHT = schedule("Europe/London", (["sat"], "22:00", "02:00"))
LONDON_FALL = schedule("Europe/London", (["sun"], "00:30", "01:30"))
TOKYO_FRIDAY_NIGHT = schedule("Asia/Tokyo", (["fri"], "22:00", "02:00"))
TOKYO_EARLY_MONDAY = schedule("Asia/Tokyo", (["mon"], "00:00", "06:00"))
LA_SUNDAY_LATE = schedule("America/Los_Angeles", (["sun"], "23:00", "01:00"))
UNTIL_MIDNIGHT = schedule("Europe/Berlin", (["wed"], "20:00", "24:00"))
NEVER = schedule("UTC")


@pytest.mark.parametrize(
    ("rule", "instant", "expected"),
    [
        # New York office hours before and after the spring change (2026-03-08): 09:00 local is
        # 14:00 UTC in EST and 13:00 UTC in EDT
        (NY_OFFICE, "2026-03-06T14:00", True),
        (NY_OFFICE, "2026-03-06T13:59", False),
        (NY_OFFICE, "2026-03-09T13:00", True),
        (NY_OFFICE, "2026-03-09T12:59", False),
        (NY_OFFICE, "2026-03-09T20:59", True),
        (NY_OFFICE, "2026-03-09T21:00", False),
        (NY_OFFICE, "2026-03-07T15:00", False),  # a Saturday
        # spring forward: 01:00-03:00 local lasts one real hour (02:00-03:00 never happens)
        (NY_SPRING_NIGHT, "2026-03-08T05:59", False),
        (NY_SPRING_NIGHT, "2026-03-08T06:00", True),  # 01:00 EST
        (NY_SPRING_NIGHT, "2026-03-08T06:59", True),  # 01:59 EST
        (NY_SPRING_NIGHT, "2026-03-08T07:00", False),  # 03:00 EDT: the window is over
        # fall back (2026-11-01): 01:00-02:00 local happens twice, and both are covered
        (NY_FALL_NIGHT, "2026-11-01T04:59", False),
        (NY_FALL_NIGHT, "2026-11-01T05:00", True),  # 01:00 EDT
        (NY_FALL_NIGHT, "2026-11-01T05:59", True),  # 01:59 EDT
        (NY_FALL_NIGHT, "2026-11-01T06:00", True),  # 01:00 EST, the second time round
        (NY_FALL_NIGHT, "2026-11-01T06:59", True),
        (NY_FALL_NIGHT, "2026-11-01T07:00", False),  # 02:00 EST
        # London, Saturday 22:00 to Sunday 02:00 across the spring change (2026-03-29 01:00 UTC)
        (LONDON_OVERNIGHT, "2026-03-28T21:59", False),
        (LONDON_OVERNIGHT, "2026-03-28T22:00", True),
        (LONDON_OVERNIGHT, "2026-03-29T00:59", True),  # 00:59 GMT, Sunday
        (LONDON_OVERNIGHT, "2026-03-29T01:00", False),  # 02:00 BST: over after three real hours
        # London fall back (2026-10-25 01:00 UTC): 00:30-01:30 local covers two separate stretches
        (LONDON_FALL, "2026-10-24T23:29", False),
        (LONDON_FALL, "2026-10-24T23:30", True),  # 00:30 BST
        (LONDON_FALL, "2026-10-25T00:29", True),  # 01:29 BST
        (LONDON_FALL, "2026-10-25T00:30", False),  # 01:30 BST
        (LONDON_FALL, "2026-10-25T00:59", False),  # 01:59 BST
        (LONDON_FALL, "2026-10-25T01:00", True),  # 01:00 GMT, the hour again
        (LONDON_FALL, "2026-10-25T01:30", False),  # 01:30 GMT
        # past midnight in Tokyo (UTC+9): the window belongs to Friday, local time
        (TOKYO_FRIDAY_NIGHT, "2026-11-27T12:59", False),  # Fri 21:59 JST
        (TOKYO_FRIDAY_NIGHT, "2026-11-27T13:00", True),  # Fri 22:00 JST
        (TOKYO_FRIDAY_NIGHT, "2026-11-27T16:59", True),  # Sat 01:59 JST
        (TOKYO_FRIDAY_NIGHT, "2026-11-27T17:00", False),  # Sat 02:00 JST
        (TOKYO_FRIDAY_NIGHT, "2026-11-28T13:00", False),  # Sat 22:00 JST: only Fridays
        (TOKYO_FRIDAY_NIGHT, "2026-11-26T16:00", False),  # Fri 01:00 JST belongs to Thursday's night
        # Monday in Tokyo while it is still Sunday in UTC
        (TOKYO_EARLY_MONDAY, "2026-11-29T15:00", True),  # Sun 15:00 UTC = Mon 00:00 JST
        (TOKYO_EARLY_MONDAY, "2026-11-30T15:00", False),  # Tue 00:00 JST
        # Sunday night into Monday wraps around the week
        (LA_SUNDAY_LATE, "2026-11-30T07:00", True),  # Sun 23:00 PST
        (LA_SUNDAY_LATE, "2026-11-30T08:30", True),  # Mon 00:30 PST
        (LA_SUNDAY_LATE, "2026-11-30T09:00", False),  # Mon 01:00 PST
        (LA_SUNDAY_LATE, "2026-12-01T08:30", False),  # Tue 00:30 PST
        # 24:00 ends a window at midnight
        (UNTIL_MIDNIGHT, "2026-11-25T22:59", True),  # Wed 23:59 CET
        (UNTIL_MIDNIGHT, "2026-11-25T23:00", False),  # Thu 00:00 CET
        (NEVER, "2026-11-25T12:00", False),
    ],
)
def test_a_schedule_covers_exactly_its_local_windows(rule: Schedule, instant: str, expected: bool) -> None:
    assert covers(rule, at(instant)) is expected


def _window(**changes: Any) -> dict[str, Any]:
    return {"days": ["mon"], "start": "09:00", "end": "17:00", **changes}


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"timezone": "Mars/Olympus_Mons", "windows": []}, "unknown IANA timezone"),
        ({"timezone": "../../etc/passwd", "windows": []}, "unknown IANA timezone"),
        ({"timezone": "", "windows": []}, "at least 1 character"),
        ({"timezone": "UTC", "windows": [_window(days=["funday"])]}, "days"),
        ({"timezone": "UTC", "windows": [_window(days=[])]}, "at least 1 item"),
        ({"timezone": "UTC", "windows": [_window(start="9:00")]}, "pattern"),
        ({"timezone": "UTC", "windows": [_window(start="25:00")]}, "pattern"),
        ({"timezone": "UTC", "windows": [_window(end="12:60")]}, "pattern"),
        ({"timezone": "UTC", "windows": [_window(start="24:00")]}, "only allowed as an end"),
        ({"timezone": "UTC", "windows": [_window(start="10:00", end="10:00")]}, "the same"),
        ({"timezone": "UTC", "windows": [_window(note="hi")]}, "Extra inputs"),
        ({"timezone": "UTC"}, "Field required"),
        ({"timezone": "UTC", "windows": [_window()] * 51}, "at most 50"),
    ],
)
def test_an_invalid_schedule_is_refused_with_a_reason(data: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Schedule.model_validate(data)
    assert complaint in str(refused.value)


def test_a_stored_schedule_that_no_longer_validates_counts_as_none() -> None:
    assert stored_schedule(None) is None
    assert stored_schedule('{"timezone": "Nowhere/Land", "windows": []}') is None
    assert stored_schedule(NY_OFFICE.model_dump_json()) == NY_OFFICE
