"""This process's login budgets (the rule is ``server.rules.login_throttle``).

The buckets live in this process only: with several server processes each keeps its own,
so the effective limit is the configured one times the number of processes an attacker's
requests reach. The table is bounded: buckets that have refilled to their burst carry no
information and are dropped as they are met, and past ``max_entries`` the least recently
charged are dropped first, so no stream of new usernames or addresses grows memory
without bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from server.rules.limits import Bucket, idle
from server.rules.login_throttle import Admission, LoginLimits, account_key, address_key, admit, refund

MAX_ENTRIES = 100_000
SWEEP = 4  # oldest entries looked at per charge


class LoginThrottle:
    def __init__(
        self, limits: LoginLimits, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self.max_entries = max_entries
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}  # ordered from least to most recently changed

    def admit(self, username: str, host: str | None) -> Admission:
        """Reserve one attempt for this username from this address, or refuse it."""
        account, address = account_key(username), address_key(host)
        now = self.clock()
        admission = admit(self.buckets.get(account), self.buckets.get(address), now, self.limits)
        self._store(account, admission.account)
        self._store(address, admission.address)
        self._evict(now)
        return admission

    def refund(self, username: str, host: str | None) -> None:
        """The attempt was not a wrong password: it spends neither budget."""
        account, address = account_key(username), address_key(host)
        by_account, by_address = refund(self.buckets.get(account), self.buckets.get(address), self.limits)
        if by_account is not None:
            self.buckets[account] = by_account
        if by_address is not None:
            self.buckets[address] = by_address

    def _store(self, key: str, bucket: Bucket) -> None:
        self.buckets.pop(key, None)
        self.buckets[key] = bucket

    def _evict(self, now: float) -> None:
        for _ in range(SWEEP):
            key = next(iter(self.buckets), None)
            if key is None or not self._idle(key, now):
                break
            del self.buckets[key]
        while len(self.buckets) > self.max_entries:
            del self.buckets[next(iter(self.buckets))]

    def _idle(self, key: str, now: float) -> bool:
        if key.startswith("account:"):
            return idle(self.buckets[key], now, self.limits.account_rate, self.limits.burst_account)
        return idle(self.buckets[key], now, self.limits.address_rate, self.limits.burst_address)
