"""Rooms follow the roster: duty, monitored hours, hold for review and observe-only, over real sockets.

The embedded default (SQLite, in-process fan-out); tests/test_monitoring_cluster.py repeats
what must hold across processes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.store import duty as duty_store
from server.store.database import Database, utcnow
from server.store.duty import checkins
from server.store.events import held_messages
from tests.support.client import WsClient, login, room_events
from tests.support.lifecycle_cast import ProgramCast, create_program_cast, enroll
from tests.support.live import Live, live_server, settings_for
from tests.support.seed import Account
from tests.support.timing import units

ALL_WEEK = {
    "timezone": "America/Chicago",
    "windows": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}],
}
NO_HOURS: dict[str, Any] = {"timezone": "Europe/London", "windows": []}


@dataclass
class Ward:
    live: Live
    db: Database
    cast: ProgramCast
    peer: Account  # a second participant of the cohort

    @property
    def room(self) -> int:
        return self.cast.cohort_room

    async def client(self, who: Account) -> WsClient:
        token = await login(self.live.url, who.username, who.password)
        client = await WsClient.open(self.live.ws_url, token)
        assert (await client.next())["type"] == "hello"
        return client

    async def call(self, who: Account, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        token = await login(self.live.url, who.username, who.password)
        async with httpx.AsyncClient(base_url=self.live.url) as http:
            return await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})

    async def ok(self, who: Account, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.call(who, method, path, body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


async def _ward(sqlite_url: str, **settings: Any) -> AsyncIterator[Ward]:
    db = Database(sqlite_url)
    cast = await create_program_cast(db)
    peer = await enroll(db, "ria", cast.program, cast.cohort)
    async with live_server(settings_for(sqlite_url, **settings)) as live:
        yield Ward(live, db, cast, peer)
    await db.dispose()


@pytest.fixture
async def ward(sqlite_url: str) -> AsyncIterator[Ward]:
    async for running in _ward(sqlite_url):
        yield running


async def _state(client: WsClient, room: int, **expected: Any) -> dict[str, Any]:
    """The next room_state frame of the room that matches ``expected``."""
    frames = await client.until(
        lambda f: (
            f.get("type") == "room_state" and f.get("room") == room and all(f.get(k) == v for k, v in expected.items())
        )
    )
    return frames[-1]


async def test_join_is_followed_by_the_room_state_and_duty_changes_it_live(ward: Ward) -> None:
    pat = await ward.client(ward.cast.participant)
    await pat.send({"type": "join", "room": ward.room, "since": None, "ref": "j"})
    joined, state = await pat.next(), await pat.next()
    assert joined["type"] == "joined"
    resources = state.pop("resources")
    assert state == {
        "type": "room_state",
        "room": ward.room,
        "monitored": None,
        "on_duty": [],
        "hold": False,
        "locked": False,
        "slow_seconds": 0,
    }
    assert resources[0]["name"] == "988 Suicide & Crisis Lifeline"

    on = await ward.ok(ward.cast.staff_here, "POST", f"/api/rooms/{ward.room}/duty")
    live = await _state(pat, ward.room, monitored=True)
    assert live["on_duty"] == ["Kim"] and "resources" not in live
    assert on["state"] == live
    assert (await ward.ok(ward.cast.participant, "GET", f"/api/rooms/{ward.room}"))["state"] == live

    await ward.ok(ward.cast.staff_here, "DELETE", f"/api/rooms/{ward.room}/duty")
    off = await _state(pat, ward.room, monitored=None)
    assert off["on_duty"] == [] and off["resources"] == resources
    await pat.close()


async def test_a_check_in_lapses_by_itself_and_checking_in_again_renews_it(sqlite_url: str) -> None:
    async for ward in _ward(sqlite_url, duty_hours=units(2) / 3600):
        pat = await ward.client(ward.cast.participant)
        await pat.join(ward.room)
        first = await ward.ok(ward.cast.staff_here, "POST", f"/api/rooms/{ward.room}/duty")
        await _state(pat, ward.room, monitored=True)
        again = await ward.ok(ward.cast.staff_here, "POST", f"/api/rooms/{ward.room}/duty")
        assert again["on_duty_until"] > first["on_duty_until"]
        lapsed = await _state(pat, ward.room, monitored=None)  # nobody asked: the clock did it
        assert lapsed["on_duty"] == []
        async with ward.db.read() as conn:
            rows = list(await conn.execute(select(checkins.c.ended_at).where(checkins.c.room_id == ward.room)))
        assert len(rows) == 1 and rows[0].ended_at is None  # renewed in place, ended by expiry
        await pat.close()


async def test_monitored_hours_and_hold_mode_are_set_by_staff_and_seen_live(ward: Ward) -> None:
    pat = await ward.client(ward.cast.participant)
    await pat.join(ward.room)
    path = f"/api/rooms/{ward.room}"
    answer = await ward.ok(ward.cast.staff_here, "PATCH", path, {"schedule": ALL_WEEK})
    assert answer["room"]["schedule"] == ALL_WEEK and answer["state"]["monitored"] is True
    await _state(pat, ward.room, monitored=True)

    answer = await ward.ok(ward.cast.staff_here, "PATCH", path, {"schedule": NO_HOURS, "hold_mode": "unmonitored"})
    assert answer["room"]["hold_mode"] == "unmonitored"
    unwatched = await _state(pat, ward.room, monitored=False)
    assert unwatched["hold"] is True and unwatched["resources"]

    answer = await ward.ok(ward.cast.admin, "PATCH", path, {"schedule": None, "hold_mode": "off"})
    assert answer["room"]["schedule"] is None
    await _state(pat, ward.room, monitored=None, hold=False)

    bad = await ward.call(ward.cast.staff_here, "PATCH", path, {"schedule": {"timezone": "Mars/Base", "windows": []}})
    assert bad.status_code == 400 and bad.json()["field"] == "schedule.timezone"
    bad = await ward.call(ward.cast.staff_here, "PATCH", path, {"hold_mode": "sometimes"})
    assert bad.status_code == 400 and bad.json()["field"] == "hold_mode"
    bad = await ward.call(ward.cast.staff_here, "PATCH", path, {})
    assert bad.status_code == 400
    await pat.close()


async def _held_rows(db: Database, room: int) -> list[Any]:
    async with db.read() as conn:
        return list(await conn.execute(select(held_messages).where(held_messages.c.room_id == room)))


async def test_a_held_message_is_seen_by_its_author_only(ward: Ward) -> None:
    await ward.ok(ward.cast.staff_here, "PATCH", f"/api/rooms/{ward.room}", {"hold_mode": "always"})
    pat, ria, kim = [await ward.client(who) for who in (ward.cast.participant, ward.peer, ward.cast.staff_here)]
    start = (await ria.join(ward.room))["last_seq"]
    await kim.join(ward.room)
    client_id = str(uuid.uuid4())
    held = await pat.say(ward.room, "I slipped last night", client_id=client_id, ref="h1")
    assert held == {"type": "held", "room": ward.room, "client_id": client_id, "ref": "h1"}
    again = await pat.say(ward.room, "I slipped last night", client_id=client_id, ref="h2")
    assert again == {**held, "ref": "h2"}  # a retry: answered the same way, nothing stored twice
    rows = await _held_rows(ward.db, ward.room)
    assert [(r.author_id, r.client_id, r.status, r.seq) for r in rows] == [
        (ward.cast.participant.person.id, client_id, "held", None)
    ]

    ack = await kim.say(ward.room, "welcome, everyone")  # a moderator's own message is not held
    assert ack["type"] == "ack" and ack["seq"] == start + 1
    await ria.wait_seq(ward.room, ack["seq"])
    for watcher in (ria, kim):
        assert [e["body"] for e in watcher.messages(ward.room)] == ["welcome, everyone"]
    for who in (ward.peer, ward.cast.staff_here, ward.cast.participant):
        history = await ward.ok(who, "GET", f"/api/rooms/{ward.room}/messages?after=0")
        assert "I slipped last night" not in [e.get("body") for e in history["messages"]]
    late = await ward.client(ward.peer)
    await late.join(ward.room, since=0)
    await late.wait_seq(ward.room, ack["seq"])
    assert [e["seq"] for e in room_events(late.seen, ward.room)] == list(range(1, ack["seq"] + 1))
    assert all(e.get("client_id") != client_id for e in late.seen if e.get("type") == "message")
    for client in (pat, ria, kim, late):
        await client.close()


async def test_hold_while_unmonitored_stops_when_a_moderator_checks_in(ward: Ward) -> None:
    await ward.ok(ward.cast.staff_here, "PATCH", f"/api/rooms/{ward.room}", {"hold_mode": "unmonitored"})
    pat = await ward.client(ward.cast.participant)
    client_id = str(uuid.uuid4())
    assert (await pat.say(ward.room, "anyone here?", client_id=client_id))["type"] == "held"
    await ward.ok(ward.cast.staff_here, "POST", f"/api/rooms/{ward.room}/duty")
    assert (await pat.say(ward.room, "oh hi Kim"))["type"] == "ack"
    retry = await pat.say(ward.room, "anyone here?", client_id=client_id)
    assert retry["type"] == "held"  # still the same message: it waits for review, it is not posted now
    assert len(await _held_rows(ward.db, ward.room)) == 1
    await pat.close()


async def test_observing_refuses_sends_on_every_own_client_until_lifted(ward: Ward) -> None:
    phone, laptop = await ward.client(ward.cast.participant), await ward.client(ward.cast.participant)
    ria = await ward.client(ward.peer)
    path = f"/api/rooms/{ward.room}/observe"
    answer = await ward.ok(ward.cast.participant, "POST", path, {"minutes": 90})
    until = answer["observing_until"]
    for client in (phone, laptop):
        frames = await client.until(lambda f: f.get("type") == "observing")
        assert frames[-1] == {"type": "observing", "room": ward.room, "until": until}
    refused = await phone.say(ward.room, "can I say something")
    assert refused["code"] == "observing" and refused["until"] == until and refused["room"] == ward.room
    assert (await ria.say(ward.room, "others still post"))["type"] == "ack"
    detail = await ward.ok(ward.cast.participant, "GET", f"/api/rooms/{ward.room}")
    assert detail["observing_until"] == until
    listed = await ward.ok(ward.cast.participant, "GET", "/api/rooms")
    assert {r["id"]: r["observing_until"] for r in listed["rooms"]}[ward.room] == until
    rejoined = await ward.client(ward.cast.participant)  # a new client learns it on join
    await rejoined.join(ward.room)
    observing = await rejoined.until(lambda f: f.get("type") == "observing")
    assert observing[-1]["until"] == until

    await ward.ok(ward.cast.participant, "DELETE", path)
    for client in (phone, laptop):
        frames = await client.until(lambda f: f.get("type") == "observing" and f.get("until") is None)
        assert frames[-1] == {"type": "observing", "room": ward.room, "until": None}
    assert (await phone.say(ward.room, "I'm back"))["type"] == "ack"
    listed = await ward.ok(ward.cast.participant, "GET", "/api/rooms")
    assert {r["id"]: r["observing_until"] for r in listed["rooms"]}[ward.room] is None
    for client in (phone, laptop, ria, rejoined):
        await client.close()


async def test_observing_ends_by_itself_at_its_time(ward: Ward) -> None:
    pat = await ward.client(ward.cast.participant)
    async with ward.db.write() as conn:  # as if chosen long ago: it ran out a moment ago
        await duty_store.set_listen_until(
            conn, ward.room, ward.cast.participant.person.id, utcnow() - timedelta(seconds=1)
        )
    assert (await pat.say(ward.room, "hello again"))["type"] == "ack"
    assert (await ward.ok(ward.cast.participant, "GET", f"/api/rooms/{ward.room}"))["observing_until"] is None
    await pat.close()


@pytest.mark.parametrize("minutes", [0, -5, 7 * 24 * 60 + 1, "30", 1.5, None])
async def test_observing_is_bounded(ward: Ward, minutes: Any) -> None:
    response = await ward.call(ward.cast.participant, "POST", f"/api/rooms/{ward.room}/observe", {"minutes": minutes})
    assert response.status_code == 400 and response.json()["code"] == "invalid"


async def test_an_alumnus_reads_the_cohort_room_but_gets_read_only_when_sending(ward: Ward) -> None:
    alum = await ward.client(ward.cast.alumnus)
    assert (await alum.join(ward.room))["type"] == "joined"
    refused = await alum.say(ward.room, "hi from the alumni side")
    assert refused["type"] == "error" and refused["code"] == "read_only" and refused["room"] == ward.room
    await alum.close()


WHO_MAY = [
    # (actor, GET room, PATCH room, POST duty, POST observe)
    ("admin", 200, 200, "forbidden", "not_member"),
    ("staff_here", 200, 200, 200, 200),
    ("staff_elsewhere", "not_member", "not_member", "not_member", "not_member"),
    ("participant", 200, "forbidden", "forbidden", 200),
    ("alumnus", 200, "forbidden", "forbidden", "read_only"),
    ("withdrawn", "not_member", "not_member", "not_member", "not_member"),
]


@pytest.mark.parametrize(("actor", "get", "patch", "duty", "observe"), WHO_MAY)
async def test_who_may_see_configure_watch_and_observe_a_room(
    ward: Ward, actor: str, get: int | str, patch: int | str, duty: int | str, observe: int | str
) -> None:
    who = ward.cast.actor(actor)
    room = f"/api/rooms/{ward.room}"
    calls = [
        ("GET", room, None, get),
        ("PATCH", room, {"hold_mode": "unmonitored"}, patch),
        ("POST", room + "/duty", None, duty),
        ("DELETE", room + "/duty", None, duty),
        ("POST", room + "/observe", {"minutes": 5}, observe),
    ]
    for method, path, body, expected in calls:
        response = await ward.call(who, method, path, body)
        got = response.status_code if response.status_code == 200 else response.json()["code"]
        assert got == expected, (method, path, response.text)
        if expected != 200:
            assert response.status_code == 403


async def test_room_endpoints_need_a_session_and_cookie_writes_need_csrf(ward: Ward) -> None:
    async with httpx.AsyncClient(base_url=ward.live.url) as http:
        assert (await http.get(f"/api/rooms/{ward.room}")).json()["code"] == "unauthorized"
        signed_in = await http.post(
            "/api/auth/login", json={"username": "kim", "password": ward.cast.staff_here.password}
        )
        cookie = {"Cookie": f"alongside_session={signed_in.json()['token']}"}
        refused = await http.post(f"/api/rooms/{ward.room}/duty", headers=cookie)
        assert refused.json()["code"] == "csrf"
        allowed = await http.post(
            f"/api/rooms/{ward.room}/duty", headers={**cookie, "X-CSRF-Token": signed_in.json()["csrf_token"]}
        )
        assert allowed.status_code == 200
        assert (await http.get(f"/api/rooms/{ward.room}/duty")).status_code == 405
        assert (await http.get("/api/rooms/0", headers=cookie)).json()["code"] == "not_member"


async def test_a_moderator_who_loses_the_role_is_no_longer_on_duty_at_once(ward: Ward) -> None:
    """Withdrawing checked-in staff from the program takes them off duty without waiting for the check-in to lapse."""
    pat = await ward.client(ward.cast.participant)
    await pat.send({"type": "join", "room": ward.room, "since": None, "ref": "j"})
    await ward.ok(ward.cast.staff_here, "POST", f"/api/rooms/{ward.room}/duty")
    await _state(pat, ward.room, monitored=True)
    staff_id = ward.cast.staff_here.person.id
    await ward.ok(
        ward.cast.admin, "POST", f"/api/programs/{ward.cast.program}/people/{staff_id}/withdraw", {"reason": "left"}
    )
    off = await _state(pat, ward.room, monitored=None)
    assert off["on_duty"] == []
    await pat.close()
