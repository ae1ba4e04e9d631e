"""W2 peer: the same chat fan-out with Django Channels and ``channels_redis``.

An ``AsyncWebsocketConsumer`` per socket, a ``RedisChannelLayer`` on ``REDIS_URL`` (settings
in bench/peers/channels_settings.py): ``join`` is ``group_add``, ``send`` is ``group_send``
to the room's group (the sender's own socket is in the group and receives the message too,
as with ours), then an ``ack`` to the sender. The ASGI application is a
``channels.routing.ProtocolTypeRouter`` served by uvicorn with the flags our server gets
(``bench/run.py`` starts it)::

    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python -m uvicorn bench.peers.channels_server:application \\
        --host 127.0.0.1 --port 8300 --ws websockets-sansio --ws-per-message-deflate false

It speaks the frames of docs/protocol.md that ``bench/loadgen.py fanout`` uses (``hello`` on
connect, ``join`` -> ``joined``, ``send`` -> ``message`` to the room + ``ack``, ``leave`` ->
``left``, ``ping`` -> ``pong``) at ``/ws``. The ``message`` frame is serialised once by the
sender's consumer and travels through Redis as text; each receiving consumer just writes it.

No database, no storage (``seq`` is a counter in this process's memory), no authentication,
no authorisation, no rate limit: it does less work per message than our server, which
persists and authorises every one. JSON is ``orjson``, as in ours.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.channels_settings")

import django

django.setup()

from typing import Any  # noqa: E402

import orjson  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.peers.common import HELLO, Rooms  # noqa: E402

rooms = Rooms()
HELLO_TEXT = orjson.dumps(HELLO).decode()


def group_of(room: Any) -> str:
    return f"room-{room}"


class ChatConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        self.joined: set[str] = set()
        await self.accept()
        await self.send(text_data=HELLO_TEXT)

    async def disconnect(self, code: int) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = orjson.loads(text_data or b"")
            kind = frame["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            await self.reply({"type": "error", "code": "invalid", "message": "bad frame"})
            return
        ref = frame.get("ref")
        if kind == "send":
            room = frame["room"]
            message, ack = rooms.message(room, frame)
            await self.channel_layer.group_send(
                group_of(room), {"type": "chat.message", "text": orjson.dumps(message).decode()}
            )
            await self.reply(ack)
        elif kind == "join":
            room = frame["room"]
            group = group_of(room)
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.add(group)
            await self.reply({"type": "joined", "room": room, "last_seq": rooms.last_seq.get(room, 0), "ref": ref})
        elif kind == "leave":
            room = frame["room"]
            group = group_of(room)
            await self.channel_layer.group_discard(group, self.channel_name)
            self.joined.discard(group)
            await self.reply({"type": "left", "room": room, "reason": "leave", "ref": ref})
        elif kind == "ping":
            await self.reply({"type": "pong", "ref": ref})
        else:
            await self.reply({"type": "error", "code": "invalid", "message": "unknown type", "ref": ref})

    async def chat_message(self, event: dict[str, Any]) -> None:
        """A ``message`` frame from the room's group: already serialised by the sender."""
        await self.send(text_data=event["text"])

    async def reply(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=orjson.dumps(frame).decode())


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws", ChatConsumer.as_asgi())])})
