"""The test client's waits give up when their caller is cancelled, whatever arrives meanwhile.

On Python 3.11 ``asyncio.wait_for`` swallows a cancel that lands as its frame arrives
(CPython gh-86296): tests/faults/traffic.py, giving up on the socket of a killed process,
then waited out the whole timeout (test_process_death failed about one run in nine).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.client import WsClient


def client_without_socket() -> WsClient:
    client = WsClient.__new__(WsClient)
    client.frames = asyncio.Queue()
    client.seen = []
    return client


@pytest.mark.parametrize("wait", ["until", "next"])
async def test_a_wait_cancelled_as_a_frame_arrives_is_cancelled(wait: str) -> None:
    client = client_without_socket()

    async def waiting() -> Any:
        if wait == "until":
            return await client.until(lambda frame: False, timeout=30)
        return await client.next(timeout=30)

    task = asyncio.create_task(waiting())
    await asyncio.sleep(0)  # the wait is on the queue now
    client.frames.put_nowait({"type": "message"})  # the frame and the cancel in the same loop turn
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done, "the cancelled wait went on waiting"
    assert task.cancelled()
