"""Traffic that survives faults the way a client should, and the check of what it leaves.

A ``Participant`` is one person with one socket at a time: joined to the room, sending
numbered messages one after another. Each message keeps its ``client_id`` until it is
acknowledged: an ``unavailable`` answer is retried after a pause, and a socket that ends
(process killed, shut down) is replaced by one to the next process that answers, rejoined
with ``since`` = the last seq it holds, and the unacknowledged message is sent again there.
``check_exactly_once`` then compares everything acknowledged and everything each
participant saw with the room's stored history.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from tests.support.client import Frame, WsClient, room_events
from tests.support.live import ServerProcess
from tests.support.seed import Account
from tests.support.timing import units

ANSWERS = frozenset({"ack", "held", "error", "joined"})
RETRY_PAUSE = 0.1


class Participant:
    def __init__(
        self, who: Account, token: str, room: int, since: int, processes: Sequence[ServerProcess], home: int
    ) -> None:
        self.who = who
        self.token = token
        self.room = room
        self.start = since
        self.processes = processes
        self.home = home
        self.connections: list[WsClient] = []  # every socket it had, in order
        self.client: WsClient | None = None
        self.acked: list[tuple[str, int]] = []  # (client_id, seq) in the order they were sent
        self.unavailable = 0  # `unavailable` answers (sends, joins, handshakes)
        self.close_codes: list[int | None] = []  # how each socket that ended under it ended
        self._attempt = 0

    @property
    def label(self) -> str:
        return self.who.username

    def view(self) -> list[Frame]:
        """The room's stored events as they reached this person, over all its sockets."""
        return [event for client in self.connections for event in room_events(client.seen, self.room)]

    def last_seen(self) -> int:
        events = self.view()
        return events[-1]["seq"] if events else self.start

    async def connect(self) -> None:
        """A joined socket: the home process first, else the next one that answers."""
        order = [*self.processes[self.home :], *self.processes[: self.home]]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + units(30)
        while True:
            assert loop.time() < deadline, f"{self.label}: no process would take a socket"
            for process in order:
                client = await self._open(process)
                if client is None:
                    continue
                answer = await self._ask(client, {"type": "join", "room": self.room, "since": self.last_seen()})
                if answer is not None and answer["type"] == "joined":
                    self.client = client
                    return
                await self._give_up(client, answer)
            await asyncio.sleep(RETRY_PAUSE)

    async def _open(self, process: ServerProcess) -> WsClient | None:
        try:
            client = await WsClient.open(process.ws_url, self.token)
        except Exception:  # refused, reset, or the handshake failed
            return None
        try:
            first = await client.next(timeout=5)
        except TimeoutError:
            first = {"type": "none"}
        if first["type"] != "hello":
            if first.get("code") == "unavailable":
                self.unavailable += 1
            await client.close()
            return None
        self.connections.append(client)
        return client

    async def _give_up(self, client: WsClient, answer: Frame | None) -> None:
        if answer is not None:
            if answer.get("code") != "unavailable":
                raise AssertionError(f"{self.label}: unexpected answer to join: {answer}")
            self.unavailable += 1
        await client.close()

    async def _ask(self, client: WsClient, frame: dict[str, Any]) -> Frame | None:
        """Send a frame and wait for its answer; None when the socket ended first (or would not send)."""
        self._attempt += 1
        ref = f"{self.label}/{self._attempt}"
        try:
            await client.send({**frame, "ref": ref})
        except Exception:
            return await self._ended(client)
        answer = asyncio.ensure_future(
            client.until(lambda f: f.get("ref") == ref and f.get("type") in ANSWERS, timeout=20)
        )
        ended = asyncio.ensure_future(client.ended())
        await asyncio.wait({answer, ended}, return_when=asyncio.FIRST_COMPLETED)
        if answer.done():
            ended.cancel()
            return answer.result()[-1]
        answer.cancel()
        await asyncio.gather(answer, return_exceptions=True)
        found = [f for f in client.seen if f.get("ref") == ref and f.get("type") in ANSWERS]
        if found:  # answered just before the close: the answer counts
            return found[-1]
        return await self._ended(client)

    async def _ended(self, client: WsClient) -> None:
        await client.ended()
        self.close_codes.append(client.ws.close_code)
        if self.client is client:
            self.client = None
        return None

    async def deliver(self, body: str, client_id: str | None = None) -> int:
        """Send one message until it is acknowledged, on whatever socket there is; its seq."""
        client_id = client_id or str(uuid.uuid4())
        while True:
            if self.client is None:
                await self.connect()
            assert self.client is not None
            answer = await self._ask(
                self.client, {"type": "send", "room": self.room, "body": body, "client_id": client_id}
            )
            if answer is None:
                continue  # the socket ended: reconnect, send the same client_id again
            if answer["type"] == "ack":
                assert answer["client_id"] == client_id, answer
                self.acked.append((client_id, answer["seq"]))
                return int(answer["seq"])
            if answer.get("code") == "unavailable":
                self.unavailable += 1
                await asyncio.sleep(RETRY_PAUSE)
                continue
            raise AssertionError(f"{self.label}: unexpected answer to send: {answer}")

    async def run(self, stop: asyncio.Event, pause: float = 0.02) -> None:
        """Numbered messages, one after another, until told to stop (the last one is finished)."""
        if self.client is None:
            await self.connect()
        n = 0
        while not stop.is_set():
            await self.deliver(f"{self.label} {n}")
            n += 1
            await asyncio.sleep(pause)

    async def stream(self, pause: float = 0.002, most: int = 5000) -> list[tuple[str, str, str]]:
        """Send without waiting for answers until the socket ends: (client_id, ref, body) of each."""
        assert self.client is not None
        sent: list[tuple[str, str, str]] = []
        for n in range(most):
            client_id, ref, body = str(uuid.uuid4()), f"{self.label}/stream{n}", f"{self.label} {n}"
            try:
                await self.client.send(
                    {"type": "send", "room": self.room, "body": body, "client_id": client_id, "ref": ref}
                )
            except Exception:
                break  # the socket is closing: this one never left
            sent.append((client_id, ref, body))
            await asyncio.sleep(pause)
        return sent

    async def settle(self, sent: list[tuple[str, str, str]]) -> list[str]:
        """Wait for the answers to what ``stream`` sent or the socket's end; send the unanswered again.

        Returns the client ids acknowledged on that socket; the others are sent again in
        order, with the same ``client_id``, until acknowledged.
        """
        client = self.client
        assert client is not None
        ended = asyncio.ensure_future(client.ended())

        def answers() -> dict[str, Frame]:
            return {f["ref"]: f for f in client.seen if f.get("type") in ANSWERS and "ref" in f}

        while not ended.done() and not all(ref in answers() for _, ref, _ in sent):
            await asyncio.wait({ended}, timeout=0.02)
        first = answers()
        if ended.done():
            await self._ended(client)
        else:
            ended.cancel()
        for client_id, ref, body in sent:
            answer = first.get(ref)
            if answer is not None and answer["type"] == "ack":
                self.acked.append((client_id, answer["seq"]))
            else:
                await self.deliver(body, client_id)
        return [client_id for client_id, ref, _ in sent if first.get(ref, {}).get("type") == "ack"]

    async def catch_up(self, seq: int) -> None:
        """Until this person's view reaches ``seq`` (reconnecting if its socket ends meanwhile)."""
        while self.last_seen() < seq:
            if self.client is None:
                await self.connect()
            assert self.client is not None
            client = self.client
            waiting = asyncio.ensure_future(client.wait_seq(self.room, seq, timeout=20))
            ended = asyncio.ensure_future(client.ended())
            await asyncio.wait({waiting, ended}, return_when=asyncio.FIRST_COMPLETED)
            if waiting.done():
                ended.cancel()
                waiting.result()
            else:
                waiting.cancel()
                await asyncio.gather(waiting, return_exceptions=True)
                await self._ended(client)

    async def close(self) -> None:
        for client in self.connections:
            await client.close()


async def eventually(
    condition: Callable[[], bool], what: str, timeout: float = 20, watch: Sequence[asyncio.Task[None]] = ()
) -> None:
    """Poll until ``condition`` holds; fail naming ``what`` after ``timeout`` seconds.

    A task in ``watch`` (the traffic) that failed meanwhile fails the wait with its own error.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + units(timeout)
    while not condition():
        for task in watch:
            if task.done():
                task.result()
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def readiness(process: ServerProcess, want: int, timeout: float = 15) -> bool:
    """Whether ``/readyz`` answers ``want`` within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + units(timeout)
    async with httpx.AsyncClient(timeout=units(5)) as http:
        while loop.time() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(process.url + "/readyz")).status_code == want:
                    return True
            await asyncio.sleep(0.05)
    return False


async def stored_history(base_url: str, token: str, room: int, after: int) -> list[Frame]:
    """Every stored event of the room after ``after``, page by page, over HTTP."""
    events: list[Frame] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=units(10)) as http:
        while True:
            answer = await http.get(
                f"/api/rooms/{room}/messages",
                params={"after": events[-1]["seq"] if events else after, "limit": 500},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
            page = answer.json()
            events.extend(page["messages"])
            if not page["has_more"]:
                return events


def check_exactly_once(history: list[Frame], start: int, participants: Sequence[Participant]) -> None:
    """Everything acknowledged is stored once, in each sender's order; each view is the history.

    ``history`` holds the room's events after ``start``, and nobody else wrote to the room.
    """
    seqs = [event["seq"] for event in history]
    assert seqs == list(range(start + 1, start + 1 + len(history))), "the stored seqs have a gap"
    stored = {event["seq"]: event for event in history}
    client_ids = Counter(event.get("client_id") for event in history if event["type"] == "message")
    doubled = [client_id for client_id, count in client_ids.items() if count > 1]
    assert not doubled, f"stored twice: {doubled}"
    acked = {client_id for p in participants for client_id, _ in p.acked}
    assert set(client_ids) == acked, "stored but never acknowledged, or acknowledged but not stored"
    for p in participants:
        for client_id, seq in p.acked:
            assert stored[seq].get("client_id") == client_id, f"{p.label}: ack {seq} names another message"
        order = [seq for _, seq in p.acked]
        assert order == sorted(order), f"{p.label}: stored out of the order it was sent"
        assert [int(stored[seq]["body"].rsplit(" ", 1)[1]) for seq in order] == list(range(len(order)))
        view = p.view()
        assert [e["seq"] for e in view] == seqs, f"{p.label}: its view has a gap or a duplicate"
        assert view == history, f"{p.label}: what it saw differs from what is stored"
