"""Login throttling: failed sign-ins are charged to the account and to the client address.

Pure: buckets in, decision and new buckets out, on the token bucket of
``server.rules.limits``. An attempt first reserves one token from each of its two budgets;
when either is empty the attempt is refused before the password is checked (and costs
nothing). A wrong password keeps the charge; a successful sign-in gives both tokens back,
so it spends neither budget (and does not reset them: a legitimate sign-in does not
buy an attacker of the same account fresh guesses).

The account key is the username as usernames are stored (stripped, case-folded), whether
or not such an account exists, so a throttled answer says nothing about who has an account.
The address key is the peer address of the connection; behind a reverse proxy that is the
proxy, which then shares one address budget among everyone behind it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from server.rules.limits import Bucket, give_back, take

LONGEST_WAIT = 24 * 3600  # a zero rate would mean "never"; answer a day instead


@dataclass(frozen=True)
class LoginLimits:
    per_minute_account: float = 5.0
    burst_account: int = 10
    per_minute_address: float = 30.0
    burst_address: int = 60

    @property
    def account_rate(self) -> float:
        return self.per_minute_account / 60

    @property
    def address_rate(self) -> float:
        return self.per_minute_address / 60


@dataclass(frozen=True)
class Admission:
    allowed: bool
    retry_after: int  # whole seconds until an attempt may be allowed: >= 1 when refused, 0 when allowed
    account: Bucket
    address: Bucket


def account_key(username: str) -> str:
    return "account:" + username.strip().lower()


def address_key(host: str | None) -> str:
    return "address:" + (host or "unknown")


def admit(account: Bucket | None, address: Bucket | None, now: float, limits: LoginLimits) -> Admission:
    """Reserve one attempt from both budgets, or refuse without spending either."""
    by_account = take(account, now, limits.account_rate, limits.burst_account)
    by_address = take(address, now, limits.address_rate, limits.burst_address)
    if by_account.allowed and by_address.allowed:
        return Admission(True, 0, by_account.bucket, by_address.bucket)
    wait = min(max(by_account.retry_after, by_address.retry_after), LONGEST_WAIT)
    return Admission(
        False,
        max(1, math.ceil(wait)),
        give_back(by_account.bucket, limits.burst_account) if by_account.allowed else by_account.bucket,
        give_back(by_address.bucket, limits.burst_address) if by_address.allowed else by_address.bucket,
    )


def refund(account: Bucket | None, address: Bucket | None, limits: LoginLimits) -> tuple[Bucket | None, Bucket | None]:
    """After a right password (or no verdict at all): give back the tokens the attempt reserved.

    A bucket forgotten meanwhile stays forgotten: it was full, so there is nothing to give back.
    """
    return (
        None if account is None else give_back(account, limits.burst_account),
        None if address is None else give_back(address, limits.burst_address),
    )
