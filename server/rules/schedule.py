"""Monitored hours: a room's weekly schedule, in its own timezone, and whether it covers an instant.

Invariant: a window is wall-clock time in the schedule's IANA timezone, so "09:00-17:00"
stays nine to five local time on both sides of a DST change (the window is an hour longer
or shorter in real time on the night the clocks move, and a local time the clocks skip
is simply never reached). A window whose end is before its start runs past midnight into
the following day; ``24:00`` as an end means "until midnight". Pure: no I/O, the instant
is passed in.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
MAX_WINDOWS = 50


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Window(BaseModel):
    """Monitored from ``start`` to ``end`` (exclusive) on each of ``days``, local time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: Annotated[tuple[Day, ...], Field(min_length=1, max_length=7)]
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _sensible(self) -> Window:
        if self.start == "24:00":
            raise ValueError("start: 24:00 is only allowed as an end")
        if self.start == self.end:
            raise ValueError("start and end are the same; for a whole day use 00:00 to 24:00")
        return self

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        return _minutes(self.end)


class Schedule(BaseModel):
    """A room's monitored hours: windows in one IANA timezone (e.g. ``America/Chicago``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: Annotated[str, Field(min_length=1, max_length=64)]
    windows: Annotated[tuple[Window, ...], Field(max_length=MAX_WINDOWS)]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones, e.g. "America"
            raise ValueError(f"unknown IANA timezone {name!r} (e.g. America/New_York, Europe/London)") from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances by name


def covers(schedule: Schedule, instant: datetime) -> bool:
    """Whether ``instant`` (timezone-aware) falls inside one of the schedule's windows."""
    local = instant.astimezone(schedule.zone)
    minute = local.hour * 60 + local.minute
    today = DAYS[local.weekday()]
    yesterday = DAYS[(local.weekday() - 1) % 7]
    for window in schedule.windows:
        start, end = window.start_minute, window.end_minute
        if start < end:
            if today in window.days and start <= minute < end:
                return True
        elif (today in window.days and minute >= start) or (yesterday in window.days and minute < end):
            return True
    return False


@lru_cache(maxsize=1024)
def stored_schedule(text: str | None) -> Schedule | None:
    """The schedule a room row holds (JSON), parsed once per distinct text.

    Schedules are validated before they are stored; one edited by hand into something
    invalid counts as no schedule rather than failing every send to the room.
    """
    if text is None:
        return None
    try:
        return Schedule.model_validate_json(text)
    except ValidationError:
        return None
