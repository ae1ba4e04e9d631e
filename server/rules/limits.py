"""Rate limiting as a pure token bucket: state in, decision and new state out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    bucket: Bucket
    retry_after: float  # seconds until one token is available (0 when allowed)


def take(bucket: Bucket | None, now: float, rate: float, burst: int, cost: float = 1.0) -> Decision:
    """Spend ``cost`` tokens if the bucket holds them; it refills at ``rate`` per second up to ``burst``."""
    if bucket is None:
        bucket = Bucket(tokens=float(burst), updated=now)
    elapsed = max(0.0, now - bucket.updated)
    tokens = min(float(burst), bucket.tokens + elapsed * rate)
    if tokens >= cost:
        return Decision(True, Bucket(tokens - cost, now), 0.0)
    wait = (cost - tokens) / rate if rate > 0 else float("inf")
    return Decision(False, Bucket(tokens, now), round(wait, 3))


def give_back(bucket: Bucket, burst: int, cost: float = 1.0) -> Bucket:
    """Return ``cost`` tokens spent earlier (a reservation that turned out not to count)."""
    return Bucket(min(float(burst), bucket.tokens + cost), bucket.updated)


def idle(bucket: Bucket, now: float, rate: float, burst: int) -> bool:
    """Whether the bucket has refilled to its burst: forgetting it then changes nothing."""
    return bucket.tokens + max(0.0, now - bucket.updated) * rate >= burst
