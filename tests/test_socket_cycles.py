"""A socket's protocol objects are freed by reference counting once it is done with them.

The serving process freezes what lives through a full collection (server.heap), so an object
that only the collector can free (one in a reference cycle) may wait for the heap to double.
uvicorn left two such cycles per socket: the HTTP protocol of every upgraded connection (its
parser's callbacks hold it) and, for a socket closed over a refused frame (1009), the WebSocket
protocol (websockets' parser is a generator whose frame holds the protocol; a refusal's
traceback holds that frame too). Here the
real protocols take an upgrade (and a frame over the limit, or not) on a stand-in transport,
with the collector off.
"""

from __future__ import annotations

import gc
import struct
import weakref
from collections.abc import Iterator

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from server.admission import AdmittedHttpProtocol
from server.transport import LeanWebSocketProtocol
from tests.support.transport import SWITCHED, UPGRADE, Transport, accepting_app, until

MAX_SIZE = 1024


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _masked_frame_header(length: int) -> bytes:
    """A client's text frame header announcing ``length`` bytes (more than the limit)."""
    return bytes([0x81, 0x80 | 126]) + struct.pack("!H", length) + b"\x00\x00\x00\x00"


@pytest.mark.parametrize("refused", [True, False], ids=["closed-1009", "lost"])
async def test_an_upgraded_socket_leaves_no_cycle(collector_off: None, refused: bool) -> None:
    config = Config(
        app=accepting_app, ws=LeanWebSocketProtocol, lifespan="off", ws_max_size=MAX_SIZE, log_level="warning"
    )
    config.load()
    state = ServerState()
    transport = Transport()
    http = AdmittedHttpProtocol(config=config, server_state=state, app_state={})
    http.connection_made(transport)
    http.data_received(UPGRADE)
    ws = transport.protocol
    assert isinstance(ws, LeanWebSocketProtocol)
    await until(lambda: SWITCHED in transport.written)  # the app accepts
    assert SWITCHED in transport.written

    http_gone = weakref.ref(http)
    del http
    assert http_gone() is None  # the upgraded connection's HTTP protocol went with its last reference

    if refused:
        ws.data_received(_masked_frame_header(MAX_SIZE * 2))  # over the limit: closed 1009
        assert struct.pack("!H", 1009) in transport.written
    ws.connection_lost(None)
    await until(lambda: not state.tasks)  # the app's task sees the disconnect and ends
    assert not state.tasks and not state.connections

    ws_gone, parser_gone = weakref.ref(ws), weakref.ref(ws.conn)
    transport.protocol = None
    del ws
    assert ws_gone() is None
    assert parser_gone() is None  # neither its parser nor a refused frame's traceback holds websockets' protocol
