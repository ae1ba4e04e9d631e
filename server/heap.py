"""The garbage collector in a serving process: what has lived through a full collection is frozen.

By the time the server is ready, ~100,000 objects (modules, SQLAlchemy metadata and
compiled statements, pydantic models) live as long as the process; with 500 open sockets,
another ~50,000 (their protocols, tasks, buffers) live as long as the sockets. A full
collection walked all of them, stopping the event loop for 20-60 ms, whenever what had
been made since the last one reached a quarter of it: a few times a minute under traffic
(the tail of W1's and W5's latency, bench/README.md), and within a second of a flood's
first sockets (bench/flood.py). Frozen (``gc.freeze``), they are left out of later
collections; they are still freed by reference counting, and what the process makes
afterwards is collected as before.

What becomes cyclic garbage while frozen (a socket open at one full collection, closed
later) waits for a full walk: once the heap has doubled since the last one, everything is
unfrozen, and the next full collection walks everything once and frees it. The heap is
measured by pymalloc's count of blocks in use (``sys.getallocatedblocks``, a walk of its
arenas), not by the frozen set's size: ``gc.get_freeze_count`` walks every frozen object,
15 ms at 500 sockets, as long as the collection it would follow.

A full collection follows every collection of the middle generation (threshold 0, not 10),
so each walks only what that one promoted: a cohort's sockets are walked a few hundred objects
at a time as they settle in (≈2 ms each), not all at once by whichever full collection comes
first after them. That one was 15-38 ms, and a flood's allocations triggered it in its first
second (bench/README.md). The interpreter starts a full collection only once what was promoted
since the last one is a quarter of what that one kept: counted from an empty start here (a
collection with everything frozen keeps nothing), not from the whole start-up heap.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

FULL = 2  # the oldest generation: a collection of it is a full one


class _Freezer:
    """Freezes the survivors of each full collection; unfreezes all once the heap has doubled."""

    def __init__(self) -> None:
        self.after_walk = sys.getallocatedblocks()  # the heap when everything was last walked
        self.walking = False  # unfrozen: the next full collection walks everything
        self.walks = 0  # full walks since start-up (each stops the loop for the whole heap's walk)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != FULL:
            return
        gc.freeze()
        heap = sys.getallocatedblocks()
        if self.walking:
            self.walking = False
            self.after_walk = heap
            self.walks += 1
        elif should_walk_all(heap, self.after_walk):
            gc.unfreeze()
            self.walking = True


def should_walk_all(heap: int, after_walk: int) -> bool:
    """Whether the heap has grown enough since the last full walk that the garbage frozen
    meanwhile is worth one more."""
    return heap >= 2 * max(after_walk, 1)


def settle() -> None:
    """Collect what start-up left behind, freeze what remains, and keep freezing survivors."""
    gc.collect()
    gc.freeze()
    gc.collect()  # walks nothing: the next full collection's quarter is counted from 0
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 0)
    gc.callbacks.append(_Freezer())


def _freezers() -> list[_Freezer]:
    return [callback for callback in gc.callbacks if isinstance(callback, _Freezer)]


def full_walks() -> int:
    """Full walks of the heap since start-up (0 in a process that did not settle)."""
    return sum(freezer.walks for freezer in _freezers())


def next_walk_at() -> int | None:
    """The heap (blocks in use) at which everything is walked again; None without a freezer."""
    freezers = _freezers()
    return 2 * max(freezers[0].after_walk, 1) if freezers else None
