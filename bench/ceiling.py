"""The W2 ceiling: a bare ``websockets`` server with rooms in memory, fan-out by ``broadcast()``.

No authorisation (any token is accepted, the Authorization header is ignored), no storage,
no rate limit, no presence or sync. It runs on uvloop, as uvicorn runs our server and the
peers (``--loop asyncio``: asyncio's own loop, as in the sittings before 2026-11-28 02:10,
about 15% more CPU per delivery). It speaks just enough of docs/protocol.md for
``loadgen.py fanout`` to run unchanged against it: ``hello`` on connect; ``join`` ->
``joined`` and membership; ``send`` -> a ``message`` frame with the room's next seq,
broadcast to the room (the sender included, as the real server does), then ``ack``.

    .venv/bin/python bench/ceiling.py --port 8100
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import UTC, datetime

import orjson
from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[int, set[ServerConnection]] = {}
last_seq: dict[int, int] = {}
HELLO = orjson.dumps(
    {
        "type": "hello",
        "user": {"id": 0, "username": "ceiling", "display_name": "ceiling", "role": "participant"},
        "limits": {},
    }
).decode()


def now_iso() -> str:
    ts = datetime.now(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


async def handler(ws: ServerConnection) -> None:
    joined: set[int] = set()
    await ws.send(HELLO)
    try:
        async for raw in ws:
            try:
                frame = orjson.loads(raw)
                kind = frame["type"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                await ws.send(orjson.dumps({"type": "error", "code": "invalid", "message": "bad frame"}).decode())
                continue
            ref = frame.get("ref")
            if kind == "join":
                room = frame["room"]
                rooms.setdefault(room, set()).add(ws)
                joined.add(room)
                await ws.send(
                    orjson.dumps(
                        {"type": "joined", "room": room, "last_seq": last_seq.get(room, 0), "ref": ref}
                    ).decode()
                )
            elif kind == "send":
                room = frame["room"]
                seq = last_seq[room] = last_seq.get(room, 0) + 1
                message = {
                    "type": "message",
                    "room": room,
                    "seq": seq,
                    "author": {"id": 0, "display_name": "ceiling"},
                    "body": frame["body"],
                    "ts": now_iso(),
                    "client_id": frame.get("client_id"),
                }
                broadcast(rooms.get(room, ()), orjson.dumps(message).decode())
                await ws.send(
                    orjson.dumps(
                        {"type": "ack", "room": room, "seq": seq, "client_id": frame.get("client_id"), "ref": ref}
                    ).decode()
                )
            elif kind == "leave":
                room = frame["room"]
                rooms.get(room, set()).discard(ws)
                joined.discard(room)
                await ws.send(orjson.dumps({"type": "left", "room": room, "reason": "leave", "ref": ref}).decode())
            elif kind == "ping":
                await ws.send(orjson.dumps({"type": "pong", "ref": ref}).decode())
    finally:
        for room in joined:
            rooms.get(room, set()).discard(ws)


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with serve(handler, host, port, compression=None, max_size=4 * 1024 * 1024, ping_interval=None):
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1"])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="event loop: uvloop, as uvicorn gives our server and the peers (default), or asyncio's own",
    )
    args = parser.parse_args()
    factory = None
    if args.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main(args.host, args.port))
