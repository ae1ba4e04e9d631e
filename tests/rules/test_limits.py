from __future__ import annotations

import pytest

from server.rules.limits import Bucket, take


@pytest.mark.parametrize(
    ("bucket", "now", "allowed", "tokens_after", "retry_after"),
    [
        (None, 0.0, True, 2.0, 0.0),  # a new person starts with a full burst
        (Bucket(0.0, 0.0), 0.0, False, 0.0, 0.5),  # empty: wait for one token at 2/s
        (Bucket(0.0, 0.0), 0.5, True, 0.0, 0.0),  # half a second refills one token
        (Bucket(0.5, 0.0), 0.0, False, 0.5, 0.25),
        (Bucket(3.0, 0.0), 100.0, True, 2.0, 0.0),  # refill never exceeds the burst
        (Bucket(1.0, 10.0), 5.0, True, 0.0, 0.0),  # a clock going backwards refills nothing
    ],
)
def test_token_bucket(
    bucket: Bucket | None, now: float, allowed: bool, tokens_after: float, retry_after: float
) -> None:
    decision = take(bucket, now, rate=2.0, burst=3)
    assert decision.allowed is allowed
    assert decision.bucket.tokens == pytest.approx(tokens_after)
    assert decision.retry_after == pytest.approx(retry_after)


def test_sustained_rate_is_what_was_configured() -> None:
    bucket = None
    allowed = 0
    for step in range(1000):  # ten seconds at 100 attempts a second
        decision = take(bucket, step / 100, rate=5.0, burst=10)
        bucket = decision.bucket
        allowed += decision.allowed
    assert 58 <= allowed <= 61  # the burst of 10, then 5 a second for ten seconds
