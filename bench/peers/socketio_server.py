"""W2 peer: the same chat fan-out with python-socketio and its Redis client manager.

A ``socketio.AsyncServer`` (ASGI mode) whose client manager is ``AsyncRedisManager``: every
``emit`` to a room is published to Redis and fanned out to the room's sockets when it comes
back from the subscription, as it would be with several server processes. Wrapped in
``socketio.ASGIApp`` and served by uvicorn with the flags our server gets
(``bench/run.py`` starts it)::

    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python -m uvicorn bench.peers.socketio_server:app \\
        --host 127.0.0.1 --port 8200 --ws websockets-sansio --ws-per-message-deflate false

Events (namespace ``/``), all answered with a Socket.IO acknowledgement carrying the frame
our server would send (docs/protocol.md shapes):

- ``join`` ``{"room", "ref"}``: ``enter_room(sid, room)``; ack ``{"type": "joined", ...}``.
- ``send`` ``{"room", "body", "client_id", "ref"}``: ``emit("message", MESSAGE, to=room)``
  (the sender's socket is in the room and receives it too, as with ours); ack
  ``{"type": "ack", "seq", ...}``.
- ``leave`` ``{"room", "ref"}``: ``leave_room``; ack ``{"type": "left", ...}``.

No storage (``seq`` is a counter in this process's memory), no authentication, no
authorisation, no rate limit: it does less work per message than our server, which
persists and authorises every one. JSON is ``orjson`` (through ``json=``), as in ours.
"""

from __future__ import annotations

from typing import Any

import socketio

from bench.peers.common import REDIS_URL, OrjsonModule, Rooms

rooms = Rooms()
# redis-py's pool raises once 100 connections are in use (python-socketio then reconnects and
# retries the publish); ours waits for a connection instead. A bigger pool, so the peer is
# not slowed down by a pool size
manager = socketio.AsyncRedisManager(REDIS_URL, json=OrjsonModule, redis_options={"max_connections": 1024})
sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=manager,
    json=OrjsonModule,
    cors_allowed_origins=[],
    max_http_buffer_size=4 * 1024 * 1024,
    logger=False,
    engineio_logger=False,
)
app = socketio.ASGIApp(sio, socketio_path="socket.io")


@sio.event
async def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    room = data["room"]
    await sio.enter_room(sid, room)
    return {"type": "joined", "room": room, "last_seq": rooms.last_seq.get(room, 0), "ref": data.get("ref")}


@sio.event
async def send(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    room = data["room"]
    message, ack = rooms.message(room, data)
    await sio.emit("message", message, to=room)
    return ack


@sio.event
async def leave(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    room = data["room"]
    await sio.leave_room(sid, room)
    return {"type": "left", "room": room, "reason": "leave", "ref": data.get("ref")}
