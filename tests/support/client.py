"""A small test client over real HTTP and WebSockets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from tests.support.seed import Account
from tests.support.timing import units

Frame = dict[str, Any]
NOISE = frozenset({"presence", "typing", "sync"})


async def login(base_url: str, username: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post("/api/auth/login", json={"username": username, "password": password})
        response.raise_for_status()
        token: str = response.json()["token"]
        return token


class WsClient:
    """One WebSocket connection; frames are read in the background into a queue."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[Frame] = asyncio.Queue()
        self.seen: list[Frame] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, ws_url: str, token: str | None = None, origin: str | None = None, **headers: str) -> WsClient:
        extra = dict(headers)
        if token is not None:
            extra["Authorization"] = f"Bearer {token}"
        ws = await connect(
            ws_url, additional_headers=extra, origin=origin, max_size=8 * 1024 * 1024, open_timeout=units(10)
        )  # type: ignore[arg-type]
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = orjson.loads(raw)
                self.seen.append(frame)
                await self.frames.put(frame)
        except Exception:
            pass

    async def send(self, frame: Frame | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, (str, bytes)) else orjson.dumps(frame).decode())

    # Timeouts are asyncio.timeout, not wait_for: on Python 3.11 a wait_for whose frame arrives as
    # its caller is cancelled swallows the cancel (CPython gh-86296), and the caller (traffic.py's
    # _ask, giving up on a socket that ended) then waited out the whole timeout.

    async def next(self, *, include_noise: bool = False, timeout: float = 5.0) -> Frame:
        while True:
            async with asyncio.timeout(units(timeout)):
                frame = await self.frames.get()
            if include_noise or frame.get("type") not in NOISE:
                return frame

    async def until(self, predicate: Callable[[Frame], bool], timeout: float = 10.0) -> list[Frame]:
        """Frames up to and including the first that matches (noise included)."""
        got: list[Frame] = []
        async with asyncio.timeout(units(timeout)):
            while True:
                frame = await self.frames.get()
                got.append(frame)
                if predicate(frame):
                    return got

    async def join(self, room: int, since: int | None = None, ref: Any = "j") -> Frame:
        await self.send({"type": "join", "room": room, "since": since, "ref": ref})
        frames = await self.until(lambda f: f.get("ref") == ref)
        return frames[-1]

    async def say(self, room: int, body: str, client_id: str | None = None, ref: Any = None) -> Frame:
        """Send and wait for the answer (ack, held or error) to this very frame."""
        client_id = client_id or str(uuid.uuid4())
        ref = ref if ref is not None else client_id
        await self.send({"type": "send", "room": room, "body": body, "client_id": client_id, "ref": ref})
        frames = await self.until(lambda f: f.get("ref") == ref and f.get("type") in ("ack", "held", "error"))
        return frames[-1]

    def messages(self, room: int) -> list[Frame]:
        return [
            f
            for f in self.seen
            if f.get("room") == room and isinstance(f.get("seq"), int) and f.get("type") == "message"
        ]

    async def wait_seq(self, room: int, seq: int, timeout: float = 10.0) -> None:
        """Until a stored event with this seq (or later) of the room has arrived."""
        if any(
            f.get("room") == room and f.get("seq", 0) >= seq
            for f in self.seen
            if f.get("type") not in ("ack", "joined")
        ):
            return
        await self.until(
            lambda f: (
                f.get("room") == room
                and f.get("type") not in ("ack", "joined")
                and isinstance(f.get("seq"), int)
                and f["seq"] >= seq
            ),
            timeout,
        )

    async def ended(self) -> None:
        """Until the connection is over and every frame the server sent before it is in ``seen``."""
        await asyncio.shield(self._reader)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


class Reachable(Protocol):
    """A server under test (``Live``, ``ServerProcess``): where its HTTP and WebSocket answer."""

    @property
    def url(self) -> str: ...

    @property
    def ws_url(self) -> str: ...


async def signed_in_socket(server: Reachable, who: Account) -> WsClient:
    """A WebSocket signed in as ``who`` (a login over HTTP), past its ``hello``."""
    client = await WsClient.open(server.ws_url, await login(server.url, who.username, who.password))
    assert (await client.next())["type"] == "hello"
    return client


def room_events(frames: list[Frame], room: int) -> list[Frame]:
    """Stored events of a room as received (the frames that carry a seq)."""
    return [
        f
        for f in frames
        if f.get("room") == room and f.get("type") not in ("ack", "joined", "sync") and isinstance(f.get("seq"), int)
    ]
