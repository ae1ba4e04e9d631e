"""The lean pieces under every socket: the receive inbox, the writable gate, the outgoing buffer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from server.connection import Connection
from server.protocol import CloseCode
from server.store.users import Person
from server.transport import Gate, Inbox


async def test_inbox_is_fifo_and_get_waits_for_put() -> None:
    inbox = Inbox()
    assert inbox.empty()
    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert await waiting == 1
    assert await inbox.get() == 2
    assert inbox.empty()


async def test_gate_lets_every_waiter_through_once_set() -> None:
    gate = Gate()
    waiters = [asyncio.create_task(gate.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    waiters[0].cancel()  # one waiter giving up does not strand the others
    gate.set()
    assert await asyncio.gather(*waiters[1:]) == [True, True]
    gate.clear()
    assert not gate.is_set()
    late = asyncio.create_task(gate.wait())
    await asyncio.sleep(0)
    assert not late.done()
    gate.set()
    assert await late


class Socket:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.stall = asyncio.Event()
        self.stall.set()

    async def send(self, text: str) -> None:
        await self.stall.wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


def _connection(socket: Socket, limit: int = 4) -> Connection:
    person = Person(id=1, username="ann", display_name="Ann", role="participant")
    return Connection(person, "s", datetime.now(UTC) + timedelta(hours=1), socket.send, socket.close, limit)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_frames_go_out_in_order_and_an_idle_writer_can_rest() -> None:
    socket = Socket()
    conn = _connection(socket)
    conn.push("a")
    conn.push("b")
    await _settle()
    assert socket.sent == ["a", "b"]
    conn.rest()  # idle: its writer task goes away
    await _settle()
    conn.push("c")  # and a new one starts for the next frame
    await _settle()
    assert socket.sent == ["a", "b", "c"]
    await conn.stop_writer()


async def test_a_full_buffer_drops_the_client_as_too_slow() -> None:
    socket = Socket()
    socket.stall.clear()  # the client stops reading
    conn = _connection(socket, limit=3)
    assert all(conn.push(str(n)) for n in range(3))
    await _settle()  # the writer took those and is stuck sending the first
    assert all(conn.push(str(n)) for n in range(3, 6))  # the buffer holds three more
    assert not conn.push("overflow")
    assert conn.closed and conn.close_code == CloseCode.SLOW_CONSUMER
    assert conn.push("ignored once closed")


async def test_kill_sends_a_last_frame_then_closes() -> None:
    socket = Socket()
    conn = _connection(socket)
    conn.push("queued")
    conn.kill(CloseCode.SESSION_ENDED, "session ended", final_frame="bye")
    await _settle()
    assert socket.sent == ["bye"]
    assert socket.closed == (CloseCode.SESSION_ENDED, "session ended")
    await conn.stop_writer()


async def test_backlog_waits_for_room_instead_of_overflowing() -> None:
    socket = Socket()
    socket.stall.clear()
    conn = _connection(socket, limit=2)
    backlog = asyncio.create_task(_send_all(conn, [str(n) for n in range(10)]))
    await _settle()
    assert not backlog.done() and not conn.closed
    socket.stall.set()
    await asyncio.wait_for(backlog, 1)
    await _settle()
    assert socket.sent == [str(n) for n in range(10)]
    await conn.stop_writer()


async def _send_all(conn: Connection, frames: list[str]) -> None:
    for frame in frames:
        await conn.send_ordered(frame)
