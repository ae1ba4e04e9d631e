"""Hostile frames over a real WebSocket: whatever one frame holds, the connection stays open and
the next valid ``send`` is acknowledged (no dead connection, no ``internal`` error)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, assume, example, given, settings

from server.protocol import ErrorCode
from server.store.database import Database
from tests.hostile.loop import Loop
from tests.hostile.strategies import client_frames
from tests.support import databases
from tests.support.client import Frame, WsClient, login
from tests.support.live import live_server, settings_for
from tests.support.seed import PASSWORD, create_cast

DOCUMENTED = {code.value for code in ErrorCode} - {ErrorCode.INTERNAL.value}


@dataclass
class Chat:
    loop: Loop
    client: WsClient
    room: int
    transport_max_bytes: int  # larger frames end the socket with 1009, as documented
    checked: int = 0

    async def after(self, hostile: str | bytes) -> list[Frame]:
        """Send the hostile frame, then a valid message, which must be acknowledged; the errors seen."""
        await self.client.send(hostile)
        client_id = str(uuid.uuid4())
        answer = await self.client.say(self.room, "still here", client_id)
        assert answer["type"] == "ack" and answer["client_id"] == client_id, answer
        fresh, self.checked = self.client.seen[self.checked :], len(self.client.seen)
        return [f for f in fresh if f.get("type") == "error"]


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chat]:
    """One server and one signed-in member's socket for every example (rate limit out of the way)."""
    loop = Loop()
    try:
        url = loop.run(databases.new_sqlite(tmp_path_factory.mktemp("hostile-ws")))
        db = Database(url)
        cast = loop.run(create_cast(db))
        loop.run(db.dispose())
        config = settings_for(url)  # its limits let a test's client send many refused frames
        limits = replace(config.limits, rate_per_second=10_000.0, rate_burst=10_000)
        live = loop.enter(live_server(config.with_(limits=limits)))
        token = loop.run(login(live.url, cast.ann.username, PASSWORD))
        client = loop.run(WsClient.open(live.ws_url, token))
        assert loop.run(client.next())["type"] == "hello"
        yield Chat(loop, client, cast.room, limits.transport_max_bytes)
        loop.run(client.close())
    finally:
        loop.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile=client_frames)
@example(hostile=b"\x00\xff")
@example(hostile="x" * 70_000)
@example(hostile='{"type": "send", "room": 1, "body": "hi", "client_id": "+0000000000000000000000000000000"}')
def test_after_any_frame_the_connection_still_answers(chat: Chat, hostile: str | bytes) -> None:
    assume(len(hostile if isinstance(hostile, bytes) else hostile.encode()) <= chat.transport_max_bytes)
    errors = chat.loop.run(chat.after(hostile))
    assert [f for f in errors if f.get("code") not in DOCUMENTED] == []
