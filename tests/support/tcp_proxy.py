"""A TCP proxy a test can cut and restore: a database outage at the network level.

CI's PostgreSQL is a service the tests cannot stop, so the fault tests put this proxy between
the server processes and PostgreSQL. ``cut`` does what a stopped database does to its
clients: every open connection ends at once (reset, mid-query or mid-commit) and new ones
are refused (``ECONNREFUSED``), or, with ``answer``, accepted and answered the way a
PostgreSQL that is shutting down or starting up answers them (``postgres_starting_up``), or
never answered, as by a host that is gone behind a network that drops its packets
(``unanswering``).
``restore`` forwards again on the same port. The goodbye a clean stop sends to each open
connection (``57P01 admin_shutdown``) is the test's to send, with ``pg_terminate_backend``.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Awaitable, Callable

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to ``target``, in the test's event loop."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._answer: Answer | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen (on a free port the first time, on the same port after a cut) and forward."""
        self._answer = None
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
            self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self, answer: Answer | None = None) -> None:
        """Reset every open connection; refuse new ones, or hand them to ``answer``."""
        self._answer = answer
        if answer is None and self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()  # type: ignore[attr-defined]
        self._transports.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if answer is not None and self._server is None:
            await self.start()
            self._answer = answer

    async def stop_accepting(self) -> None:
        """New connections are refused from now on; open ones go on until ``cut``."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def restore(self) -> None:
        """Forward again; a connection an ``answer`` still holds is reset (the client retries)."""
        if self._answer is not None:
            for transport in list(self._transports):
                transport.abort()  # type: ignore[attr-defined]
            self._transports.clear()
        await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._transports.add(client_writer.transport)
        try:
            if self._answer is not None:
                await self._answer(client_reader, client_writer)
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except (OSError, asyncio.IncompleteReadError):
            client_writer.transport.abort()
            return
        finally:
            self._transports.discard(client_writer.transport)
        if self._server is None:  # cut while connecting upstream
            client_writer.transport.abort()
            upstream_writer.transport.abort()
            return
        self._transports.update((client_writer.transport, upstream_writer.transport))
        for reader, writer in ((client_reader, upstream_writer), (upstream_reader, client_writer)):
            pump = asyncio.create_task(self._pump(reader, writer))
            self._tasks.add(pump)
            pump.add_done_callback(self._tasks.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction until end of stream, then pass the end on."""
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._transports.discard(writer.transport)
            with contextlib.suppress(Exception):
                writer.close()


SSL_REQUEST = 80877103


async def postgres_starting_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer a client as PostgreSQL does while it starts or stops: ``FATAL 57P03``, then close."""
    while True:
        length, code = struct.unpack("!II", await reader.readexactly(8))
        if code != SSL_REQUEST:
            await reader.readexactly(length - 8)
            break
        writer.write(b"N")  # no TLS here; the client then sends its startup message
    fields = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"
    writer.write(b"E" + struct.pack("!I", len(fields) + 4) + fields)
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()


async def unanswering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Take the connection and say nothing, until the client gives up."""
    with contextlib.suppress(ConnectionError):
        await reader.read()
    writer.close()
