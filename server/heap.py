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
later) waits for a full walk: once the frozen set has doubled since the last one, it is
unfrozen, and the next full collection walks everything once and frees it.
"""

from __future__ import annotations

import gc
from typing import Any

FULL = 2  # the oldest generation: a collection of it is a full one


class _Freezer:
    """Freezes the survivors of each full collection; unfreezes all once they have doubled."""

    def __init__(self) -> None:
        self.after_walk = gc.get_freeze_count()  # the frozen set when everything was last walked
        self.walking = False  # unfrozen: the next full collection walks everything
        self.walks = 0  # full walks since start-up (each stops the loop for the whole heap's walk)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != FULL:
            return
        gc.freeze()
        frozen = gc.get_freeze_count()
        if self.walking:
            self.walking = False
            self.after_walk = frozen
            self.walks += 1
        elif should_walk_all(frozen, self.after_walk):
            gc.unfreeze()
            self.walking = True


def should_walk_all(frozen: int, after_walk: int) -> bool:
    """Whether the frozen set has grown enough that its garbage is worth one full walk."""
    return frozen >= 2 * max(after_walk, 1)


def settle() -> None:
    """Collect what start-up left behind, freeze what remains, and keep freezing survivors."""
    gc.collect()
    gc.freeze()
    gc.callbacks.append(_Freezer())


def full_walks() -> int:
    """Full walks of the frozen set since start-up (0 in a process that did not settle)."""
    return sum(callback.walks for callback in gc.callbacks if isinstance(callback, _Freezer))
