"""This process's handshake budgets (the rule is ``server.rules.handshake``).

Like the sign-in throttle, the budgets live in this process only (with N processes a client
reaching all of them gets N times the configured budget) and the tables are bounded
(``server.auth.buckets``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from server.auth.buckets import charge
from server.rules.handshake import Answer, HandshakeLimits, Verdict, after_lookup, before_lookup, spend, wait
from server.rules.limits import Bucket, idle
from server.rules.login_throttle import address_key

MAX_ENTRIES = 100_000


class Budgets:
    """One kind of budget by key: charged on failure, read without charging."""

    def __init__(self, rate: float, burst: int, max_entries: int) -> None:
        self.rate = rate
        self.burst = burst
        self.max_entries = max_entries
        self.buckets: dict[str, Bucket] = {}  # ordered from least to most recently charged

    def wait(self, key: str, now: float) -> int:
        return wait(self.buckets.get(key), now, self.rate, self.burst)

    def spend(self, key: str, now: float) -> None:
        bucket = spend(self.buckets.get(key), now, self.rate, self.burst)
        charge(self.buckets, key, bucket, now, self._idle, self.max_entries)

    def _idle(self, _key: str, bucket: Bucket, now: float) -> bool:
        return idle(bucket, now, self.rate, self.burst)


class HandshakeThrottle:
    def __init__(
        self, limits: HandshakeLimits, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self.failures = Budgets(limits.failures_per_second, limits.failures_burst, max_entries)  # by address
        self.strikes = Budgets(limits.strike_rate, limits.strikes_burst, max_entries)  # by session and person

    def before_lookup(self, origin_allowed: bool, host: str | None, session_id: str | None) -> Verdict:
        """The verdict before the session is read; a token that does not verify is charged to its address."""
        verdict = self.peek(origin_allowed, host, session_id)
        if verdict.answer == Answer.UNAUTHORIZED:
            self.failures.spend(address_key(host), self.clock())
        return verdict

    def peek(self, origin_allowed: bool, host: str | None, session_id: str | None) -> Verdict:
        """``before_lookup``'s verdict, charging nothing."""
        now = self.clock()
        return before_lookup(
            origin_allowed,
            session_id is not None,
            self.failures.wait(address_key(host), now),
            0 if session_id is None else self.strikes.wait(_session(session_id), now),
        )

    def after_lookup(self, host: str | None, session_id: str, person_id: int | None) -> Verdict:
        """The verdict once the session was read (``person_id`` None: unknown, expired or revoked,
        charged to the address and as a strike to the session)."""
        now = self.clock()
        if person_id is None:
            self.failures.spend(address_key(host), now)
            self.strikes.spend(_session(session_id), now)
            return after_lookup(False, 0)
        return after_lookup(True, self.strikes.wait(_person(person_id), now))

    def strike(self, session_id: str, person_id: int) -> None:
        """A socket of this session was closed for flooding."""
        now = self.clock()
        self.strikes.spend(_session(session_id), now)
        self.strikes.spend(_person(person_id), now)


def _session(session_id: str) -> str:
    return "session:" + session_id


def _person(person_id: int) -> str:
    return f"person:{person_id}"
