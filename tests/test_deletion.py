"""A participant deletes their own account: through HTTP, seen live over WebSockets, checked in the rows.

Runs on SQLite and PostgreSQL (``db_url``): the erasure is plain SQL that must behave alike.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.store import audit
from server.store.database import Database
from server.store.enrollments import enrollments, transitions
from server.store.events import events, held_messages, memberships, users
from server.store.models import Reaction
from server.store.rooms import removals
from tests.support.client import login
from tests.support.cluster import Cluster, running
from tests.support.lifecycle_cast import create_program_cast, enroll
from tests.support.redis_server import RedisServer
from tests.support.seed import Account
from tests.support.timing import units
from tests.support.world import World, program_world

reactions = Reaction.__table__  # type: ignore[attr-defined]
SECRET = "my relapse story, only for this group"


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with program_world(db_url) as world:
        yield world


async def _signed_in(world: World, who: Account) -> dict[str, Any]:
    async with world.http() as http:
        answer = await http.post("/api/auth/login", json={"username": who.username, "password": who.password})
    assert answer.status_code == 200, answer.text
    signed: dict[str, Any] = answer.json()
    return signed


def _cookie(signed: dict[str, Any], csrf: bool = True) -> dict[str, str]:
    headers = {"Cookie": f"alongside_session={signed['token']}"}
    return {**headers, "X-CSRF-Token": signed["csrf_token"]} if csrf else headers


async def _delete(world: World, headers: dict[str, str], password: Any) -> httpx.Response:
    async with world.http() as http:
        return await http.post("/api/me/delete", json={"password": password}, headers=headers)


async def _history(world: World, who: Account, room: int) -> dict[int, dict[str, Any]]:
    answer = await world.call(who, "GET", f"/api/rooms/{room}/messages?after=0&limit=500")
    assert answer.status_code == 200, answer.text
    return {m["seq"]: m for m in answer.json()["messages"]}


async def test_deleting_my_account_leaves_tombstones_and_nothing_personal(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    pat, kim = cast.participant, cast.staff_here
    ria = await enroll(world.db, "ria", cast.program, cast.cohort)
    pat_phone = await _signed_in(world, pat)  # a second session, its own socket
    pat_socket, phone_socket = await world.socket(pat), await world.socket(pat_phone["token"])
    ria_socket = await world.socket(ria)
    for client in (pat_socket, phone_socket, ria_socket):
        await client.join(room)
    first = (await pat_socket.say(room, SECRET))["seq"]
    await pat_socket.send(
        {"type": "send", "room": room, "body": "second thought", "client_id": str(uuid.uuid4()), "reply_to": first}
    )
    second = (await pat_socket.until(lambda f: f.get("type") == "ack"))[-1]["seq"]
    await ria_socket.send(
        {
            "type": "send",
            "room": room,
            "body": "I hear you",
            "client_id": str(uuid.uuid4()),
            "reply_to": first,
            "ref": "q",
        }
    )
    reply = (await ria_socket.until(lambda f: f.get("ref") == "q"))[-1]["seq"]
    await ria_socket.send({"type": "react", "room": room, "target": first, "emoji": "hug", "on": True, "ref": "r"})
    await ria_socket.until(lambda f: f.get("ref") == "r")

    out_of_topic = await world.call(kim, "DELETE", f"/api/rooms/{world.topic_room}/members/{pat.person.id}")
    assert out_of_topic.status_code == 200, out_of_topic.text  # a moderator's removal: a row that names them

    browser = await _signed_in(world, pat)
    assert (await _delete(world, _cookie(browser, csrf=False), pat.password)).json()["code"] == "csrf"
    wrong = await _delete(world, _cookie(browser), "not-my-password")
    assert (wrong.status_code, wrong.json()["code"]) == (403, "forbidden")
    assert (await _delete(world, _cookie(browser), "")).status_code == 400
    staff = await _delete(world, {"Authorization": f"Bearer {await world.token(kim)}"}, kim.password)
    assert (staff.status_code, staff.json()["code"]) == (403, "forbidden")

    done = await _delete(world, _cookie(browser), pat.password)
    assert done.status_code == 204, done.text
    assert "alongside_session=" in done.headers["set-cookie"]  # cleared

    # every socket of every session closed with 4001; every session and the password refused
    for client in (pat_socket, phone_socket):
        await asyncio.wait_for(client.ws.wait_closed(), units(5))
        assert client.ws.close_code == 4001
    for token in (browser["token"], pat_phone["token"], await world.token(pat)):
        assert (await world.call(token, "GET", "/api/me")).status_code == 401
    async with world.http() as http:
        login = await http.post("/api/auth/login", json={"username": pat.username, "password": pat.password})
    assert login.status_code == 401

    # peers see the tombstones at once: one redacted event per message, saying why
    live = await ria_socket.until(
        lambda f: f.get("type") == "redacted" and f.get("target") == second and f.get("reason") == "deleted"
    )
    assert {f["target"] for f in live if f.get("type") == "redacted"} == {first, second}
    assert any(f.get("type") == "member_removed" and f["user"]["id"] == pat.person.id for f in live)

    # history, to a peer and to staff: "deleted user", no body, the reply keeps working
    for reader in (ria, kim):
        shown = await _history(world, reader, room)
        for seq in (first, second):
            assert shown[seq]["body"] is None and shown[seq]["removed"] == "deleted"
            assert shown[seq]["author"] == {"id": pat.person.id, "display_name": "deleted user"}
        assert shown[reply]["body"] == "I hear you"
        assert shown[reply]["reply_to"] == {
            "seq": first,
            "author": {"id": pat.person.id, "display_name": "deleted user"},
            "excerpt": None,
            "removed": "deleted",
        }
        assert SECRET not in str(shown) and "Pat" not in str(shown)

    # the rows: no text, no personal data, no access left; staff records kept
    async with world.db.read() as conn:
        account = (await conn.execute(select(users).where(users.c.id == pat.person.id))).one()
        bodies = (await conn.execute(select(events.c.body, events.c.data).where(events.c.room_id == room))).all()
        left = (await conn.execute(select(memberships).where(memberships.c.user_id == pat.person.id))).all()
        hugs = (await conn.execute(select(reactions).where(reactions.c.target_seq == first))).all()
        held = (await conn.execute(select(held_messages.c.body))).all()
        kept_out = (await conn.execute(select(removals).where(removals.c.user_id == pat.person.id))).all()
        moves = [
            (row.to_status, row.reason, row.by_user_id)
            for row in await conn.execute(
                select(transitions).join(enrollments).where(enrollments.c.user_id == pat.person.id)
            )
        ]
        [entry] = await audit.entries(conn, audit.Filter(action="account.delete"))
    assert (account.username, account.display_name, account.real_name) == (
        f"~deleted-{pat.person.id}",
        "deleted user",
        None,
    )
    assert account.password_hash == "!" and account.deleted_at is not None
    assert not any(SECRET in str(row) or "second thought" in str(row) for row in [*bodies, *held])
    assert left == [] and hugs == [] and kept_out == []
    assert moves[-1] == ("withdrawn", "account deleted", pat.person.id)
    assert (entry["actor"], entry["target_user"]) == (pat.person.id, pat.person.id)
    assert entry["detail"]["messages"] == 2 and entry["detail"]["rooms"] == [room]
    assert entry["detail"]["sessions"] == 3
    assert SECRET not in str(entry) and "Pat" not in str(entry) and pat.username not in str(entry)

    again = await _delete(world, _cookie(browser), pat.password)
    assert again.status_code == 401  # the session went with the account
    await ria_socket.close()


async def test_a_deleted_persons_name_leaves_quotes_of_messages_a_moderator_had_removed(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    pat = cast.participant
    ria = await enroll(world.db, "ria", cast.program, cast.cohort)
    pat_socket, ria_socket = await world.socket(pat), await world.socket(ria)
    for client in (pat_socket, ria_socket):
        await client.join(room)
    target = (await pat_socket.say(room, "removed before"))["seq"]
    await ria_socket.send(
        {"type": "send", "room": room, "body": "answer", "client_id": str(uuid.uuid4()), "reply_to": target, "ref": "q"}
    )
    reply = (await ria_socket.until(lambda f: f.get("ref") == "q"))[-1]["seq"]
    removed = await world.call(cast.staff_here, "DELETE", f"/api/rooms/{room}/messages/{target}", {"reason": "x"})
    assert removed.status_code == 200, removed.text
    signed = await _signed_in(world, pat)
    assert (await _delete(world, _cookie(signed), pat.password)).status_code == 204

    shown = await _history(world, ria, room)
    assert shown[target]["removed"] == "moderator"  # the moderator's removal stays what it was
    assert shown[target]["author"]["display_name"] == "deleted user"
    assert shown[reply]["reply_to"]["author"]["display_name"] == "deleted user"
    for client in (pat_socket, ria_socket):
        await client.close()


async def test_deleting_on_one_process_closes_my_sockets_and_tombstones_my_messages_on_another(
    shared_db_url: str, redis_server: RedisServer
) -> None:
    db = Database(shared_db_url)
    cast = await create_program_cast(db)
    ria = await enroll(db, "ria", cast.program, cast.cohort)
    await db.dispose()
    room, pat = cast.cohort_room, cast.participant
    # the periodic pass would find the revoked sessions and the new events by itself: only a live
    # publish reaches the other process within the wait
    async with running(shared_db_url, redis_server.url, SYNC_INTERVAL="60") as processes:
        cluster = Cluster(processes)
        pat_there, ria_there = await cluster.client(1, pat), await cluster.client(1, ria)
        for client in (pat_there, ria_there):
            await client.join(room)
        said = await pat_there.say(room, SECRET)
        here = processes[0].url
        token = await login(here, pat.username, pat.password)
        async with httpx.AsyncClient(base_url=here, timeout=units(10)) as http:
            answer = await http.post(
                "/api/me/delete", json={"password": pat.password}, headers={"Authorization": f"Bearer {token}"}
            )
        assert answer.status_code == 204, answer.text
        await asyncio.wait_for(pat_there.ws.wait_closed(), units(10))
        assert pat_there.ws.close_code == 4001
        live = await ria_there.until(lambda f: f.get("type") == "redacted" and f.get("target") == said["seq"])
        assert live[-1]["reason"] == "deleted"
        await ria_there.close()
