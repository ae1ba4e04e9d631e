"""Give the memory a flood freed back to the system once the flood subsides.

A flood of handshakes and large frames (bench/flood.py) leaves the process's resident memory
higher than before it although its Python objects are back to what they were: glibc keeps
the freed chunks of its main heap (the receive buffers of up to 256 KiB come from the heap
once glibc has raised its mmap threshold) and returns only what sits at the top of the heap.
``malloc_trim(0)`` returns every free page of every heap (measured: ~8 MB after a flood, in
under a millisecond). It runs once the process has seen ``quiet`` seconds without a refused
handshake or a socket closed for flooding, so a flood costs one trim, not one per socket.
Elsewhere than glibc there is nothing to call and nothing happens (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

log = logging.getLogger("alongside.memory")


def glibc_trim() -> Callable[[], object] | None:
    """``malloc_trim(0)`` of the C library, if it has one (glibc does; musl and macOS do not)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


class Trimmer:
    """Calls ``trim`` once ``quiet`` seconds have passed since the last ``churned``."""

    def __init__(
        self,
        quiet: float,
        trim: Callable[[], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet = quiet
        self.trim = trim
        self.clock = clock
        self.last = 0.0
        self.pending: asyncio.TimerHandle | None = None
        self.trims = 0

    def churned(self) -> None:
        """Something that frees memory in bulk happened (a refused handshake, a flooder's socket closed)."""
        if self.trim is None or self.quiet <= 0:
            return
        self.last = self.clock()
        if self.pending is None:
            self.pending = asyncio.get_running_loop().call_later(self.quiet, self._check)

    def _check(self) -> None:
        left = self.last + self.quiet - self.clock()
        if left > 0:  # still churning: look again when it could have been quiet long enough
            self.pending = asyncio.get_running_loop().call_later(left, self._check)
            return
        self.pending = None
        assert self.trim is not None
        self.trim()
        self.trims += 1
        log.debug("freed memory given back to the system")
