"""An event loop a synchronous test owns, so hypothesis can run each example or rule in it.

Hypothesis drives examples (and a state machine's rules) synchronously; servers, clients and
their background tasks live in this one loop across examples and run whenever a step does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any, TypeVar

from tests.support.timing import units

T = TypeVar("T")


class Loop:
    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._stack = AsyncExitStack()

    def run(self, step: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run one step to its end (bounded, so a hang fails the test instead of the CI job)."""
        return self._runner.run(asyncio.wait_for(step, units(timeout)))

    def enter(self, context: AbstractAsyncContextManager[T]) -> T:
        """Enter an async context that stays open until ``close``."""
        return self.run(self._stack.enter_async_context(context))

    def close(self) -> None:
        try:
            self.run(self._stack.aclose())
        finally:
            self._runner.close()
