"""This process's login budgets (the rule is ``server.rules.login_throttle``).

The buckets live in this process only: with several server processes each keeps its own,
so the effective limit is the configured one times the number of processes an attacker's
requests reach. The table is bounded (``server.auth.buckets``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from server.auth.buckets import charge
from server.rules.limits import Bucket, idle
from server.rules.login_throttle import Admission, LoginLimits, account_key, address_key, admit, refund

MAX_ENTRIES = 100_000


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
        charge(self.buckets, account, admission.account, now, self._idle, self.max_entries)
        charge(self.buckets, address, admission.address, now, self._idle, self.max_entries)
        return admission

    def refund(self, username: str, host: str | None) -> None:
        """The attempt was not a wrong password: it spends neither budget."""
        account, address = account_key(username), address_key(host)
        by_account, by_address = refund(self.buckets.get(account), self.buckets.get(address), self.limits)
        if by_account is not None:
            self.buckets[account] = by_account
        if by_address is not None:
            self.buckets[address] = by_address

    def _idle(self, key: str, bucket: Bucket, now: float) -> bool:
        if key.startswith("account:"):
            return idle(bucket, now, self.limits.account_rate, self.limits.burst_account)
        return idle(bucket, now, self.limits.address_rate, self.limits.burst_address)
