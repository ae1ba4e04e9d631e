"""Several server processes sharing one database and a real Redis, and how a test talks to them.

Shared by the cross-process tests so each keeps only its cast and its own environment
(``running`` passes extra environment to every process, e.g. a shorter escalation delay).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.client import WsClient, login
from tests.support.lifecycle_cast import ProgramCast
from tests.support.live import ServerProcess
from tests.support.seed import Account
from tests.support.timing import units

Where = int | ServerProcess  # a process by its index in the cluster, or the process itself


@asynccontextmanager
async def running(database_url: str, redis_url: str, count: int = 2, **env: str) -> AsyncIterator[list[ServerProcess]]:
    """``count`` processes started together and closed whatever the test did."""
    processes = [ServerProcess(database_url, redis_url, None, **env) for _ in range(count)]
    try:
        await asyncio.gather(*(p.start() for p in processes))
        yield processes
    finally:
        for process in processes:
            process.close()


@dataclass
class Cluster:
    processes: list[ServerProcess]

    def _process(self, where: Where) -> ServerProcess:
        return self.processes[where] if isinstance(where, int) else where

    async def socket(self, where: Where, token: str) -> WsClient:
        """A WebSocket on that process, past its ``hello``."""
        client = await WsClient.open(self._process(where).ws_url, token)
        assert (await client.next())["type"] == "hello"
        return client

    async def client(self, where: Where, who: Account) -> WsClient:
        """The person logged in on that process, with a WebSocket past its ``hello``."""
        process = self._process(where)
        return await self.socket(process, await login(process.url, who.username, who.password))

    async def call(
        self, where: Where, who: Account, method: str, path: str, body: Any = None, expect: int = 200
    ) -> Any:
        """One HTTP call as the person on that process, which must answer ``expect``; its JSON."""
        base = self._process(where).url
        token = await login(base, who.username, who.password)
        async with httpx.AsyncClient(base_url=base, timeout=units(10)) as http:
            answer = await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == expect, answer.text
        return answer.json()


@dataclass
class ProgramCluster(Cluster):
    """The processes with the lifecycle cast and a second participant of its cohort."""

    cast: ProgramCast
    peer: Account

    @property
    def room(self) -> int:
        return self.cast.cohort_room
