"""A throttled handshake (HTTP 429) is answered late, its socket unread meanwhile (server.admission).

A flood's clients reconnect as soon as they are refused; held for the delay, each comes back at
most once per delay per socket. Driven through uvicorn's real protocol on a stand-in transport;
tests/hostile/test_handshake_throttle.py checks the deployed wiring end to end.
"""

from __future__ import annotations

import asyncio

from uvicorn.config import Config
from uvicorn.server import ServerState

from server.admission import EARLY_REFUSAL, REFUSAL_TARPIT, AdmittedHttpProtocol, EarlyRefusal, RefusalTarpit
from server.transport import LeanWebSocketProtocol
from tests.support.transport import UPGRADE, Transport, accepting_app

THROTTLED = (429, {"retry-after": "30"}, b'{"code": "rate_limited"}')
FORBIDDEN = (403, {}, b'{"code": "forbidden"}')


def refusing(answer: tuple[int, dict[str, str], bytes]) -> EarlyRefusal:
    """The app's early decision, always ``answer``."""
    return lambda _headers, _peer: answer


def upgrade_refused(answer: tuple[int, dict[str, str], bytes], tarpit: RefusalTarpit) -> Transport:
    """An upgrade request the app refuses with ``answer``, read by the deployed protocol."""
    config = Config(app=accepting_app, ws=LeanWebSocketProtocol, lifespan="off", log_level="warning")
    config.load()
    app_state = {EARLY_REFUSAL: refusing(answer), REFUSAL_TARPIT: tarpit}
    transport = Transport()
    http = AdmittedHttpProtocol(config=config, server_state=ServerState(), app_state=app_state)
    http.connection_made(transport)
    http.data_received(UPGRADE)
    return transport


async def test_a_throttled_handshake_is_answered_after_the_delay_and_not_read_meanwhile() -> None:
    tarpit = RefusalTarpit(delay=0.2, capacity=10)
    transport = upgrade_refused(THROTTLED, tarpit)
    assert transport.written == b"" and not transport.closed
    assert not transport.reading
    assert tarpit.held == 1
    await asyncio.sleep(0.1)
    assert transport.written == b""
    await asyncio.sleep(0.2)
    assert transport.written.startswith(b"HTTP/1.1 429")
    assert b"retry-after: 30" in transport.written and transport.written.endswith(b'{"code": "rate_limited"}')
    assert transport.closed
    assert tarpit.held == 0


async def test_a_forbidden_handshake_is_answered_at_once() -> None:
    """Only throttling is held: a foreign Origin is a mistake of configuration, not a loop."""
    tarpit = RefusalTarpit(delay=0.2, capacity=10)
    transport = upgrade_refused(FORBIDDEN, tarpit)
    assert transport.written.startswith(b"HTTP/1.1 403") and transport.closed
    assert tarpit.held == 0


async def test_past_its_capacity_refusals_are_answered_at_once() -> None:
    tarpit = RefusalTarpit(delay=0.2, capacity=2)
    held = [upgrade_refused(THROTTLED, tarpit) for _ in range(2)]
    third = upgrade_refused(THROTTLED, tarpit)
    assert [t.written for t in held] == [b"", b""]
    assert third.written.startswith(b"HTTP/1.1 429") and third.closed
    await asyncio.sleep(0.3)
    assert all(t.written.startswith(b"HTTP/1.1 429") for t in held)
    assert tarpit.held == 0
    assert upgrade_refused(THROTTLED, tarpit).written == b""  # room again


async def test_a_socket_closed_while_held_gets_no_answer() -> None:
    tarpit = RefusalTarpit(delay=0.1, capacity=10)
    transport = upgrade_refused(THROTTLED, tarpit)
    transport.close()
    await asyncio.sleep(0.2)
    assert transport.written == b""
    assert tarpit.held == 0


async def test_no_delay_answers_at_once() -> None:
    tarpit = RefusalTarpit(delay=0, capacity=10)
    transport = upgrade_refused(THROTTLED, tarpit)
    assert transport.written.startswith(b"HTTP/1.1 429") and transport.closed
