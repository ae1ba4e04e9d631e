"""The trimmer gives freed memory back once, after a flood has been quiet long enough (server.memory)."""

from __future__ import annotations

from server.memory import Trimmer, glibc_trim


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_one_trim_once_the_churn_has_been_quiet_for_long_enough() -> None:
    clock = Clock()
    trims: list[float] = []
    trimmer = Trimmer(2.0, lambda: trims.append(clock.now), clock)
    trimmer.churned()
    clock.now = 1.5
    trimmer.churned()  # still one look scheduled, not one per refused handshake
    first = trimmer.pending
    assert first is not None
    first.cancel()  # the loop's timer stands in for here: the look is taken by hand
    clock.now = 2.0
    trimmer._check()  # 0.5 s after the last churn: not quiet yet, look again later
    assert trims == [] and trimmer.pending is not None and trimmer.pending is not first
    trimmer.pending.cancel()
    clock.now = 3.5
    trimmer._check()
    assert trims == [3.5] and trimmer.pending is None and trimmer.trims == 1
    trimmer.churned()  # the next flood gets its own trim
    assert trimmer.pending is not None
    trimmer.pending.cancel()


def test_nothing_is_scheduled_without_a_trim_or_when_it_is_turned_off() -> None:
    for trimmer in (Trimmer(2.0, None), Trimmer(0.0, lambda: None)):
        trimmer.churned()  # no event loop is even needed
        assert trimmer.pending is None


def test_glibc_trim_runs() -> None:
    trim = glibc_trim()
    if trim is not None:  # on glibc (every deployment we document); elsewhere there is none
        trim()
