from __future__ import annotations

import pytest

from server.auth.throttle import LoginThrottle
from server.rules.limits import Bucket
from server.rules.login_throttle import LoginLimits, account_key, address_key, admit, refund

# one attempt a second per account up to 3, two a second per address up to 5
LIMITS = LoginLimits(per_minute_account=60.0, burst_account=3, per_minute_address=120.0, burst_address=5)


@pytest.mark.parametrize(
    ("account", "address", "now", "allowed", "retry_after", "account_after", "address_after"),
    [
        (None, None, 0.0, True, 0, 2.0, 4.0),  # a first attempt reserves one token of each full budget
        (Bucket(1.0, 0.0), Bucket(1.0, 0.0), 0.0, True, 0, 0.0, 0.0),  # the last token of each
        (Bucket(0.0, 0.0), Bucket(5.0, 0.0), 0.0, False, 1, 0.0, 5.0),  # account empty: the address is not charged
        (Bucket(3.0, 0.0), Bucket(0.0, 0.0), 0.0, False, 1, 3.0, 0.0),  # address empty: the account is not charged
        (Bucket(0.0, 0.0), Bucket(0.0, 0.0), 0.0, False, 1, 0.0, 0.0),
        (Bucket(0.0, 0.0), Bucket(5.0, 0.0), 0.25, False, 1, 0.25, 5.0),  # 0.75 s to go: rounded up to a whole second
        (Bucket(0.0, 0.0), Bucket(5.0, 0.0), 1.0, True, 0, 0.0, 4.0),  # a second refills one account attempt
        (Bucket(0.0, 0.0), Bucket(0.0, 0.0), 0.5, False, 1, 0.5, 1.0),  # the address refilled a token it keeps
        (Bucket(0.0, 0.0), Bucket(5.0, 0.0), 600.0, True, 0, 2.0, 4.0),  # refill stops at the burst
    ],
)
def test_admit(
    account: Bucket | None,
    address: Bucket | None,
    now: float,
    allowed: bool,
    retry_after: int,
    account_after: float,
    address_after: float,
) -> None:
    admission = admit(account, address, now, LIMITS)
    assert admission.allowed is allowed
    assert admission.retry_after == retry_after and isinstance(admission.retry_after, int)
    assert admission.account.tokens == pytest.approx(account_after)
    assert admission.address.tokens == pytest.approx(address_after)


def test_retry_after_is_the_longer_wait_in_whole_seconds() -> None:
    slow = LoginLimits(per_minute_account=5.0, burst_account=10, per_minute_address=30.0, burst_address=60)
    admission = admit(Bucket(0.0, 0.0), Bucket(0.0, 0.0), 0.0, slow)
    assert not admission.allowed and admission.retry_after == 12  # one account attempt every 12 s
    never = LoginLimits(per_minute_account=0.0, burst_account=1)
    assert admit(Bucket(0.0, 0.0), None, 0.0, never).retry_after == 24 * 3600


def test_refund_gives_back_up_to_the_burst() -> None:
    account, address = refund(Bucket(2.0, 7.0), Bucket(5.0, 7.0), LIMITS)
    assert account == Bucket(3.0, 7.0) and address == Bucket(5.0, 7.0)
    assert refund(None, None, LIMITS) == (None, None)


def test_keys_fold_usernames_as_accounts_do() -> None:
    assert account_key("  Ann ") == account_key("ann") != address_key("ann")
    assert address_key(None) == "address:unknown"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_failures_are_charged_to_the_account_and_the_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(LIMITS, clock=clock)
    assert all(throttle.admit("ann", "10.0.0.1").allowed for _ in range(3))  # three wrong passwords
    refused = throttle.admit("Ann", "10.0.0.2")  # the account is spent from any address
    assert not refused.allowed and refused.retry_after == 1
    assert throttle.admit("ben", "10.0.0.1").allowed  # the address has two left: another account goes on
    assert throttle.admit("cy", "10.0.0.1").allowed
    assert not throttle.admit("dee", "10.0.0.1").allowed  # the address is spent for every account
    assert throttle.admit("dee", "10.0.0.3").allowed
    clock.now = 1.0
    assert throttle.admit("ann", "10.0.0.9").allowed


def test_a_successful_sign_in_spends_nothing() -> None:
    throttle = LoginThrottle(LIMITS, clock=Clock())
    for _ in range(50):
        assert throttle.admit("ann", "10.0.0.1").allowed
        throttle.refund("ann", "10.0.0.1")
    assert throttle.buckets[account_key("ann")].tokens == 3.0


def test_the_table_stays_bounded() -> None:
    clock = Clock()
    throttle = LoginThrottle(LIMITS, max_entries=10, clock=clock)
    for number in range(1000):
        throttle.admit(f"user{number}", f"10.0.{number // 256}.{number % 256}")
    assert len(throttle.buckets) <= 10
    clock.now = 60.0  # everything has refilled: idle buckets are dropped as they are met
    for _ in range(3):
        throttle.admit("same", "10.9.9.9")
    assert set(throttle.buckets) == {account_key("same"), address_key("10.9.9.9")}
