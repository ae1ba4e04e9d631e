"""A WebSocket client that stops reading: a raw socket framed by websockets' sans-I/O protocol.

Once joined it reads nothing, so everything the server sends piles up in the kernel's
buffers and then in the server's; ``drain`` later reads all that arrived, up to the close.
A small receive buffer (set before connecting, so the window is small from the start) makes
it stall after a few kilobytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import orjson
from websockets.client import ClientProtocol
from websockets.frames import Close, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.support.timing import units

Frame = dict[str, Any]


class StalledClient:
    def __init__(self, sock: socket.socket, protocol: ClientProtocol) -> None:
        self.sock = sock
        self.protocol = protocol
        self.frames: list[Frame] = []  # what ``drain`` read
        self.close_code: int | None = None

    @classmethod
    async def open(cls, ws_url: str, token: str, room: int) -> StalledClient:
        """Connect, join ``room`` with ``since: null``, and from then on read nothing."""
        uri = parse_uri(ws_url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, (uri.host, uri.port))
        protocol = ClientProtocol(uri, max_size=None)
        request = protocol.connect()
        request.headers["Authorization"] = f"Bearer {token}"
        protocol.send_request(request)
        client = cls(sock, protocol)
        await client._flush()
        while not any(isinstance(event, Response) for event in client._read_events(await client._recv())):
            pass
        await client.send({"type": "join", "room": room, "since": None})
        return client

    async def send(self, frame: Frame) -> None:
        self.protocol.send_text(orjson.dumps(frame))
        await self._flush()

    async def drain(self, timeout: float = 20) -> list[Frame]:
        """Read until the server ends the connection: the frames, and ``close_code`` (None: no close frame)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + units(timeout)
        while True:
            data = await asyncio.wait_for(self._recv(), max(0.0, deadline - loop.time()))
            self._read_events(data)
            if not data:
                return self.frames
            with contextlib.suppress(OSError):
                await self._flush()  # our answer to the close frame, as a client should

    def close(self) -> None:
        self.sock.close()

    async def _recv(self) -> bytes:
        try:
            return await asyncio.get_running_loop().sock_recv(self.sock, 65536)
        except ConnectionResetError:
            return b""

    def _read_events(self, data: bytes) -> list[object]:
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        events = self.protocol.events_received()
        for event in events:
            opcode = getattr(event, "opcode", None)
            if opcode is Opcode.TEXT:
                self.frames.append(orjson.loads(event.data))  # type: ignore[attr-defined]
            elif opcode is Opcode.CLOSE:
                self.close_code = Close.parse(event.data).code  # type: ignore[attr-defined]
        return events

    async def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                await asyncio.get_running_loop().sock_sendall(self.sock, chunk)
