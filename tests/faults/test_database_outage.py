"""PostgreSQL goes away under traffic and comes back: nothing acknowledged is lost or doubled.

The outage is simulated at the network level (tests/support/tcp_proxy.py): CI's PostgreSQL
is a service the tests cannot stop, so two server processes reach it through a proxy the
test cuts (every connection reset, new ones refused) and restores.
"""

from __future__ import annotations

import asyncio
import signal

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from server.store.database import Database
from tests.faults.traffic import Participant, check_exactly_once, eventually, readiness, stored_history
from tests.support.client import WsClient, login
from tests.support.cluster import running
from tests.support.databases import POSTGRES_ADMIN
from tests.support.redis_server import RedisServer
from tests.support.seed import create_room, create_user
from tests.support.tcp_proxy import TcpProxy, postgres_starting_up, unanswering
from tests.support.timing import units


async def terminate_backends(database: str | None) -> None:
    """What a stopping PostgreSQL does to its open connections: 57P01, then close."""
    admin = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await admin.close()


pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


async def test_sends_during_an_outage_are_refused_retried_and_stored_once_after_it(
    postgres_url: str, redis_server: RedisServer
) -> None:
    db = Database(postgres_url)
    staff = await create_user(db, "staff", "staff", "Counsellor")
    people = [await create_user(db, f"peer{i}", display_name=f"Peer {i}") for i in range(4)]
    room = await create_room(db, staff, people)
    await db.dispose()
    direct = make_url(postgres_url)
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432)
    await proxy.start()
    proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        async with running(proxied, redis_server.url, 2, LIMIT_RATE_PER_SECOND="1000", LIMIT_RATE_BURST="1000") as ps:
            tokens = await asyncio.gather(*(login(ps[0].url, p.username, p.password) for p in people))
            start = (await stored_history(ps[0].url, tokens[0], room, 0))[-1]["seq"]
            participants = [Participant(p, tokens[i], room, start, ps, i % 2) for i, p in enumerate(people)]
            stop = asyncio.Event()
            traffic = [asyncio.create_task(p.run(stop)) for p in participants]
            await eventually(
                lambda: all(len(p.acked) >= 3 for p in participants), "traffic before the outage", watch=traffic
            )

            # PostgreSQL stops: new connections refused, open ones told 57P01 and closed
            await proxy.stop_accepting()
            await terminate_backends(direct.database)
            await proxy.cut()
            for process in ps:
                assert await readiness(process, want=503), "/readyz stayed green with the database gone"
            await asyncio.sleep(units(0.2))  # an ack already on the wire when the database went away lands now
            acked_before = {p: len(p.acked) for p in participants}
            refused = {p: p.unavailable for p in participants}
            await eventually(
                lambda: all(p.unavailable >= refused[p] + 2 for p in participants), "refusals", watch=traffic
            )
            newcomer = await WsClient.open(ps[1].ws_url, tokens[0])
            assert (await newcomer.next())["code"] == "unavailable"
            await newcomer.ended()
            assert newcomer.ws.close_code == 1013

            # it starts again: connections are answered 57P03 for a while
            await proxy.cut(answer=postgres_starting_up)
            refused = {p: p.unavailable for p in participants}
            await eventually(
                lambda: all(p.unavailable >= refused[p] + 2 for p in participants), "57P03 answers", watch=traffic
            )
            assert await readiness(ps[0], want=503)

            # the network drops its packets: a connection attempt is never answered
            await proxy.cut(answer=unanswering)
            refused = {p: p.unavailable for p in participants}
            await eventually(lambda: all(p.unavailable > refused[p] for p in participants), "timeouts", watch=traffic)
            assert {p: len(p.acked) for p in participants} == acked_before, "acknowledged while the database was down"

            await proxy.restore()
            for process in ps:
                assert await readiness(process, want=200), "/readyz did not turn green again"
            await eventually(
                lambda: all(len(p.acked) >= acked_before[p] + 5 for p in participants),
                "traffic after it",
                watch=traffic,
            )
            stop.set()
            await asyncio.gather(*traffic)
            assert all(process.process is not None and process.process.poll() is None for process in ps)
            history = await stored_history(ps[1].url, tokens[1], room, start)
            for p in participants:
                await p.catch_up(history[-1]["seq"])
            check_exactly_once(history, start, participants)
            assert all(p.close_codes == [] for p in participants), "a socket was dropped for the outage"
            for p in participants:
                await p.close()
            # and they stop cleanly: awaited here, as the proxy runs in this loop
            running_processes = [process.process for process in ps if process.process is not None]
            for child in running_processes:
                child.send_signal(signal.SIGTERM)
            for child in running_processes:
                await asyncio.wait_for(asyncio.to_thread(child.wait), units(15))
    finally:
        await proxy.close()
