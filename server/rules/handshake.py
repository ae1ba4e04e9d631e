"""Who may open a WebSocket: decided before the session is read, from what failed before.

Opening a socket is what a flood costs most once its frames are bounded (bench/flood.py):
an HTTP upgrade, a session read and a ``hello`` per socket, and for a bad token an accepted
socket told ``unauthorized`` and closed ``4001``. Two budgets, token buckets of
``server.rules.limits`` that only failures spend, bound what one client can make us do:

- **failed authentications per client address** (no token, a forged or expired one, a revoked
  session). Within the budget the socket is accepted, told ``unauthorized`` and closed
  ``4001``, which is what sends a browser to the sign-in page. Past it, a handshake from that
  address whose token does not verify is refused with HTTP 429 and ``retry_after`` before the
  upgrade. A token that verifies is never refused for its address's failures: many people
  share one address behind a clinic's NAT or a proxy.
- **strikes per session and per person**: a socket closed for flooding (``1008``, ``1009``)
  or a handshake presenting a revoked session is a strike. Past the budget the session's
  handshakes are refused 429 before the session is read, and the person's right after it (a
  new sign-in does not start them over), until a strike has refilled. A client that follows
  the limits in ``hello`` never gets a strike.

Pure: buckets and waits in, verdicts out; the tables live in ``server.auth.handshake_throttle``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from server.rules.limits import Bucket, take
from server.rules.login_throttle import LONGEST_WAIT

# close codes that end a socket for what its client sent: past the refused-frame bound (1008),
# a frame over the transport limit (1009). Neither happens to a client that follows `hello`.
HOSTILE_CLOSES = frozenset({1008, 1009})


@dataclass(frozen=True)
class HandshakeLimits:
    failures_per_second: float = 5.0  # failed authentications per client address, refilled up to...
    failures_burst: int = 50  # ...this many in a row
    strikes_per_minute: float = 6.0  # strikes per session and per person, refilled up to...
    strikes_burst: int = 3  # ...this many in a row

    @property
    def strike_rate(self) -> float:
        return self.strikes_per_minute / 60


class Answer(StrEnum):
    OPEN = "open"  # go on: read the session (before_lookup), or accept the socket (after_lookup)
    FORBIDDEN = "forbidden"  # HTTP 403: the Origin is not allowed
    THROTTLED = "throttled"  # HTTP 429 with retry_after, before the upgrade
    UNAUTHORIZED = "unauthorized"  # accepted, an `unauthorized` error frame, close 4001


@dataclass(frozen=True)
class Verdict:
    answer: Answer
    retry_after: int = 0  # whole seconds, >= 1 when throttled


def wait(bucket: Bucket | None, now: float, rate: float, burst: int) -> int:
    """Whole seconds until the budget holds one more failure (0: it does now). Spends nothing."""
    decision = take(bucket, now, rate, burst)
    if decision.allowed:
        return 0
    return max(1, math.ceil(min(decision.retry_after, LONGEST_WAIT)))


def spend(bucket: Bucket | None, now: float, rate: float, burst: int) -> Bucket:
    """The budget after one more failure (an empty budget stays empty, its clock moves on)."""
    return take(bucket, now, rate, burst).bucket


def before_lookup(origin_allowed: bool, verified: bool, address_wait: int, session_wait: int) -> Verdict:
    """What to do with a handshake before any database work.

    ``verified``: the token's signature and age are good (it names a session id);
    ``address_wait`` / ``session_wait``: ``wait`` of the address's failure budget and of the
    session's strikes.
    """
    if not origin_allowed:
        return Verdict(Answer.FORBIDDEN)
    if not verified:
        return Verdict(Answer.THROTTLED, address_wait) if address_wait else Verdict(Answer.UNAUTHORIZED)
    if session_wait:
        return Verdict(Answer.THROTTLED, session_wait)
    return Verdict(Answer.OPEN)


def after_lookup(found: bool, person_wait: int) -> Verdict:
    """What to do once the session was read: a revoked or unknown one is told to sign in again
    (the lookup is done, and a browser needs ``4001``); a struck person waits."""
    if not found:
        return Verdict(Answer.UNAUTHORIZED)
    if person_wait:
        return Verdict(Answer.THROTTLED, person_wait)
    return Verdict(Answer.OPEN)


def hostile_close(code: int | None) -> bool:
    """Whether a socket ending with this code earns its session and person a strike."""
    return code in HOSTILE_CLOSES
