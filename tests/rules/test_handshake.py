from __future__ import annotations

import pytest

from server.auth.handshake_throttle import HandshakeThrottle
from server.rules.handshake import (
    Answer,
    HandshakeLimits,
    Verdict,
    after_lookup,
    before_lookup,
    hostile_close,
    spend,
    wait,
)
from server.rules.limits import Bucket

OPEN, FORBIDDEN, THROTTLED, UNAUTHORIZED = Answer.OPEN, Answer.FORBIDDEN, Answer.THROTTLED, Answer.UNAUTHORIZED


@pytest.mark.parametrize(
    ("origin_allowed", "verified", "address_wait", "session_wait", "expected"),
    [
        (True, True, 0, 0, Verdict(OPEN)),
        (False, True, 0, 0, Verdict(FORBIDDEN)),  # the Origin first, whatever the token
        (False, False, 9, 9, Verdict(FORBIDDEN)),
        (True, False, 0, 0, Verdict(UNAUTHORIZED)),  # within the address's budget: told to sign in (4001)
        (True, False, 4, 0, Verdict(THROTTLED, 4)),  # past it: 429 before the upgrade
        (True, True, 4, 0, Verdict(OPEN)),  # a token that verifies never pays for its address's failures
        (True, True, 0, 7, Verdict(THROTTLED, 7)),  # a struck session waits, before its row is read
        (True, True, 4, 7, Verdict(THROTTLED, 7)),
    ],
)
def test_before_lookup(
    origin_allowed: bool, verified: bool, address_wait: int, session_wait: int, expected: Verdict
) -> None:
    assert before_lookup(origin_allowed, verified, address_wait, session_wait) == expected


@pytest.mark.parametrize(
    ("found", "person_wait", "expected"),
    [
        (True, 0, Verdict(OPEN)),
        (True, 5, Verdict(THROTTLED, 5)),  # a struck person waits, whichever session they come with
        (False, 0, Verdict(UNAUTHORIZED)),  # revoked or expired: the browser must hear 4001
        (False, 5, Verdict(UNAUTHORIZED)),
    ],
)
def test_after_lookup(found: bool, person_wait: int, expected: Verdict) -> None:
    assert after_lookup(found, person_wait) == expected


@pytest.mark.parametrize(
    ("bucket", "now", "rate", "burst", "expected"),
    [
        (None, 0.0, 1.0, 3, 0),  # a fresh budget is full
        (Bucket(1.0, 0.0), 0.0, 1.0, 3, 0),  # one left: not throttled yet
        (Bucket(0.0, 0.0), 0.0, 1.0, 3, 1),
        (Bucket(0.0, 0.0), 0.0, 0.1, 3, 10),  # one back every 10 s
        (Bucket(0.0, 0.0), 9.5, 0.1, 3, 1),  # 0.5 s to go: a whole second
        (Bucket(0.0, 0.0), 10.0, 0.1, 3, 0),
        (Bucket(0.0, 0.0), 0.0, 0.0, 3, 24 * 3600),  # a zero rate: a day, not forever
    ],
)
def test_wait_in_whole_seconds(bucket: Bucket | None, now: float, rate: float, burst: int, expected: int) -> None:
    assert wait(bucket, now, rate, burst) == expected


def test_spend_takes_one_and_never_goes_below_empty() -> None:
    assert spend(None, 5.0, 1.0, 3) == Bucket(2.0, 5.0)
    assert spend(Bucket(0.0, 0.0), 0.5, 1.0, 3) == Bucket(0.5, 0.5)  # refilled half, not enough: kept
    assert spend(Bucket(0.0, 0.0), 1.0, 1.0, 3) == Bucket(0.0, 1.0)


@pytest.mark.parametrize(
    ("code", "hostile"),
    [
        (1008, True),
        (1009, True),
        (1000, False),
        (1001, False),
        (1006, False),
        (4001, False),
        (4008, False),
        (None, False),
    ],
)
def test_hostile_closes(code: int | None, hostile: bool) -> None:
    assert hostile_close(code) is hostile


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# two failures per address, one back a second; two strikes, one back every 10 s
LIMITS = HandshakeLimits(failures_per_second=1.0, failures_burst=2, strikes_per_minute=6.0, strikes_burst=2)


def test_failed_authentications_are_charged_to_the_address_and_only_refuse_failures() -> None:
    clock = Clock()
    throttle = HandshakeThrottle(LIMITS, clock=clock)
    assert throttle.before_lookup(True, "10.0.0.1", None) == Verdict(UNAUTHORIZED)
    assert throttle.after_lookup("10.0.0.1", "revoked", None) == Verdict(UNAUTHORIZED)  # also a failure
    assert throttle.before_lookup(True, "10.0.0.1", None) == Verdict(THROTTLED, 1)
    assert throttle.before_lookup(True, "10.0.0.1", "good") == Verdict(OPEN)  # someone else behind the address
    assert throttle.before_lookup(True, "10.0.0.2", None) == Verdict(UNAUTHORIZED)
    assert throttle.before_lookup(False, "10.0.0.1", None) == Verdict(FORBIDDEN)
    clock.now = 1.0
    assert throttle.before_lookup(True, "10.0.0.1", None) == Verdict(UNAUTHORIZED)


def test_strikes_throttle_the_session_before_lookup_and_the_person_after() -> None:
    clock = Clock()
    throttle = HandshakeThrottle(LIMITS, clock=clock)
    throttle.strike("s1", 7)
    assert throttle.before_lookup(True, "10.0.0.1", "s1") == Verdict(OPEN)  # one strike is not enough
    throttle.strike("s1", 7)
    assert throttle.before_lookup(True, "10.0.0.1", "s1") == Verdict(THROTTLED, 10)
    assert throttle.before_lookup(True, "10.0.0.1", "s2") == Verdict(OPEN)  # a new sign-in gets as far as its row...
    assert throttle.after_lookup("10.0.0.1", "s2", 7) == Verdict(THROTTLED, 10)  # ...and waits as the person
    assert throttle.after_lookup("10.0.0.1", "s3", 8) == Verdict(OPEN)
    clock.now = 10.0
    assert throttle.before_lookup(True, "10.0.0.1", "s1") == Verdict(OPEN)
    assert throttle.after_lookup("10.0.0.1", "s1", 7) == Verdict(OPEN)


def test_a_revoked_session_presented_again_and_again_is_struck() -> None:
    throttle = HandshakeThrottle(LIMITS, clock=Clock())
    for host in ("10.0.0.1", "10.0.0.2"):  # from two addresses: neither address budget is spent
        assert throttle.before_lookup(True, host, "revoked") == Verdict(OPEN)
        assert throttle.after_lookup(host, "revoked", None) == Verdict(UNAUTHORIZED)
    assert throttle.before_lookup(True, "10.0.0.3", "revoked") == Verdict(THROTTLED, 10)


def test_the_tables_stay_bounded() -> None:
    clock = Clock()
    throttle = HandshakeThrottle(LIMITS, max_entries=3, clock=clock)
    for n in range(10):
        throttle.before_lookup(True, f"10.0.0.{n}", None)
    assert len(throttle.failures.buckets) == 3  # the least recently charged went first
    assert "address:10.0.0.9" in throttle.failures.buckets
    clock.now = 100.0  # every budget refilled: forgotten as they are met
    throttle.before_lookup(True, "10.0.1.1", None)
    assert len(throttle.failures.buckets) < 4
