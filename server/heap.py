"""The garbage collector in a serving process: what is loaded at start-up is frozen.

By the time the server is ready, ~100,000 objects (modules, SQLAlchemy metadata and
compiled statements, pydantic models) live as long as the process. Every full collection
walked all of them, stopping the event loop for 20-60 ms each time, a few times a minute
under traffic: the tail of W1's latency and W5's (bench/README.md). Frozen (``gc.freeze``),
they are left out of every later collection; they are still freed by reference counting,
and what the process makes afterwards (connections, messages) is collected as before.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what start-up left behind, then exempt what remains from later collections."""
    gc.collect()
    gc.freeze()
