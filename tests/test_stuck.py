"""The task dump of a stop that did not finish: down to the await that holds each task, and
nothing of what the task holds (no message body reaches the log)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from server.stuck import log_pending_tasks


async def test_each_pending_task_is_logged_down_to_the_await_that_holds_it(caplog: pytest.LogCaptureFixture) -> None:
    gate = asyncio.Event()

    @asynccontextmanager
    async def holding() -> AsyncIterator[None]:
        await gate.wait()
        yield

    async def deliver(body: str) -> None:
        async with holding():
            pass

    async def serve() -> None:
        await deliver("a message body nobody may log")

    tasks = [asyncio.create_task(serve(), name="stuck-on-the-gate") for _ in range(2)]
    await asyncio.sleep(0)
    caplog.set_level(logging.WARNING, logger="test.stuck")
    log_pending_tasks(logging.getLogger("test.stuck"), "shutdown: waiting")

    (record,) = [r for r in caplog.records if "stuck-on-the-gate" in r.getMessage()]
    assert record.levelno == logging.WARNING
    head, *chain = record.getMessage().splitlines()
    assert head == "shutdown: waiting: 2 task(s) pending (stuck-on-the-gate x2):"
    functions = [line.rsplit(" in ", 1)[-1] for line in chain[:-1]]
    assert functions == ["serve", "deliver", "__aenter__", "holding", "wait"]  # the context manager's body too
    assert chain[0].lstrip().startswith("tests/test_stuck.py:")  # paths from the project or package root
    assert chain[-1].strip().startswith("waiting on ")
    assert "message body" not in caplog.text
    gate.set()
    await asyncio.gather(*tasks)
