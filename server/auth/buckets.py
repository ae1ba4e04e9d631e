"""A process's table of token buckets by key, bounded (the sign-in and handshake throttles).

Ordered from least to most recently charged: a bucket refilled to its burst carries no
information and is dropped as it is met, and past ``max_entries`` the least recently charged
go first, so no stream of new usernames, addresses or sessions grows memory without bound.
"""

from __future__ import annotations

from collections.abc import Callable

from server.rules.limits import Bucket

SWEEP = 4  # oldest entries looked at per charge


def charge(
    buckets: dict[str, Bucket],
    key: str,
    bucket: Bucket,
    now: float,
    idle: Callable[[str, Bucket, float], bool],
    max_entries: int,
) -> None:
    """Store ``bucket`` as the most recently charged, then drop what carries nothing or is too many."""
    buckets.pop(key, None)
    buckets[key] = bucket
    for _ in range(SWEEP):
        oldest = next(iter(buckets))
        if oldest == key or not idle(oldest, buckets[oldest], now):
            break
        del buckets[oldest]
    while len(buckets) > max_entries:
        del buckets[next(iter(buckets))]
