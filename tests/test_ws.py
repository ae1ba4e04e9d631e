"""The WebSocket protocol over real sockets against the embedded default (SQLite, in-process)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
from websockets.exceptions import InvalidStatus

from server.settings import Limits
from server.store import rooms as room_store
from server.store.database import Database
from tests.support.client import WsClient, login, room_events, signed_in_socket
from tests.support.live import Live, live_server, settings_for
from tests.support.seed import Account, create_cast


@dataclass
class World:
    live: Live
    db: Database
    staff: Account
    ann: Account
    ben: Account
    outsider: Account
    room: int

    async def client(self, who: Account) -> WsClient:
        return await signed_in_socket(self.live, who)


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    db = Database(sqlite_url)
    cast = await create_cast(db)
    async with live_server(settings_for(sqlite_url)) as live:
        yield World(live, db, cast.staff, cast.ann, cast.ben, cast.outsider, cast.room)
    await db.dispose()


async def test_a_message_is_acknowledged_and_delivered_to_every_member(world: World) -> None:
    ann, ben = await world.client(world.ann), await world.client(world.ben)
    joined = await ann.join(world.room)
    assert joined == {"type": "joined", "room": world.room, "last_seq": 3, "ref": "j"}
    await ben.join(world.room)
    ack = await ann.say(world.room, "hello everyone")
    assert ack["type"] == "ack" and ack["seq"] == 4
    await ben.wait_seq(world.room, 4)
    message = ben.messages(world.room)[-1]
    assert message["body"] == "hello everyone" and message["author"] == {
        "id": world.ann.person.id,
        "display_name": "Ann",
    }
    assert message["client_id"] == ack["client_id"]
    await ann.close()
    await ben.close()


async def test_rejoin_with_since_gets_exactly_what_was_missed_then_live(world: World) -> None:
    ann, ben = await world.client(world.ann), await world.client(world.ben)
    await ben.join(world.room, since=None)
    joined = await ann.join(world.room, since=None)
    held = joined["last_seq"]
    await ann.close()
    for i in range(100):
        assert (await ben.say(world.room, f"missed {i}"))["type"] == "ack"
    ann = await world.client(world.ann)
    await ann.send({"type": "join", "room": world.room, "since": held, "ref": "again"})
    first = await ann.next()
    assert first["type"] == "joined" and first["last_seq"] == held + 100
    await ann.wait_seq(world.room, held + 100)
    await ben.say(world.room, "live one")
    await ann.wait_seq(world.room, held + 101)
    events = room_events(ann.seen, world.room)
    assert [e["seq"] for e in events] == list(range(held + 1, held + 102))
    assert [e["body"] for e in events[:100]] == [f"missed {i}" for i in range(100)]
    await ann.close()
    await ben.close()


async def test_join_while_the_room_is_busy_has_no_gap_and_no_duplicate(world: World) -> None:
    ben = await world.client(world.ben)
    stop = asyncio.Event()

    async def chatter() -> None:
        n = 0
        while not stop.is_set():
            await ben.say(world.room, f"busy {n}")
            n += 1

    task = asyncio.create_task(chatter())
    await asyncio.sleep(0.3)
    joiners = []
    for since in (0, 2, None):
        client = await world.client(world.ann)
        joined = await client.join(world.room, since=since)
        joiners.append((client, joined["last_seq"] if since is None else since))
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)
    stop.set()
    await task
    final = (await ben.say(world.room, "the end"))["seq"]
    for client, start in joiners:
        await client.wait_seq(world.room, final)
        seqs = [e["seq"] for e in room_events(client.seen, world.room)]
        assert seqs == list(range(start + 1, final + 1))
        await client.close()
    await ben.close()


async def test_the_same_client_id_three_times_across_a_reconnect_is_one_message(world: World) -> None:
    client_id = str(uuid.uuid4())
    ann = await world.client(world.ann)
    first = await ann.say(world.room, "only once", client_id, ref=1)
    second = await ann.say(world.room, "only once", client_id, ref=2)
    await ann.close()
    ann = await world.client(world.ann)
    third = await ann.say(world.room, "only once", client_id, ref=3)
    assert first["seq"] == second["seq"] == third["seq"]
    async with httpx.AsyncClient(base_url=world.live.url) as http:
        token = await login(world.live.url, "ann", world.ann.password)
        body = (
            await http.get(f"/api/rooms/{world.room}/messages", headers={"Authorization": f"Bearer {token}"})
        ).json()
    assert [m.get("body") for m in body["messages"]].count("only once") == 1
    await ann.close()


async def test_typing_and_presence_reach_the_others(world: World) -> None:
    ann, ben = await world.client(world.ann), await world.client(world.ben)
    await ann.join(world.room)
    await ben.join(world.room)
    frames = await ann.until(lambda f: f["type"] == "presence" and len(f["online"]) == 2)
    assert {p["display_name"] for p in frames[-1]["online"]} == {"Ann", "Ben"}
    await ben.send({"type": "typing", "room": world.room})
    typing = (await ann.until(lambda f: f["type"] == "typing"))[-1]
    assert typing["user"] == {"id": world.ben.person.id, "display_name": "Ben"}
    await ben.close()
    frames = await ann.until(lambda f: f["type"] == "presence" and len(f["online"]) == 1)
    assert frames[-1]["online"][0]["display_name"] == "Ann"
    await ann.close()


async def test_leave_stops_delivery(world: World) -> None:
    ann, ben = await world.client(world.ann), await world.client(world.ben)
    await ann.join(world.room)
    await ben.join(world.room)
    await ann.send({"type": "leave", "room": world.room, "ref": "bye"})
    assert (await ann.until(lambda f: f.get("ref") == "bye"))[-1] == {
        "type": "left",
        "room": world.room,
        "reason": "leave",
        "ref": "bye",
    }
    await ben.say(world.room, "after you left")
    await ann.send({"type": "ping", "ref": "p"})
    await ann.until(lambda f: f.get("ref") == "p")
    assert not ann.messages(world.room)
    await ann.close()
    await ben.close()


BAD_FRAMES = [
    ("not json", "this is not json", "invalid"),
    ("binary", b"\x00\x01binary", "invalid"),
    ("100 KB", '{"type": "ping", "x": "' + "y" * 100_000 + '"}', "too_large"),
    ("missing fields", '{"type": "send", "room": 1}', "invalid"),
    ("wrong types", '{"type": "join", "room": "one"}', "invalid"),
    ("unknown type", '{"type": "dance"}', "invalid"),
    ("negative since", '{"type": "join", "room": ROOM, "since": -5}', "invalid"),
    ("huge since", '{"type": "join", "room": ROOM, "since": 123456789}', "invalid"),
    ("unknown room", '{"type": "join", "room": 987654}', "not_member"),
    (
        "too long body",
        '{"type": "send", "room": ROOM, "body": "' + "z" * 5000 + '", "client_id": "' + str(uuid.uuid4()) + '"}',
        "too_large",
    ),
    (
        "empty body",
        '{"type": "send", "room": ROOM, "body": "   ", "client_id": "' + str(uuid.uuid4()) + '"}',
        "invalid",
    ),
    ("typing before join", '{"type": "typing", "room": ROOM}', "not_joined"),
]


@pytest.mark.parametrize(("name", "raw", "code"), BAD_FRAMES, ids=[row[0] for row in BAD_FRAMES])
async def test_bad_frames_get_an_error_and_the_connection_still_works(
    world: World, name: str, raw: str | bytes, code: str
) -> None:
    ann = await world.client(world.ann)
    if isinstance(raw, str):
        raw = raw.replace("ROOM", str(world.room))
    await ann.send(raw)
    error = await ann.next()
    assert error["type"] == "error" and error["code"] == code, error
    assert (await ann.say(world.room, "still here"))["type"] == "ack"
    await ann.close()


async def test_a_non_member_cannot_join_or_send(world: World) -> None:
    otto = await world.client(world.outsider)
    joined = await otto.join(world.room)
    assert joined["type"] == "error" and joined["code"] == "not_member"
    answer = await otto.say(world.room, "let me in")
    assert answer["type"] == "error" and answer["code"] == "not_member"
    await otto.close()


async def test_a_logged_out_token_is_refused_and_its_sockets_are_closed(world: World) -> None:
    token = await login(world.live.url, "ann", world.ann.password)
    open_socket = await WsClient.open(world.live.ws_url, token)
    assert (await open_socket.next())["type"] == "hello"
    async with httpx.AsyncClient(base_url=world.live.url) as http:
        response = await http.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 204
    error = await open_socket.next()
    assert error["code"] == "unauthorized"
    await asyncio.wait_for(open_socket.ws.wait_closed(), 5)
    assert open_socket.ws.close_code == 4001
    refused = await WsClient.open(world.live.ws_url, token)
    assert (await refused.next())["code"] == "unauthorized"
    await asyncio.wait_for(refused.ws.wait_closed(), 5)
    assert refused.ws.close_code == 4001


async def test_a_foreign_origin_is_refused_at_the_handshake(world: World) -> None:
    token = await login(world.live.url, "ann", world.ann.password)
    with pytest.raises(InvalidStatus) as caught:
        await WsClient.open(world.live.ws_url, token, origin="https://evil.example")
    assert caught.value.response.status_code == 403
    allowed = await WsClient.open(world.live.ws_url, token, origin="http://127.0.0.1:8000")
    assert (await allowed.next())["type"] == "hello"
    await allowed.close()


async def test_a_cookie_without_origin_is_not_enough(world: World) -> None:
    token = await login(world.live.url, "ann", world.ann.password)
    no_origin = await WsClient.open(world.live.ws_url, None, Cookie=f"alongside_session={token}")
    assert (await no_origin.next())["code"] == "unauthorized"
    with_origin = await WsClient.open(
        world.live.ws_url, None, origin="http://127.0.0.1:8000", Cookie=f"alongside_session={token}"
    )
    assert (await with_origin.next())["type"] == "hello"
    await with_origin.close()


async def test_a_flood_is_rate_limited_with_retry_after(world: World, sqlite_url: str) -> None:
    async with live_server(settings_for(sqlite_url, limits=Limits(rate_per_second=5.0, rate_burst=20))) as strict:
        token = await login(strict.url, "ann", world.ann.password)
        ann = await WsClient.open(strict.ws_url, token)
        assert (await ann.next())["type"] == "hello"
        await _flood(ann)


async def _flood(ann: WsClient) -> None:
    for i in range(40):
        await ann.send({"type": "ping", "ref": i})
    answers = [await ann.next() for _ in range(40)]
    limited = [a for a in answers if a["type"] == "error"]
    assert limited and all(a["code"] == "rate_limited" and a["retry_after"] > 0 for a in limited)
    assert sum(a["type"] == "pong" for a in answers) >= 20
    await ann.close()


async def test_a_sync_goes_only_to_a_socket_missing_the_rooms_latest_seq(world: World) -> None:
    """`sync` tells a socket the room holds more than it was given: one that has everything
    (the backlog, its own message live) hears none; an event stored behind this process's back
    (another process's, while the broker was away) is announced to it, then delivered."""
    ann = await world.client(world.ann)
    await ann.join(world.room, since=0)
    ack = await ann.say(world.room, "something new")
    await ann.wait_seq(world.room, ack["seq"])
    await asyncio.sleep(1.6)  # three passes of the hub (SYNC_INTERVAL is 0.5 s here)
    assert [f for f in ann.seen if f["type"] == "sync"] == [], "a socket holding the latest seq is told nothing"
    async with world.db.write() as conn:
        stored = await room_store.set_member(conn, room_id=world.room, person=world.outsider.person, role="member")
    assert stored is not None and stored["seq"] == ack["seq"] + 1
    sync = (await ann.until(lambda f: f["type"] == "sync", timeout=5))[-1]
    assert sync == {"type": "sync", "room": world.room, "last_seq": stored["seq"]}
    await ann.wait_seq(world.room, stored["seq"])  # and the hub fills the gap by itself
    await asyncio.sleep(1.1)
    assert [f for f in ann.seen if f["type"] == "sync"] == [sync], "announced once"
    await ann.close()


async def test_a_client_that_stops_reading_is_dropped_and_the_room_goes_on(world: World, sqlite_url: str) -> None:
    """Fan-out never waits on one socket: a stalled client is closed; it resumes with since."""
    import socket

    from websockets.asyncio.client import connect

    async with live_server(
        settings_for(sqlite_url, limits=Limits(rate_per_second=1e6, rate_burst=10**6, outgoing_queue=32))
    ) as live:
        token = await login(live.url, "ann", world.ann.password)
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", int(live.url.rsplit(":", 1)[1])))
        stalled = await connect(
            live.ws_url, sock=raw, additional_headers={"Authorization": f"Bearer {token}"}, max_queue=1
        )
        await stalled.send(orjson.dumps({"type": "join", "room": world.room, "since": None}).decode())
        # from here on the stalled client reads nothing

        ben_token = await login(live.url, "ben", world.ben.password)
        ben = await WsClient.open(live.ws_url, ben_token)
        await ben.join(world.room, since=None)
        hub = live.app.state.services.hub
        body = "x" * 3900
        last = 0
        (stalled_conn,) = [c for c in hub.connections if c.person.id == world.ann.person.id]
        for n in range(3000):
            last = (await ben.say(world.room, f"{n} {body}"))["seq"]
            if stalled_conn.closed:
                break
        assert stalled_conn.closed and stalled_conn.close_code == 4008, "the stalled client was never dropped"
        for _ in range(100):
            if len(hub.connections) == 1:
                break
            await asyncio.sleep(0.1)
        assert len(hub.connections) == 1
        for n in range(5):  # the room goes on for the others
            last = (await ben.say(world.room, f"after {n}"))["seq"]
        await ben.wait_seq(world.room, last)
        seqs = [e["seq"] for e in room_events(ben.seen, world.room)]
        assert seqs == list(range(seqs[0], last + 1))

        held: list[int] = []
        with contextlib.suppress(Exception):
            async for raw_frame in stalled:
                frame = orjson.loads(raw_frame)
                if isinstance(frame.get("seq"), int) and frame.get("type") == "message":
                    held.append(frame["seq"])
        assert held == list(range(held[0], held[0] + len(held))) if held else True
        resumed = await WsClient.open(live.ws_url, token)
        since = held[-1] if held else seqs[0] - 1
        await resumed.join(world.room, since=since)
        await resumed.wait_seq(world.room, last)
        got = [e["seq"] for e in room_events(resumed.seen, world.room)]
        assert got == list(range(since + 1, last + 1))
        await resumed.close()
        await ben.close()


async def test_a_room_is_subscribed_while_someone_here_follows_it(world: World) -> None:
    broker = world.live.app.state.services.broker
    channel = f"alongside:room:{world.room}"
    assert channel not in broker.subscriptions
    ann, ben = await world.client(world.ann), await world.client(world.ben)
    await ann.join(world.room)
    await ben.join(world.room)
    assert channel in broker.subscriptions
    await ann.send({"type": "leave", "room": world.room, "ref": "l"})
    await ann.until(lambda f: f.get("ref") == "l")
    assert channel in broker.subscriptions  # ben still follows it
    await ben.close()
    for _ in range(50):
        if channel not in broker.subscriptions:
            break
        await asyncio.sleep(0.02)
    assert channel not in broker.subscriptions
    await ann.close()


async def test_pipelined_sends_keep_their_order(db_url: str) -> None:
    """Messages typed quickly, sent without waiting for acks, are stored in the order sent."""
    db = Database(db_url)
    cast = await create_cast(db)
    async with live_server(settings_for(db_url)) as live:
        token = await login(live.url, "ann", cast.ann.password)
        ann = await WsClient.open(live.ws_url, token)
        for n in range(300):
            await ann.send(
                {"type": "send", "room": cast.room, "body": f"{n}", "client_id": str(uuid.uuid4()), "ref": n}
            )
        acks = [f for f in await ann.until(lambda f: f.get("ref") == 299 and f["type"] == "ack") if f["type"] == "ack"]
        await asyncio.sleep(0.2)
        acks += [f for f in ann.seen[len(ann.seen) :] if f["type"] == "ack"]
        by_ref = {f["ref"]: f["seq"] for f in ann.seen if f["type"] == "ack"}
        assert len(by_ref) == 300
        assert [by_ref[n] for n in range(300)] == sorted(by_ref.values())
        await ann.close()
    await db.dispose()
