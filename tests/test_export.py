"""A person's data over HTTP: their own export through a short-lived signed link, staff
disclosures of it, and the accounting of disclosures the person reads (42 CFR Part 2).

Storage is involved in every export, so the record tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update

from server.auth.guards import SESSION_COOKIE
from server.auth.tokens import Purpose, Signer
from server.settings import load_privacy
from server.store import enrollments
from server.store import rooms as room_store
from server.store.models import User
from tests.support.lifecycle_cast import enroll, new_cohort
from tests.support.live import TEST_KEYS
from tests.support.seed import Account
from tests.support.world import World, program_world

users = User.__table__  # type: ignore[attr-defined]
NOTICE = load_privacy().notice_text
PEER_REAL_NAME = "Quinlan Realsurname"
PEER_WORDS = "my sponsor called me today and it helped"
MY_WORDS = "thank you, that is good to hear"


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with program_world(db_url) as world:
        yield world


async def _peer(world: World) -> Account:
    """A second participant of the cohort, whose real name staff know."""
    quinn = await enroll(world.db, "quinn", world.cast.program, world.cast.cohort)
    async with world.db.write() as conn:
        await conn.execute(update(users).where(users.c.id == quinn.person.id).values(real_name=PEER_REAL_NAME))
    return quinn


async def _my_link(world: World, who: Account | str) -> str:
    answer = await world.call(who, "POST", "/api/me/export")
    assert answer.status_code == 201, answer.text
    url: str = answer.json()["url"]
    return url


async def _download(world: World, who: Account | str) -> httpx.Response:
    return await world.call(who, "GET", await _my_link(world, who))


def _document(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    assert "no-store" in answer.headers["cache-control"]
    document: dict[str, Any] = orjson.loads(answer.content)
    assert document["notice"]["text"] == NOTICE
    return document


async def _audit(world: World, action: str) -> list[dict[str, Any]]:
    answer = await world.call(world.cast.admin, "GET", f"/api/audit?action={action}")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["entries"]
    return found


async def test_my_export_holds_my_record_and_nothing_private_of_anyone_else(world: World) -> None:
    cast = world.cast
    pat, quinn = cast.participant, await _peer(world)
    room = cast.cohort_room
    theirs = await world.socket(quinn)
    peer_seq = (await theirs.say(room, PEER_WORDS))["seq"]
    await theirs.close()
    mine = await world.socket(pat)
    await mine.send(
        {
            "type": "send",
            "room": room,
            "body": MY_WORDS,
            "client_id": str(uuid.uuid4()),
            "reply_to": peer_seq,
            "ref": "r",
        }
    )
    my_seq = (await mine.until(lambda f: f.get("ref") == "r"))[-1]["seq"]
    await mine.send({"type": "react", "room": room, "target": peer_seq, "emoji": "heart", "on": True, "ref": "h"})
    await mine.until(lambda f: f.get("ref") == "h")
    await mine.close()
    assert (await world.call(pat, "POST", f"/api/rooms/{room}/read", {"seq": my_seq})).status_code == 200
    report = await world.call(pat, "POST", f"/api/rooms/{room}/messages/{peer_seq}/report", {"reason": "worried"})
    assert report.status_code == 201, report.text
    assert (await world.call(pat, "POST", "/api/me/mutes", {"user": quinn.person.id})).status_code == 201
    warned = await world.call(
        cast.staff_here, "POST", f"/api/programs/{cast.program}/warnings", {"user": pat.person.id, "reason": "be kind"}
    )
    assert warned.status_code == 201, warned.text

    answer = await _download(world, pat)
    document = _document(answer)
    assert document["export"] == {"kind": "self"}
    assert document["account"]["username"] == pat.username
    assert [(m["room"]["id"], m["seq"], m["body"]) for m in document["messages"]] == [(room, my_seq, MY_WORDS)]
    assert document["messages"][0]["room"]["name"] == "Spring"
    assert document["messages"][0]["reply_to"] == {"seq": peer_seq, "author": quinn.person.public()}
    assert document["reactions"] == [{"room": document["messages"][0]["room"], "seq": peer_seq, "emoji": "heart"}]
    assert [m["read_up_to_seq"] for m in document["memberships"] if m["room"]["id"] == room] == [my_seq]
    assert [(r["seq"], r["reason"]) for r in document["reports"]] == [(peer_seq, "worried")]
    assert [w["reason"] for w in document["warnings"]] == ["be kind"]
    assert document["personal_mutes"][0]["display_name"] == quinn.person.display_name
    assert [e["program"]["name"] for e in document["enrollments"]] == ["Evening IOP"]
    assert document["disclosures"] == []
    assert document["sessions"] and all("id" not in s for s in document["sessions"])

    text = answer.text
    async with world.db.read() as conn:
        password_hash = (await conn.execute(select(users.c.password_hash).where(users.c.id == pat.person.id))).scalar()
    assert password_hash and password_hash not in text and "password" not in text
    assert PEER_WORDS not in text  # the reply keeps the seq it answered, not the peer's words
    assert PEER_REAL_NAME not in text
    assert quinn.username not in text  # peers appear by display name only

    trail = await _audit(world, "export.self")
    assert [(e["actor"]["id"], e["target_user"]["id"]) for e in trail] == [(pat.person.id, pat.person.id)]


async def test_a_staff_export_is_accounted_audited_and_read_by_the_person(world: World) -> None:
    cast = world.cast
    pat = cast.participant
    _, elsewhere_room = await new_cohort(world.db, cast.other_program, "Autumn")
    async with world.db.write() as conn:  # pat is in another program too: its record is not this one's
        await enrollments.enroll(
            conn, person=pat.person, program_id=cast.other_program, cohort_id=None, role="participant", by=None
        )
        await room_store.set_member(conn, room_id=elsewhere_room, person=pat.person, role="member")
    mine = await world.socket(pat)
    assert (await mine.say(cast.cohort_room, MY_WORDS))["type"] == "ack"
    assert (await mine.say(elsewhere_room, "said in the other program"))["type"] == "ack"
    await mine.close()
    path = f"/api/programs/{cast.program}/people/{pat.person.id}"
    body = {"recipient": "Dr. Rivera, County Health", "purpose": "continuity of care (signed consent 14)"}

    answer = await world.call(cast.staff_here, "POST", f"{path}/export", body)
    document = _document(answer)
    assert document["export"]["kind"] == "staff_export"
    assert (document["export"]["recipient"], document["export"]["purpose"]) == (body["recipient"], body["purpose"])
    assert [m["body"] for m in document["messages"]] == [MY_WORDS]  # the program's record only
    assert [e["program"]["id"] for e in document["enrollments"]] == [cast.program]
    assert {m["room"]["id"] for m in document["memberships"]} <= {cast.cohort_room, world.topic_room}
    assert "disclosures" not in document and "sessions" not in document

    hold = {"kind": "legal_hold", "recipient": "Cook County court", "purpose": "subpoena 2026-114", "scope": "all"}
    held = await world.call(cast.admin, "POST", f"{path}/disclosures", hold)
    assert held.status_code == 201, held.text

    seen = await world.call(pat, "GET", "/api/me/disclosures")
    assert seen.status_code == 200, seen.text
    accounted = seen.json()["disclosures"]
    assert [(d["kind"], d["recipient"], d["purpose"]) for d in accounted] == [
        ("legal_hold", hold["recipient"], hold["purpose"]),
        ("staff_export", body["recipient"], body["purpose"]),
    ]
    assert accounted[1]["disclosed_by"] == cast.staff_here.person.public()
    assert accounted[1]["program"] == {"id": cast.program, "name": "Evening IOP"}
    assert accounted[1]["id"] == document["export"]["disclosure"]
    own = _document(await _download(world, pat))
    assert own["disclosures"] == accounted
    assert [m["body"] for m in own["messages"]] == [MY_WORDS, "said in the other program"]
    assert (await world.call(cast.staff_here, "GET", f"{path}/disclosures")).json()["disclosures"] == accounted

    staff_trail = await _audit(world, "export.staff")
    assert [(e["actor"]["id"], e["target_user"]["id"], e["reason"]) for e in staff_trail] == [
        (cast.staff_here.person.id, pat.person.id, body["purpose"])
    ]
    assert len(await _audit(world, "disclosure.legal_hold")) == 1
    assert len(await _audit(world, "export.self")) == 1  # the person's own download: audited, not accounted
    assert len((await world.call(pat, "GET", "/api/me/disclosures")).json()["disclosures"]) == 2


async def _disclosures_of(world: World, who: Account) -> int:
    answer = await world.call(
        world.cast.admin, "GET", f"/api/programs/{world.cast.program}/people/{who.person.id}/disclosures"
    )
    assert answer.status_code == 200, answer.text
    return len(answer.json()["disclosures"])


async def test_only_admins_and_the_programs_staff_may_disclose_a_person(sqlite_url: str) -> None:
    async with program_world(sqlite_url) as world:
        cast = world.cast
        pat = cast.participant
        body = {"recipient": "someone", "purpose": "a reason"}
        hold = {**body, "kind": "legal_hold", "scope": "all"}
        expected = {
            "admin": 200,
            "staff_here": 200,
            "staff_elsewhere": 403,
            "participant": 403,  # a peer (here: the person too: a self-export is /api/me/export)
            "alumnus": 403,
            "withdrawn": 403,
        }
        path = f"/api/programs/{cast.program}/people/{pat.person.id}"
        got = {}
        for actor, status in expected.items():
            who = cast.actor(actor)
            got[actor] = (await world.call(who, "POST", f"{path}/export", body)).status_code
            assert (await world.call(who, "POST", f"{path}/disclosures", hold)).status_code == (
                201 if status == 200 else status
            ), actor
            assert (await world.call(who, "GET", f"{path}/disclosures")).status_code == status, actor
        assert got == expected
        assert (await world.call(None, "POST", f"{path}/export", body)).status_code == 401
        assert await _disclosures_of(world, pat) == 4  # two exports and two holds: refusals left nothing

        elsewhere = f"/api/programs/{cast.other_program}/people/{pat.person.id}/export"
        assert (await world.call(cast.staff_elsewhere, "POST", elsewhere, body)).status_code == 403
        assert (await world.call(cast.admin, "POST", elsewhere, body)).status_code == 404  # not enrolled there
        bad = await world.call(cast.staff_here, "POST", f"{path}/export", {"recipient": " ", "purpose": "x"})
        assert bad.status_code == 400 and bad.json()["field"] == "recipient"
        wrong_kind = await world.call(cast.staff_here, "POST", f"{path}/disclosures", {**hold, "kind": "staff_export"})
        assert wrong_kind.status_code == 400
        assert await _disclosures_of(world, pat) == 4


class _Past(TimestampSigner):
    """Signs as if it were ``ago`` seconds earlier: a link made that long ago."""

    ago = 0

    def get_timestamp(self) -> int:
        return int(time.time()) - self.ago


def _link_made_ago(seconds: int, payload: Any) -> str:
    signer = type("Signer", (_Past,), {"ago": seconds})
    serializer = URLSafeTimedSerializer(list(reversed(TEST_KEYS)), salt=Purpose.EXPORT.value, signer=signer)
    return f"/api/me/export/{serializer.dumps(payload)}"


async def test_a_link_lasts_minutes_and_opens_only_for_its_person_session_and_purpose(sqlite_url: str) -> None:
    async with program_world(sqlite_url) as world:
        pat, alum = world.cast.participant, world.cast.alumnus
        link = await _my_link(world, pat)
        token = link.rsplit("/", 1)[1]
        payload = Signer(TEST_KEYS, Purpose.EXPORT).verify(token)
        assert (await world.call(pat, "GET", link)).status_code == 200

        minutes = world.live.app.state.services.settings.privacy.export_link_minutes
        assert (await world.call(pat, "GET", _link_made_ago(round(minutes * 60) - 30, payload))).status_code == 200
        expired = await world.call(pat, "GET", _link_made_ago(round(minutes * 60) + 30, payload))
        assert expired.status_code == 403 and expired.json()["code"] == "forbidden"

        assert (await world.call(alum, "GET", link)).status_code == 403  # another person
        async with world.http() as http:
            login = {"username": pat.username, "password": pat.password}
            other_session = (await http.post("/api/auth/login", json=login)).json()["token"]
        assert (await world.call(other_session, "GET", link)).status_code == 403  # pat, but another session
        assert (await world.call(None, "GET", link)).status_code == 401
        for purpose in (Purpose.INVITE, Purpose.SESSION, Purpose.CSRF):
            forged = f"/api/me/export/{Signer(TEST_KEYS, purpose).sign(payload)}"
            assert (await world.call(pat, "GET", forged)).status_code == 403, purpose
        assert (await world.call(pat, "GET", f"/api/me/export/{await world.token(pat)}")).status_code == 403
        assert len(await _audit(world, "export.self")) == 2  # only the two good downloads


async def test_a_browser_asks_for_its_link_with_the_csrf_token(sqlite_url: str) -> None:
    async with program_world(sqlite_url) as world, world.http() as http:
        pat = world.cast.participant
        login = (await http.post("/api/auth/login", json={"username": pat.username, "password": pat.password})).json()
        http.cookies.set(SESSION_COOKIE, login["token"])  # the jar keeps Secure cookies off plain http
        refused = await http.post("/api/me/export")
        assert refused.status_code == 403 and refused.json()["code"] == "csrf"
        asked = await http.post("/api/me/export", headers={"X-CSRF-Token": login["csrf_token"]})
        assert asked.status_code == 201, asked.text
        assert _document(await http.get(asked.json()["url"]))["account"]["id"] == pat.person.id
