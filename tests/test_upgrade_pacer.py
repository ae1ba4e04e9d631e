"""WebSocket upgrades start at most ``limits.upgrades_per_turn`` per turn of the event loop, and
at most ``limits.upgrades_per_second`` (in bursts of ``limits.upgrade_burst``).

A flood's first wave of connections arrives in one turn; upgraded there and then it held the
loop for 20-40 ms, and even one per turn it took most of a core for a quarter second
(bench/flood.py). Each turn of the loop is one ``asyncio.sleep(0)`` here: the
pacer's next turn was scheduled before the test yields, so it runs first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from uvicorn.config import Config
from uvicorn.server import ServerState

from server.admission import UPGRADE_PACER, AdmittedHttpProtocol, UpgradePacer
from server.transport import LeanWebSocketProtocol
from tests.support.transport import SWITCHED, UPGRADE, Transport, accepting_app, until


@dataclass
class Waiting:
    """A connection whose upgrade request is in; records when it was upgraded."""

    name: int
    upgraded: list[int]
    transport: Transport = field(default_factory=Transport)

    def upgrade(self) -> None:
        assert not self.transport.is_closing()
        self.upgraded.append(self.name)


async def test_at_most_per_turn_upgrades_start_in_one_turn_the_rest_in_later_turns_in_order() -> None:
    pacer, upgraded = UpgradePacer(2), []
    waiting = [Waiting(n, upgraded) for n in range(7)]
    for connection in waiting:
        pacer.submit(connection)
    assert upgraded == [0, 1]
    assert [c.transport.reading for c in waiting] == [True, True] + [False] * 5  # the rest wait without reading
    seen = []
    for _ in range(3):
        await asyncio.sleep(0)
        seen.append(list(upgraded))
    assert seen == [[0, 1, 2, 3], [0, 1, 2, 3, 4, 5], list(range(7))]


async def test_a_connection_that_closed_while_waiting_is_skipped_and_takes_no_upgrade() -> None:
    pacer, upgraded = UpgradePacer(1), []
    waiting = [Waiting(n, upgraded) for n in range(4)]
    for connection in waiting:
        pacer.submit(connection)
    waiting[1].transport.close()  # the client went away before its turn
    await asyncio.sleep(0)
    assert upgraded == [0, 2]
    await asyncio.sleep(0)
    assert upgraded == [0, 2, 3]


async def test_each_turn_starts_with_a_full_allowance_and_arrivals_queue_behind_the_waiting() -> None:
    pacer, upgraded = UpgradePacer(2), []
    for n in range(2):
        pacer.submit(Waiting(n, upgraded))
    await asyncio.sleep(0)
    for n in range(2, 5):  # a new turn: two at once, the third waits
        pacer.submit(Waiting(n, upgraded))
    assert upgraded == [0, 1, 2, 3]
    await asyncio.sleep(0)
    assert upgraded == [0, 1, 2, 3, 4]


async def test_past_the_rate_upgrades_wait_for_a_token_in_arrival_order() -> None:
    """100 a second in bursts of 2, on a clock the test moves: the burst goes at once, then one
    more per token, however much real time passes meanwhile."""
    now = [0.0]
    pacer, upgraded = UpgradePacer(5, rate=100.0, burst=2, clock=lambda: now[0]), []
    waiting = [Waiting(n, upgraded) for n in range(4)]
    for connection in waiting:
        pacer.submit(connection)
    assert upgraded == [0, 1]  # the burst; five a turn would have let all four in
    await asyncio.sleep(0.05)  # several of the pacer's retries (each after the 10 ms a token takes)
    assert upgraded == [0, 1]
    assert [c.transport.reading for c in waiting] == [True, True, False, False]
    now[0] += 0.015  # a token and a half
    await until(lambda: len(upgraded) > 2)
    await asyncio.sleep(0.05)
    assert upgraded == [0, 1, 2]
    now[0] += 1.0
    await until(lambda: len(upgraded) > 3)
    assert upgraded == [0, 1, 2, 3]
    assert not pacer.waiting


async def test_with_no_rate_only_turns_pace_upgrades() -> None:
    now = [0.0]  # a clock that never moves: with a rate, nothing past the burst would go
    pacer, upgraded = UpgradePacer(3, rate=0.0, burst=1, clock=lambda: now[0]), []
    for n in range(5):
        pacer.submit(Waiting(n, upgraded))
    assert upgraded == [0, 1, 2]
    await asyncio.sleep(0)
    assert upgraded == list(range(5))


async def test_uvicorns_protocol_upgrades_in_turns_and_reads_again_once_upgraded() -> None:
    """The real protocols: five upgrade requests read in one turn, two upgrades at a time."""
    config = Config(app=accepting_app, ws=LeanWebSocketProtocol, lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    app_state = {UPGRADE_PACER: UpgradePacer(2)}
    transports = [Transport() for _ in range(5)]
    for transport in transports:
        http = AdmittedHttpProtocol(config=config, server_state=state, app_state=app_state)
        http.connection_made(transport)
        http.data_received(UPGRADE)
    upgraded = [isinstance(t.protocol, LeanWebSocketProtocol) for t in transports]
    assert upgraded == [True, True, False, False, False]
    assert [t.reading for t in transports] == upgraded
    await until(lambda: all(SWITCHED in t.written for t in transports))  # the pacer's turns, then the app's
    assert all(SWITCHED in t.written for t in transports)
    assert all(t.reading for t in transports)
    for transport in transports:
        protocol = transport.get_protocol()
        assert isinstance(protocol, LeanWebSocketProtocol)
        protocol.connection_lost(None)
    await until(lambda: not state.tasks)
    assert not state.tasks
