"""The serving process's collector (server.heap): survivors of a full collection are frozen, and
cyclic garbage among them is freed once the heap has doubled since it was last walked.

Run in a child process: freezing is process-wide, and this test process must keep collecting.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from server.heap import should_walk_all
from tests.support.live import ROOT

CHILD = """
import gc, sys, weakref
from server.heap import full_walks, settle

class Node:
    pass

settle()
startup = gc.get_freeze_count()

# a cycle that lives through a full collection is frozen with everything else alive then
cycle = Node(); cycle.me = cycle
gone = weakref.ref(cycle)
kept = [Node() for _ in range(startup // 4)]
gc.collect()
frozen_once = gc.get_freeze_count()
del cycle
gc.collect()
print("after_drop", gone() is not None, frozen_once - startup, full_walks())

# the heap doubles: it is unfrozen, and the next full collection walks it and frees the cycle
more = [Node() for _ in range(sys.getallocatedblocks())]
gc.collect()
gc.collect()
print("after_walk", gone() is not None, gc.get_freeze_count() >= len(kept) + len(more), full_walks())
"""


def test_survivors_are_frozen_and_their_garbage_freed_once_the_heap_doubles() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, check=True, capture_output=True, text=True, timeout=120
    )
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    alive, grown, walks = lines["after_drop"].split()
    assert alive == "True"  # frozen: a full collection no longer walks it
    assert int(grown) >= 1_000  # what lived through the collection was frozen
    assert walks == "0"
    alive, refrozen, walks = lines["after_walk"].split()
    assert alive == "False"  # walked once the heap had doubled: the cycle is freed
    assert refrozen == "True"  # and what is alive is frozen again
    assert walks == "1"  # counted (alongside_gc_full_walks_total)


STEPS = """
import gc
from server.heap import settle

class Node:
    pass

settle()
frozen, full = gc.get_freeze_count(), gc.get_stats()[2]["collections"]
kept = [Node() for _ in range(frozen // 4)]  # a cohort's worth of long-lived objects (the heap stays under double)
middle = gc.get_stats()[1]["collections"]
while gc.get_stats()[1]["collections"] < middle + 3:  # then traffic: three middle collections
    churn = []
    churn.append(churn)  # garbage only a collection frees: it counts towards the next one
print(gc.get_stats()[2]["collections"] - full, gc.get_freeze_count() - frozen, len(kept))
"""


def test_long_lived_objects_are_walked_and_frozen_as_they_are_promoted() -> None:
    """Not left for one full collection to walk all at once whenever it comes (the default
    waits for 10 middle collections and for a quarter of the whole start-up heap)."""
    done = subprocess.run(
        [sys.executable, "-c", STEPS], cwd=ROOT, check=True, capture_output=True, text=True, timeout=120
    )
    full, frozen, kept = map(int, done.stdout.split())
    assert full >= 1  # full collections followed the middle ones
    assert frozen >= kept > 1_000  # and froze the long-lived objects, so later ones skip them


@pytest.mark.parametrize(
    ("heap", "after_walk", "walk"),
    [
        (100_000, 100_000, False),  # nothing new
        (199_999, 100_000, False),  # not yet doubled
        (200_000, 100_000, True),  # doubled
        (150_000, 200_000, False),  # shrunk: frozen objects are still freed by reference counting
        (2, 0, True),  # an empty heap at the last walk (never in practice): any growth counts
        (0, 0, False),
    ],
)
def test_when_the_frozen_set_is_walked(heap: int, after_walk: int, walk: bool) -> None:
    assert should_walk_all(heap, after_walk) is walk
