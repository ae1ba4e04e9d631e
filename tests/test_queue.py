"""The moderation queue over real sockets (in-process fan-out, on SQLite and PostgreSQL):
reports, concerns, crisis alerts, acknowledging, resolving, escalation, first-post holds.

tests/test_crisis.py repeats the crisis path across two processes on real Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from server.settings import load_crisis_settings
from server.store import audit
from server.store import queue as queue_store
from server.store.database import utcnow
from server.store.models import Program
from tests.support.client import Frame, WsClient
from tests.support.lifecycle_cast import create_program_cast, enroll
from tests.support.live import live_server, settings_for
from tests.support.seed import Account
from tests.support.world import World, program_world

programs = Program.__table__  # type: ignore[attr-defined]
CRISIS = "honestly I want to end it all"


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    """On SQLite and on PostgreSQL: raising, locking and RETURNING differ between them."""
    async with program_world(db_url) as running:
        yield running


async def _peer(world: World, name: str = "ria") -> Account:
    return await enroll(world.db, name, world.cast.program, world.cast.cohort)


async def _frame(client: WsClient, frame_type: str, **expected: Any) -> Frame:
    """The first frame of this type whose item (or the frame itself) matches ``expected``,
    among those already received (e.g. while waiting for an ack) or the next ones."""

    def matches(frame: Frame) -> bool:
        if frame.get("type") != frame_type:
            return False
        subject = frame.get("item", frame)
        return all(subject.get(key) == value for key, value in expected.items())

    for frame in client.seen:
        if matches(frame):
            return frame
    return (await client.until(matches))[-1]


async def _audit(world: World, action: str) -> list[dict[str, Any]]:
    async with world.db.read() as conn:
        return await audit.entries(conn, audit.Filter(program_id=world.cast.program, action=action))


async def test_reporting_a_message_twice_makes_one_item_whose_raisers_accumulate(world: World) -> None:
    ria, cast, room = await _peer(world), world.cast, world.cast.cohort_room
    kim = await world.socket(cast.staff_here)
    pat = await world.socket(cast.participant)
    seq = (await pat.say(room, "you are all idiots"))["seq"]
    path = f"/api/rooms/{room}/messages/{seq}/report"

    first = await world.call(ria, "POST", path, {"reason": "insulting"})
    assert first.status_code == 201, first.text
    item_id = first.json()["item"]
    live = await _frame(kim, "queue", id=item_id)
    assert live["item"]["kind"] == "report" and live["item"]["excerpt"] == "you are all idiots"
    assert not [f for f in kim.seen if f.get("type") == "alert"]  # a report is not an alert

    again = await world.call(ria, "POST", path, {"reason": "still insulting"})
    assert (again.status_code, again.json()["item"]) == (200, item_id)
    second = await world.call(cast.alumnus, "POST", path, {})  # a reader is a member too
    assert (second.status_code, second.json()["item"]) == (200, item_id)
    await _frame(kim, "queue", id=item_id, count=2)

    listed = (await world.call(cast.staff_here, "GET", "/api/queue")).json()["items"]
    assert [item["id"] for item in listed] == [item_id]
    item = listed[0]
    assert item["subject"]["username"] == "pat" and item["room_name"] == "Spring"
    assert [(r["display_name"], r["reason"]) for r in item["raised_by"]] == [("Ria", "insulting"), ("Alum", None)]

    refused = {
        "outsider": await world.call(cast.staff_elsewhere, "POST", path, {"reason": "x"}),
        "no message": await world.call(ria, "POST", f"/api/rooms/{room}/messages/999/report", {}),
        "too long": await world.call(ria, "POST", path, {"reason": "x" * 501}),
        "participant's queue": await world.call(ria, "GET", "/api/queue"),
        "other staff acks": await world.call(cast.staff_elsewhere, "POST", f"/api/queue/{item_id}/ack"),
    }
    assert {name: answer.status_code for name, answer in refused.items()} == {
        "outsider": 403,
        "no message": 404,
        "too long": 400,
        "participant's queue": 403,
        "other staff acks": 403,
    }
    assert (await world.call(cast.staff_elsewhere, "GET", "/api/queue")).json()["items"] == []
    for client in (kim, pat):
        await client.close()


async def test_a_concern_alerts_the_moderators_and_never_tells_the_writer(world: World) -> None:
    ria, cast, room = await _peer(world), world.cast, world.cast.cohort_room
    kim = await world.socket(cast.staff_here)
    pat = await world.socket(cast.participant)
    seq = (await pat.say(room, "I don't see the point of anything lately"))["seq"]
    answer = await world.call(ria, "POST", f"/api/rooms/{room}/messages/{seq}/concern", {"note": "worried"})
    assert answer.status_code == 201, answer.text
    alert = await _frame(kim, "alert", kind="concern")
    assert alert["item"]["raised_by"][0]["display_name"] == "Ria" and alert["item"]["target_seq"] == seq
    ack = await pat.say(room, "anyway")  # everything for pat before this ack has arrived
    assert ack["type"] == "ack"
    assert not [f for f in pat.seen if f.get("type") in ("alert", "queue", "crisis_resources")]
    for client in (kim, pat):
        await client.close()


async def test_removing_a_message_resolves_its_reports_and_leaves_concerns_about_its_writer(world: World) -> None:
    ria, cast, room = await _peer(world), world.cast, world.cast.cohort_room
    kim = await world.socket(cast.staff_here)
    pat = await world.socket(cast.participant)
    seq = (await pat.say(room, "buy cheap pills at my site"))["seq"]
    other = (await pat.say(room, "sorry, wrong room"))["seq"]
    messages = f"/api/rooms/{room}/messages"
    report = (await world.call(ria, "POST", f"{messages}/{seq}/report", {"reason": "spam"})).json()["item"]
    concern = (await world.call(cast.alumnus, "POST", f"{messages}/{seq}/concern", {})).json()["item"]
    elsewhere = (await world.call(ria, "POST", f"{messages}/{other}/report", {})).json()["item"]

    removed = await world.call(cast.staff_here, "DELETE", f"{messages}/{seq}", {"reason": "advertising"})
    assert removed.status_code == 200, removed.text
    live = await _frame(kim, "queue", id=report, status="resolved")
    assert live["item"]["resolved"]["outcome"] == "resolved"
    assert live["item"]["resolved"]["reason"] == "the message was removed"
    assert live["item"]["resolved"]["by"]["id"] == cast.staff_here.person.id
    still_open = (await world.call(cast.staff_here, "GET", "/api/queue")).json()["items"]
    assert {item["id"] for item in still_open} == {concern, elsewhere}  # a concern is about the person
    [entry] = await _audit(world, "message.remove")
    assert entry["detail"] == {"reports_resolved": [report]}

    again = await world.call(cast.staff_here, "DELETE", f"{messages}/{seq}")  # removed already: nothing more
    assert again.json() == removed.json()
    assert len(await _audit(world, "message.remove")) == 1
    for client in (kim, pat):
        await client.close()


async def test_a_crisis_alert_is_acknowledged_and_dismissed_with_audit_entries(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    kim = await world.socket(cast.staff_here)
    pat = await world.socket(cast.participant)
    seq = (await pat.say(room, CRISIS))["seq"]
    resources = await _frame(pat, "crisis_resources")
    assert resources["seq"] == seq and resources["resources"][0]["name"] == "988 Suicide & Crisis Lifeline"
    alert = await _frame(kim, "alert", kind="crisis")
    item_id = alert["item"]["id"]
    assert alert["item"]["excerpt"] == CRISIS and alert["item"]["overdue"] is False
    later = (await pat.say(room, "something else"))["seq"]
    report = await world.call(cast.alumnus, "POST", f"/api/rooms/{room}/messages/{later}/report", {})
    listed = (await world.call(cast.staff_here, "GET", "/api/queue")).json()["items"]
    assert [i["id"] for i in listed] == [item_id, report.json()["item"]]  # an unacknowledged alert comes first

    acked = await world.call(cast.staff_here, "POST", f"/api/queue/{item_id}/ack")
    assert acked.status_code == 200 and acked.json()["item"]["acknowledged"]["by"]["display_name"] == "Kim"
    await _frame(kim, "queue", id=item_id, status="open")
    assert (await world.call(cast.staff_here, "POST", f"/api/queue/{item_id}/ack")).status_code == 200
    path = f"/api/queue/{item_id}/resolve"
    done = await world.call(cast.staff_here, "POST", path, {"outcome": "dismissed", "reason": "talked with her"})
    assert done.status_code == 200 and done.json()["item"]["resolved"]["outcome"] == "dismissed"
    await _frame(kim, "queue", id=item_id, status="dismissed")
    again = await world.call(cast.staff_here, "POST", path, {"outcome": "actioned"})
    assert again.status_code == 409

    assert [e["target"] for e in await _audit(world, "queue.ack")] == [f"queue {item_id}"]  # the repeat: nothing
    dismissed = await _audit(world, "queue.dismiss")
    assert [(e["actor"], e["reason"], e["target_user"]) for e in dismissed] == [
        (cast.staff_here.person.id, "talked with her", cast.participant.person.id)
    ]
    listed = (await world.call(cast.staff_here, "GET", "/api/queue")).json()["items"]
    assert [i["id"] for i in listed] == [report.json()["item"]]
    closed = (await world.call(cast.staff_here, "GET", "/api/queue?status=dismissed")).json()["items"]
    assert [item["id"] for item in closed] == [item_id]
    for client in (kim, pat):
        await client.close()


async def test_an_unacknowledged_alert_escalates_once_to_all_program_staff(sqlite_url: str) -> None:
    from server.store.database import Database

    db = Database(sqlite_url)
    cast = await create_program_cast(db)
    sam = await enroll(db, "sam", cast.program, None, role="staff")
    crisis = replace(load_crisis_settings(), escalate_after_minutes=1.5 / 60)
    async with live_server(settings_for(sqlite_url, crisis=crisis)) as live:
        world = World(live, db, cast, {}, 0, 0)
        sam_socket = await world.socket(sam)
        pat = await world.socket(cast.participant)
        seq = (await pat.say(cast.cohort_room, CRISIS))["seq"]
        first = await _frame(sam_socket, "alert", target_seq=seq, overdue=False)
        seq = (await pat.say(cast.cohort_room, "I took too many pills"))["seq"]
        second = await _frame(sam_socket, "alert", target_seq=seq, overdue=False)
        acked = await world.call(sam, "POST", f"/api/queue/{second['item']['id']}/ack")
        assert acked.status_code == 200
        overdue = await _frame(sam_socket, "alert", overdue=True)
        assert overdue["item"]["id"] == first["item"]["id"] and overdue["item"]["escalated_at"]
        listed = (await world.call(cast.staff_here, "GET", "/api/queue")).json()["items"]
        assert [(item["id"], item["overdue"]) for item in listed] == [
            (first["item"]["id"], True),
            (second["item"]["id"], False),
        ]
        async with db.write() as conn:  # a second pass, or another process: nothing left to win
            assert await queue_store.escalate_due(conn, utcnow(), utcnow()) == []
        await pat.close()
        await sam_socket.close()
    overdue_alerts = [f for f in sam_socket.seen if f.get("type") == "alert" and f["item"]["overdue"]]
    assert len(overdue_alerts) == 1
    await db.dispose()


async def test_first_posts_of_a_new_member_wait_for_review_until_approved(world: World) -> None:
    cast, room = world.cast, world.cast.cohort_room
    path = f"/api/programs/{cast.program}"
    bad = await world.call(cast.staff_here, "PATCH", path, {"hold_first_posts": 21})
    assert (bad.status_code, bad.json()["field"]) == (400, "hold_first_posts")
    assert (await world.call(cast.participant, "PATCH", path, {"hold_first_posts": 1})).status_code == 403
    answer = await world.call(cast.staff_here, "PATCH", path, {"hold_first_posts": 1})
    assert answer.json()["hold_first_posts"] == 1 and answer.json()["alumni_post_in_cohort"] is False
    neo = await _peer(world, "neo")
    kim = await world.socket(cast.staff_here)
    client = await world.socket(neo)
    held = await client.say(room, "hi all, I'm new")
    assert held["type"] == "held"
    item = (await _frame(kim, "queue", kind="held"))["item"]
    assert item["excerpt"] == "hi all, I'm new" and item["subject"]["username"] == "neo"
    assert (await client.say(room, "hello?"))["type"] == "held"  # still untrusted until approved

    approved = await world.call(cast.staff_here, "POST", f"/api/rooms/{room}/held/{item['held_id']}/approve")
    assert approved.status_code == 200, approved.text
    notice = await _frame(client, "held_approved")
    assert notice["seq"] == approved.json()["seq"] and notice["client_id"] == held["client_id"]
    assert (await client.say(room, "thanks!"))["type"] == "ack"  # one approval was all the program asked
    pat = await world.socket(cast.participant)
    assert (await pat.say(room, "welcome neo"))["type"] == "ack"  # members from before stay trusted

    uma = await _peer(world, "uma")
    newcomer = await world.socket(uma)
    assert (await newcomer.say(room, "hello from uma"))["type"] == "held"
    assert (await world.call(cast.staff_here, "PATCH", path, {"hold_first_posts": 0})).status_code == 200
    assert (await newcomer.say(room, "and again"))["type"] == "ack"  # turning it off trusts everyone at once
    for socket in (kim, client, pat, newcomer):
        await socket.close()


def test_an_item_as_each_viewer_may_see_it() -> None:
    subject = {"id": 7, "display_name": "Pat", "real_name": "Patricia Doe", "username": "pat"}
    item = {"kind": "concern", "subject": subject, "raised_by": [{"id": 8, "display_name": "Ria", "reason": None}]}
    assert queue_store.for_viewer(item, 7)["raised_by"] == []  # a concern's subject never sees who raised it
    assert queue_store.for_viewer(item, 9) == item
    report = {**item, "kind": "report"}
    assert queue_store.for_viewer(report, 7) == report
    peer = queue_store.for_viewer(report, 9, staff=False)  # a moderator who is not staff: display names only
    assert peer["subject"] == {"id": 7, "display_name": "Pat"} and peer["raised_by"] == report["raised_by"]


@pytest.mark.parametrize("program", [2**31 - 1, 2**31, 2**62])
async def test_a_program_id_beyond_any_stored_one_is_refused_or_found_empty(world: World, program: int) -> None:
    """Ids are PostgreSQL `integer` columns: a larger one is `invalid`, never a driver error (500)."""
    cast = world.cast
    response = await world.call(cast.staff_here, "GET", f"/api/queue?status=all&program={program}")
    if program < 2**31:
        assert response.status_code == 200 and response.json()["items"] == []
    else:
        assert response.status_code == 400 and response.json()["code"] == "invalid"
