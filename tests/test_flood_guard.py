"""What a flooding client costs (issue 7, bench/flood.py), and joins that fail half-way.

Through real sockets against an in-loop server: every frame is charged to the rate limit
before it is decoded, a connection that keeps sending refused frames is closed with 1008,
frames over the transport limit end the socket with 1009 before they are buffered, and a
join either ends subscribed or the client is told it is not.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect

from server import hub as hub_module
from server.protocol import CloseCode
from server.settings import Limits
from server.store import events as event_store
from server.store.database import Database, StoreUnavailable
from tests.support.client import login, signed_in_socket
from tests.support.live import live_server, settings_for
from tests.support.seed import Account, create_cast

STRICT = Limits(rate_per_second=0.01, rate_burst=3, refused_per_second=0.01, refused_burst=6)


@dataclass
class Cast:
    db: Database
    url: str
    ann: Account
    ben: Account
    room: int


@pytest.fixture
async def cast(sqlite_url: str) -> AsyncIterator[Cast]:
    db = Database(sqlite_url)
    people = await create_cast(db)
    yield Cast(db, sqlite_url, people.ann, people.ben, people.room)
    await db.dispose()


async def test_a_frame_over_the_rate_limit_is_refused_before_it_is_decoded(cast: Cast) -> None:
    async with live_server(settings_for(cast.url, limits=STRICT)) as live:
        ann = await signed_in_socket(live, cast.ann)
        for n in range(3):  # the burst: each decoded and answered for what it is
            await ann.send("{not json" if n else {"type": "ping", "ref": "first"})
        answers = [await ann.next() for _ in range(3)]
        assert answers[0] == {"type": "pong", "ref": "first"}
        assert [a["code"] for a in answers[1:]] == ["invalid", "invalid"]
        # past the burst: neither malformed nor oversized frames get as far as the decoder
        await ann.send("{not json")
        await ann.send('{"type": "ping", "x": "' + "y" * 100_000 + '"}')
        await ann.send({"type": "ping", "ref": "later"})
        limited = [await ann.next() for _ in range(3)]
        assert [a["code"] for a in limited] == ["rate_limited"] * 3
        assert all(a["retry_after"] > 0 for a in limited)
        assert limited[2]["ref"] == "later", "a well-formed frame's answer still carries its ref"
        await ann.close()


async def test_a_connection_that_keeps_sending_refused_frames_is_closed_with_1008(cast: Cast) -> None:
    async with live_server(settings_for(cast.url, limits=STRICT)) as live:
        ann = await signed_in_socket(live, cast.ann)
        ben = await signed_in_socket(live, cast.ben)
        for _ in range(20):
            await ann.send(b"\x00binary")
        await asyncio.wait_for(ann.ended(), 10)
        assert ann.ws.close_code == CloseCode.POLICY
        refused = [f for f in ann.seen if f["type"] == "error"]
        assert refused and len(refused) <= STRICT.refused_burst + 1, "closed once past the bound, not later"
        # nobody else is affected; the person may connect again, their rate limit still spent
        assert (await ben.join(cast.room))["type"] == "joined"
        again = await signed_in_socket(live, cast.ann)
        await again.send({"type": "ping", "ref": "hi"})
        assert (await again.next())["code"] == "rate_limited"
        await again.close()
        await ben.close()


async def test_a_well_behaved_client_is_not_closed_for_an_occasional_refusal(cast: Cast) -> None:
    limits = Limits(rate_per_second=1000.0, rate_burst=1000, refused_per_second=0.01, refused_burst=6)
    async with live_server(settings_for(cast.url, limits=limits)) as live:
        ann = await signed_in_socket(live, cast.ann)
        await ann.join(cast.room)
        for n in range(5):
            await ann.send({"type": "join", "room": cast.room, "since": 10**9, "ref": n})  # invalid: since too high
            assert (await ann.until(lambda f, n=n: f.get("ref") == n))[-1]["code"] == "invalid"
            assert (await ann.say(cast.room, f"still here {n}"))["type"] == "ack"
        assert ann.ws.close_code is None
        await ann.close()


async def test_frames_over_the_frame_limit_are_answered_and_over_the_transport_limit_closed(cast: Cast) -> None:
    async with live_server(settings_for(cast.url)) as live:
        limits = live.app.state.services.settings.limits
        assert limits.max_frame_bytes < limits.transport_max_bytes <= 256 * 1024
        ann = await signed_in_socket(live, cast.ann)
        await ann.send("z" * (limits.transport_max_bytes - 1))
        assert (await ann.next())["code"] == "too_large"
        assert (await ann.say(cast.room, "still open"))["type"] == "ack"
        await ann.send("z" * (limits.transport_max_bytes + 1))
        await asyncio.wait_for(ann.ended(), 10)
        assert ann.ws.close_code == CloseCode.TOO_BIG
        assert [f for f in ann.seen if f["type"] == "error" and f["code"] == "too_large"] == [
            {
                "type": "error",
                "code": "too_large",
                "message": f"frame is over the limit of {limits.max_frame_bytes} bytes",
            }
        ], "the frame over the transport limit was never handed to the decoder"


class Outage:
    """``events.history`` failing on chosen calls, as when the database goes away mid-join."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, failing: set[int]) -> None:
        self.calls = 0
        self.failing = failing
        real = event_store.history

        async def history(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls in self.failing:
                raise StoreUnavailable("database unavailable")
            return await real(*args, **kwargs)

        monkeypatch.setattr(event_store, "history", history)


async def test_a_join_that_fails_before_joined_is_an_error_with_its_ref_and_nothing_else(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with live_server(settings_for(cast.url)) as live:
        ann, ben = await signed_in_socket(live, cast.ann), await signed_in_socket(live, cast.ben)
        Outage(monkeypatch, failing={1})
        refused = await ann.join(cast.room, since=0, ref="first")
        assert refused["type"] == "error" and refused["code"] == "unavailable" and refused["ref"] == "first"
        assert not [f for f in ann.seen if f["type"] == "joined"]
        await ben.join(cast.room)
        await ben.say(cast.room, "while you were refused")
        await ann.send({"type": "ping", "ref": "p"})
        await ann.until(lambda f: f.get("ref") == "p")
        assert not ann.messages(cast.room), "a refused join leaves the socket unsubscribed, and says so"
        joined = await ann.join(cast.room, since=0, ref="again")  # what the browser client does next
        assert joined["type"] == "joined"
        await ann.wait_seq(cast.room, joined["last_seq"])
        ack = await ben.say(cast.room, "live again")
        await ann.wait_seq(cast.room, ack["seq"])
        await ann.close()
        await ben.close()


async def test_a_join_that_fails_after_joined_closes_the_socket_and_a_rejoin_resumes(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with live_server(settings_for(cast.url)) as live:
        ben = await signed_in_socket(live, cast.ben)
        await ben.join(cast.room)
        for n in range(6):
            await ben.say(cast.room, f"backlog {n}")
        monkeypatch.setattr(hub_module, "HISTORY_PAGE", 2)
        Outage(monkeypatch, failing={2})  # the second page of the backlog
        ann = await signed_in_socket(live, cast.ann)
        await ann.send({"type": "join", "room": cast.room, "since": 0, "ref": "j"})
        await asyncio.wait_for(ann.ended(), 10)
        assert ann.ws.close_code == CloseCode.TRY_AGAIN
        got = [f["seq"] for f in ann.messages(cast.room)]
        assert got == list(range(1, len(got) + 1)), "what came before the close is gap-free"
        again = await signed_in_socket(live, cast.ann)
        joined = await again.join(cast.room, since=got[-1] if got else 0)
        assert joined["type"] == "joined"
        await again.wait_seq(cast.room, joined["last_seq"])
        ack = await ben.say(cast.room, "live")
        await again.wait_seq(cast.room, ack["seq"])
        await again.close()
        await ben.close()


async def test_a_client_that_goes_away_during_a_long_backlog_frees_its_socket(cast: Cast) -> None:
    """The join waiting for room in a full outgoing buffer must notice that the writer died;
    otherwise the socket's task waits forever (a leak, and a SIGTERM that never finishes)."""
    limits = Limits(rate_per_second=1e6, rate_burst=10**6, outgoing_queue=8)
    async with live_server(settings_for(cast.url, limits=limits)) as live:
        ben = await signed_in_socket(live, cast.ben)
        await ben.join(cast.room)
        for n in range(600):  # ~10 MB of backlog: more than the socket buffers on the way hold
            await ben.say(cast.room, f"{n} " + "\N{SMILING FACE WITH OPEN MOUTH}" * 3900)
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", int(live.url.rsplit(":", 1)[1])))
        token = await login(live.url, cast.ann.username, cast.ann.password)
        stalled = await connect(
            live.ws_url, sock=raw, additional_headers={"Authorization": f"Bearer {token}"}, max_queue=1
        )
        await stalled.send(orjson.dumps({"type": "join", "room": cast.room, "since": 0}).decode())
        hub = live.app.state.services.hub
        await asyncio.sleep(1)  # the backlog fills every buffer on the way; the join waits for room
        (joining,) = [conn for conn in hub.connections if conn.person.id == cast.ann.person.id]
        assert not joining.rooms, "the backlog is still being sent"
        stalled.transport.abort()
        for _ in range(100):
            if len(hub.connections) == 1:
                break
            await asyncio.sleep(0.1)
        assert len(hub.connections) == 1, "the socket's task is still waiting to send the backlog"
        ack = await ben.say(cast.room, "the room goes on")
        await ben.wait_seq(cast.room, ack["seq"])
        await ben.close()
