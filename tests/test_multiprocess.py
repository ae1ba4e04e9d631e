"""Several server processes sharing one database and one real Redis."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from server.store.database import Database
from tests.support.client import WsClient, login, room_events
from tests.support.live import ServerProcess
from tests.support.redis_server import RedisServer
from tests.support.seed import Account, create_room, create_user
from tests.support.timing import units

pytestmark = pytest.mark.slow


@dataclass
class Cluster:
    processes: list[ServerProcess]
    db: Database
    redis: RedisServer | None
    staff: Account
    people: list[Account]
    room: int

    async def client(self, process: int, who: Account) -> WsClient:
        url = self.processes[process].url
        token = await login(url, who.username, who.password)
        client = await WsClient.open(self.processes[process].ws_url, token)
        assert (await client.next())["type"] == "hello"
        return client


async def _cluster(db_url: str, redis: RedisServer | None, count: int, people: int) -> AsyncIterator[Cluster]:
    db = Database(db_url)
    staff = await create_user(db, "staff", "staff", "Counsellor")
    members = [await create_user(db, f"peer{i}", display_name=f"Peer {i}") for i in range(people)]
    room = await create_room(db, staff, members)
    processes = [
        ServerProcess(db_url, redis.url if redis else None, LIMIT_RATE_PER_SECOND="1000", LIMIT_RATE_BURST="1000")
        for _ in range(count)
    ]
    try:
        await asyncio.gather(*(p.start() for p in processes))
        yield Cluster(processes, db, redis, staff, members, room)
    finally:
        for process in processes:
            process.close()
        await db.dispose()


@pytest.fixture
async def cluster(shared_db_url: str, redis_server: RedisServer) -> AsyncIterator[Cluster]:
    async for running in _cluster(shared_db_url, redis_server, 3, 6):
        yield running


async def test_a_message_sent_on_one_process_reaches_clients_on_the_others_in_order(cluster: Cluster) -> None:
    clients = [await cluster.client(i, cluster.people[i]) for i in range(3)]
    for client in clients:
        await client.join(cluster.room, since=None)
    last = 0
    for n in range(30):
        sender = clients[n % 3]
        ack = await sender.say(cluster.room, f"message {n}")
        assert ack["type"] == "ack"
        last = ack["seq"]
    for client in clients:
        await client.wait_seq(cluster.room, last)
        events = room_events(client.seen, cluster.room)
        assert [e["body"] for e in events] == [f"message {n}" for n in range(30)]
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(seqs[0], seqs[0] + 30))
        await client.close()


async def test_redis_restart_loses_nothing_acknowledged(cluster: Cluster) -> None:
    assert cluster.redis is not None
    receivers = [await cluster.client(i, cluster.people[i]) for i in range(3)]
    senders = [await cluster.client(i, cluster.people[3 + i]) for i in range(3)]
    start = (await receivers[0].join(cluster.room, since=None))["last_seq"]
    for client in receivers[1:]:
        await client.join(cluster.room, since=start)
    acked: list[int] = []
    for n in range(6):
        acked.append((await senders[n % 3].say(cluster.room, f"before {n}"))["seq"])
    cluster.redis.stop()
    for n in range(9):  # sends still persist and acknowledge while Redis is down
        answer = await senders[n % 3].say(cluster.room, f"during {n}")
        assert answer["type"] == "ack", answer
        acked.append(answer["seq"])
    cluster.redis.start()
    # nobody sends after Redis is back: the processes must catch up by themselves
    for client in receivers:
        await client.wait_seq(cluster.room, max(acked), timeout=20)
    await asyncio.sleep(units(1.5))  # a duplicate would show up in this time
    for client in receivers:
        seqs = [e["seq"] for e in room_events(client.seen, cluster.room)]
        assert seqs == list(range(start + 1, max(acked) + 1)), seqs
        assert set(acked) <= set(seqs)
    for client in receivers + senders:
        await client.close()


async def test_logout_on_one_process_closes_sockets_on_the_others(cluster: Cluster) -> None:
    who = cluster.people[0]
    token = await login(cluster.processes[0].url, who.username, who.password)
    sockets = []
    for process in cluster.processes[1:]:
        client = await WsClient.open(process.ws_url, token)
        assert (await client.next())["type"] == "hello"
        sockets.append(client)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            cluster.processes[0].url + "/api/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 204
    for client in sockets:
        await asyncio.wait_for(client.ws.wait_closed(), units(5))
        assert client.ws.close_code == 4001


async def test_presence_spans_processes_and_a_killed_process_drops_out(cluster: Cluster) -> None:
    watcher = await cluster.client(0, cluster.people[0])
    await watcher.join(cluster.room)
    others = [await cluster.client(i, cluster.people[i]) for i in (1, 2)]
    for client in others:
        await client.join(cluster.room)
    await watcher.until(lambda f: f["type"] == "presence" and len(f["online"]) == 3, timeout=10)
    assert cluster.processes[2].process is not None
    cluster.processes[2].stop(signal.SIGKILL)
    frames = await watcher.until(lambda f: f["type"] == "presence" and len(f["online"]) == 2, timeout=15)
    assert {p["display_name"] for p in frames[-1]["online"]} == {"Peer 0", "Peer 1"}
    await watcher.close()
    await others[0].close()


async def test_twenty_concurrent_senders_over_two_processes_get_seqs_1_to_n(
    db_url: str, redis_server: RedisServer
) -> None:
    async for cluster in _cluster(db_url, redis_server, 2, 20):
        clients = [await cluster.client(i % 2, person) for i, person in enumerate(cluster.people)]
        first_free = 22  # the room's member_added events hold 1..21

        async def burst(client: WsClient, who: int, room: int) -> list[int]:
            return [(await client.say(room, f"{who}:{n}"))["seq"] for n in range(10)]

        results = await asyncio.gather(*(burst(c, i, cluster.room) for i, c in enumerate(clients)))
        got = sorted(seq for seqs in results for seq in seqs)
        assert got == list(range(first_free, first_free + 200))
        token = await login(cluster.processes[0].url, "staff", cluster.staff.password)
        async with httpx.AsyncClient() as http:
            history = (
                await http.get(
                    f"{cluster.processes[0].url}/api/rooms/{cluster.room}/messages?after=0&limit=500",
                    headers={"Authorization": f"Bearer {token}"},
                )
            ).json()
        assert [e["seq"] for e in history["messages"]] == list(range(1, first_free + 200))
        for client in clients:
            await client.close()
