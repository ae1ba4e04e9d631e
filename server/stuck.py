"""What every pending asyncio task is waiting on, for the log of a stop that did not finish.

``Task.get_stack()`` shows only a suspended task's outermost frame ("in stop, awaiting
something"); the await that never returns is at the other end of the chain. This walks
each task's chain of awaited coroutines down to the future it is parked on.

Invariant: only code positions (file, line, function) and type and task names are written:
never locals, arguments or results, so no message body or token can reach a log.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

MAX_DEPTH = 40  # awaits followed per task; a chain deeper than this is cut
_ROOT = str(Path(__file__).resolve().parent.parent) + "/"
_LIBRARY = re.compile(r"^.*/(site-packages|lib/python3\.\d+)/")
_UNNAMED = re.compile(r"Task-\d+")  # asyncio's default names, counted together


def _short(path: str) -> str:
    """``server/hub.py``, ``redis/asyncio/client.py``, ``asyncio/tasks.py``: not where they are installed."""
    short = _LIBRARY.sub("", path)
    return short[len(_ROOT) :] if short.startswith(_ROOT) else short


def _frame_of(awaitable: Any) -> FrameType | None:
    for attribute in ("cr_frame", "gi_frame", "ag_frame"):
        frame = getattr(awaitable, attribute, None)
        if frame is not None:
            return frame  # type: ignore[no-any-return]
    return None


def _awaited(awaitable: Any, frame: FrameType | None) -> Any:
    for attribute in ("cr_await", "gi_yieldfrom", "ag_await"):
        if hasattr(awaitable, attribute):
            inner = getattr(awaitable, attribute)
            # `async with` an @asynccontextmanager: __aenter__/__aexit__ awaits the generator's
            # asend object, which does not say which generator it drives; its owner does
            if inner is not None and frame is not None and frame.f_code.co_name in ("__aenter__", "__aexit__"):
                generator = getattr(frame.f_locals.get("self"), "gen", None)
                if generator is not None and _frame_of(generator) is not None:
                    return generator
            return inner
    return None


def await_chain(task: asyncio.Task[Any]) -> tuple[str, ...]:
    """``file:line in function`` from the task's coroutine down to what it waits for last."""
    positions: list[str] = []
    awaitable: Any = task.get_coro()
    for _ in range(MAX_DEPTH):
        if awaitable is None:
            break
        frame = _frame_of(awaitable)
        if frame is None:  # a future or a C-level awaitable: the end of the chain
            positions.append(f"waiting on {type(awaitable).__name__}")
            break
        positions.append(f"{_short(frame.f_code.co_filename)}:{frame.f_lineno} in {frame.f_code.co_name}")
        awaitable = _awaited(awaitable, frame)
    return tuple(positions)


def log_pending_tasks(log: logging.Logger, why: str) -> None:
    """One WARNING per distinct chain: how many pending tasks (and which names) wait there."""
    current = asyncio.current_task()
    by_chain: dict[tuple[str, ...], Counter[str]] = {}
    for task in asyncio.all_tasks():
        if task is current or task.done():
            continue
        name = "Task-N" if _UNNAMED.fullmatch(task.get_name()) else task.get_name()
        by_chain.setdefault(await_chain(task), Counter())[name] += 1
    for chain, names in sorted(by_chain.items(), key=lambda item: -sum(item[1].values())):
        named = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in sorted(names.items()))
        log.warning("%s: %d task(s) pending (%s):\n  %s", why, sum(names.values()), named, "\n  ".join(chain))
