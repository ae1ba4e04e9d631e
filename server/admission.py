"""What a new connection goes through before the app: an upgrade the app refuses early is answered here.

Most of a flood's reconnects are refused before the upgrade (HTTP 429: a session past its
strikes, a forged token from an address past its failures; 403: a foreign Origin), and each
cost the loop about 0.33 ms of the rooms' time once upgraded and routed (bench/flood.py): a
WebSocket protocol object, the request parsed again by websockets, an ASGI task, Starlette's
WebSocket and response objects. The app offers that decision in its lifespan state
(``EARLY_REFUSAL``: ``server.ws.early_refusal``, charging nothing), and this protocol asks it
as soon as the upgrade request's headers are in, then writes the answer itself: 0.14 ms. What
it does not refuse goes on to the app unchanged, which decides (and charges) as before.

What it lets through is upgraded at most ``limits.upgrades_per_turn`` per turn of the event
loop and ``limits.upgrades_per_second`` a second (``UpgradePacer``, offered in the lifespan
state as ``UPGRADE_PACER``). A flood's first wave (fifty flooders and twenty-five forged tokens
connecting together) arrives in one turn: upgraded there and then, it held the loop for 20-40
ms and every room's messages waited behind it (bench/flood.py). Paced, the rooms' traffic is
read between the upgrades, and they never take more of the loop than the rate allows.

A refusal with HTTP 429 (throttled) is answered late (``RefusalTarpit``, offered as
``REFUSAL_TARPIT``): a flood's clients reconnect as soon as they are refused, whatever
``retry_after`` says, and each refusal cost the loop its 0.14 ms while the rooms waited.

Run uvicorn with ``--http server.admission:AdmittedHttpProtocol`` (the Procfile does).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from typing import Protocol

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from server.rules.limits import Bucket, take

HTTP_PROTOCOL = "server.admission:AdmittedHttpProtocol"
EARLY_REFUSAL = "alongside.early_refusal"  # the lifespan state's key for the app's early decision
UPGRADE_PACER = "alongside.upgrade_pacer"  # ...for the pacer of the upgrades it lets through
REFUSAL_TARPIT = "alongside.refusal_tarpit"  # ...and for the tarpit of its HTTP 429 answers
# (the upgrade request's headers, the peer's address) -> (status, headers, body) to answer, or None
EarlyRefusal = Callable[[Iterable[tuple[bytes, bytes]], str | None], tuple[int, dict[str, str], bytes] | None]

log = logging.getLogger("alongside.admission")


class Upgradable(Protocol):
    """A connection whose upgrade request is complete, waiting for its WebSocket."""

    transport: asyncio.Transport

    def upgrade(self) -> None: ...


class UpgradePacer:
    """Upgrades at most ``per_turn`` connections per turn of the event loop and at most ``rate``
    a second (in bursts of ``burst``), in arrival order.

    The first ``per_turn`` of a turn are upgraded at once; later ones stop reading and wait for
    a turn of their own, which the loop starts after it has read the sockets that are ready (the
    rooms' messages among them). Past the rate they wait until a token is due. A connection that
    closed while it waited is skipped. Why a rate as well: an accepted handshake costs the
    server 1.1-1.9 ms of CPU (bench/README.md), so a flood's first wave (about 150 sockets in
    its first quarter second) took most of a core, and the rooms' messages sent meanwhile
    waited 13-27 ms instead of 4-7; at 100 a second the same wave took 2 seconds and those
    messages 6-12 ms (bench/flood.py; a reconnect storm of 500: 92-99 ms unpaced, 18-28 paced,
    bench/storm.py). ``rate`` 0: turns only.
    """

    def __init__(
        self, per_turn: int, rate: float = 0.0, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_turn = per_turn
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens: Bucket | None = None
        self.left = per_turn  # upgrades this turn may still start
        self.waiting: deque[Upgradable] = deque()
        self.turn_scheduled = False

    def submit(self, connection: Upgradable) -> None:
        wait = 0.0
        if not self.waiting and self.left > 0:
            wait = self._spend()
            if not wait:
                self.left -= 1
                connection.upgrade()
                self._schedule_turn(0)  # the next turn starts with a full allowance
                return
        connection.transport.pause_reading()  # nothing more to read before its WebSocket exists
        self.waiting.append(connection)
        self._schedule_turn(wait)

    def _spend(self) -> float:
        """Take a token: 0 when taken, else the seconds until one is due (nothing taken)."""
        if self.rate <= 0:
            return 0.0
        decision = take(self.tokens, self.clock(), self.rate, self.burst)
        self.tokens = decision.bucket
        return 0.0 if decision.allowed else max(decision.retry_after, 0.001)

    def _schedule_turn(self, delay: float) -> None:
        if not self.turn_scheduled:
            self.turn_scheduled = True
            loop = asyncio.get_running_loop()
            if delay > 0:
                loop.call_later(delay, self._turn)
            else:
                loop.call_soon(self._turn)

    def _turn(self) -> None:
        self.turn_scheduled = False
        self.left = self.per_turn
        wait = 0.0
        while self.waiting and self.left > 0:
            if self.waiting[0].transport.is_closing():
                self.waiting.popleft()
                continue
            wait = self._spend()
            if wait:
                break
            self.left -= 1
            self.waiting.popleft().upgrade()
        if self.waiting:
            self._schedule_turn(wait)
        elif self.left < self.per_turn:  # the next turn starts with a full allowance
            self._schedule_turn(0)


class RefusalTarpit:
    """Answers throttled handshakes (HTTP 429) ``delay`` seconds late, at most ``capacity`` at once.

    A connection held here is not read, and costs nothing until its answer; a client that
    reconnects as soon as it is refused comes back at most once per ``delay`` per connection.
    In bench/flood.py the flooders, refused every 0.2 s, came back 13,500 times in a minute,
    and 25 forged tokens at a time made 950 tries in half a second; held 0.5 s, the flooders
    made 3,900 and the forged tokens 25 a second. Past ``capacity`` held at once (sockets are
    finite) a refusal is answered at once. A person's own client honours ``retry_after``
    anyway, which is longer.
    """

    def __init__(self, delay: float, capacity: int) -> None:
        self.delay = delay
        self.capacity = capacity
        self.held = 0

    def refuse(self, transport: asyncio.Transport, answer: Callable[[], None]) -> None:
        """``answer`` now, or after ``delay`` with ``transport`` not read meanwhile."""
        if self.delay <= 0 or self.held >= self.capacity:
            answer()
            return
        self.held += 1
        transport.pause_reading()
        asyncio.get_running_loop().call_later(self.delay, self._release, transport, answer)

    def _release(self, transport: asyncio.Transport, answer: Callable[[], None]) -> None:
        self.held -= 1
        if not transport.is_closing():
            answer()


class AdmittedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering an upgrade the app refuses early itself and
    pacing the others."""

    def handle_websocket_upgrade(self) -> None:
        refuse: EarlyRefusal | None = self.app_state.get(EARLY_REFUSAL)
        denial = None
        if refuse is not None:
            try:
                denial = refuse(self.scope["headers"], self.client[0] if self.client else None)
            except Exception:  # the app decides on its own path, as if there were no early one
                log.exception("early refusal failed")
        if denial is not None:
            tarpit: RefusalTarpit | None = self.app_state.get(REFUSAL_TARPIT)
            if tarpit is not None and denial[0] == 429:
                tarpit.refuse(self.transport, partial(self._answer, *denial))
            else:
                self._answer(*denial)
            return
        pacer: UpgradePacer | None = self.app_state.get(UPGRADE_PACER)
        if pacer is None:
            self.upgrade()
        else:
            pacer.submit(self)

    def upgrade(self) -> None:
        """Hand the connection to the WebSocket protocol (uvicorn's upgrade)."""
        paused = not self.transport.is_reading()
        super().handle_websocket_upgrade()
        # the transport now belongs to the WebSocket protocol; uvicorn keeps this one's
        # parser, whose callbacks hold this protocol: a cycle per socket for the collector
        self.parser = None  # type: ignore[assignment]
        if paused:  # it waited for its turn (UpgradePacer)
            self.transport.resume_reading()

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Write the refusal and close: no WebSocket machinery for it."""
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:  # date, server: as uvicorn answers
            head += [name, b": ", value, b"\r\n"]
        for text_name, text_value in {
            **headers,
            "content-type": "application/json",
            "content-length": str(len(body)),
            "connection": "close",
        }.items():
            head += [text_name.encode("latin-1"), b": ", text_value.encode("latin-1"), b"\r\n"]
        self.transport.write(b"".join([*head, b"\r\n", body]))
        self.transport.close()
