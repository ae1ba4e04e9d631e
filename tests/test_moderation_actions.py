"""A moderator's room actions through HTTP, seen live over WebSockets, each with its audit entry.

The embedded default (SQLite, in-process fan-out); a ban withdrawing the invite link the
person joined with runs on SQLite and PostgreSQL; the last test repeats what must hold
across two server processes sharing one database and a real Redis.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from server.store import audit
from server.store.database import Database, utcnow
from server.store.enrollments import enrollments, transitions
from server.store.events import events, memberships
from server.store.invites import invites
from server.store.models import Reaction
from tests.support.client import WsClient
from tests.support.cluster import Cluster, running
from tests.support.lifecycle_cast import create_program_cast, enroll
from tests.support.redis_server import RedisServer
from tests.support.seed import Account
from tests.support.timing import units
from tests.support.world import REGISTER_PASSWORD, World, program_world

reactions = Reaction.__table__  # type: ignore[attr-defined]


@dataclass
class Scene:
    world: World
    ria: Account  # a second participant of the cohort

    @property
    def room(self) -> int:
        return self.world.cast.cohort_room

    @property
    def kim(self) -> Account:  # program staff: moderates the cohort room
        return self.world.cast.staff_here

    @property
    def pat(self) -> Account:
        return self.world.cast.participant

    async def ok(self, who: Account, method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = await self.world.call(who, method, path, body)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    async def joined(self, who: Account, room: int | None = None) -> WsClient:
        client = await self.world.socket(who)
        await client.join(room or self.room)
        return client

    async def trail(self, action: str) -> list[dict[str, Any]]:
        async with self.world.db.read() as conn:
            return await audit.entries(conn, audit.Filter(action=action))


@pytest.fixture
async def scene(sqlite_url: str) -> AsyncIterator[Scene]:
    async with program_world(sqlite_url) as world:
        ria = await enroll(world.db, "ria", world.cast.program, world.cast.cohort)
        yield Scene(world, ria)


def _frame(client: WsClient, kind: str, **fields: Any) -> Any:
    return client.until(lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items()))


async def test_removing_a_message_leaves_a_tombstone_live_in_history_and_on_the_trail(scene: Scene) -> None:
    pat, ria = await scene.joined(scene.pat), await scene.joined(scene.ria)
    said = await pat.say(scene.room, "something I regret")
    target = said["seq"]
    await ria.send({"type": "react", "room": scene.room, "target": target, "emoji": "hug", "on": True, "ref": "r"})
    await _frame(ria, "ack", ref="r")
    path = f"/api/rooms/{scene.room}/messages/{target}"
    assert (await scene.world.call(scene.ria, "DELETE", path, {"reason": "mine now"})).status_code == 403
    removed = await scene.ok(scene.kim, "DELETE", path, {"reason": "hurtful"})
    assert removed == {"room": scene.room, "target": target, "seq": removed["seq"]}
    live = (await _frame(ria, "redacted"))[-1]
    assert live == {"type": "redacted", "room": scene.room, "seq": removed["seq"], "target": target, "ts": live["ts"]}

    history = (await scene.ok(scene.ria, "GET", f"/api/rooms/{scene.room}/messages?after=0"))["messages"]
    tombstone = next(m for m in history if m["seq"] == target)
    assert (tombstone["body"], tombstone["removed"], tombstone["author"]["id"]) == (
        None,
        "moderator",
        scene.pat.person.id,
    )
    late = await scene.world.socket(scene.world.cast.participant)
    await late.join(scene.room, since=0)
    await late.wait_seq(scene.room, removed["seq"])
    assert next(f for f in late.seen if f.get("seq") == target)["removed"] == "moderator"
    async with scene.world.db.read() as conn:
        body = await conn.scalar(select(events.c.body).where(events.c.room_id == scene.room, events.c.seq == target))
        left = (await conn.execute(select(reactions))).all()
    assert body is None and left == []

    again = await scene.ok(scene.kim, "DELETE", path)  # no body: a retry answers the first removal
    assert again["seq"] == removed["seq"]
    [entry] = await scene.trail("message.remove")
    assert (entry["actor"], entry["target_user"], entry["room"], entry["target"], entry["reason"]) == (
        scene.kim.person.id,
        scene.pat.person.id,
        scene.room,
        f"seq {target}",
        "hurtful",
    )
    assert "regret" not in str(entry)
    gone = await scene.world.call(scene.kim, "DELETE", f"/api/rooms/{scene.room}/messages/1")  # member_added
    assert gone.status_code == 404
    outsider = await scene.world.call(scene.world.cast.staff_elsewhere, "DELETE", path)
    assert outsider.json()["code"] == "not_member"
    for client in (pat, ria, late):
        await client.close()


async def test_a_muted_person_cannot_post_or_react_until_unmuted(scene: Scene) -> None:
    pat, ria = await scene.joined(scene.pat), await scene.joined(scene.ria)
    before = await ria.say(scene.room, "hello")
    mutes = f"/api/rooms/{scene.room}/mutes"
    muted = await scene.ok(scene.kim, "POST", mutes, {"user": scene.pat.person.id, "minutes": 10, "reason": "cool off"})
    told = (await _frame(pat, "muted"))[-1]
    assert told == {"type": "muted", "room": scene.room, "until": muted["until"], "reason": "cool off"}
    refused = await pat.say(scene.room, "let me talk")
    assert (refused["code"], refused["until"]) == ("muted", muted["until"])
    assert 590 < refused["retry_after"] <= 600
    await pat.send({"type": "react", "room": scene.room, "target": before["seq"], "emoji": "hug", "on": True})
    assert (await _frame(pat, "error", code="muted"))[-1]["until"] == muted["until"]
    assert (await ria.say(scene.room, "others still post"))["type"] == "ack"
    assert (await scene.world.rooms(scene.pat))["Spring"]["muted_until"] == muted["until"]
    detail = await scene.ok(scene.pat, "GET", f"/api/rooms/{scene.room}")
    assert detail["muted_until"] == muted["until"]
    again = await scene.world.socket(scene.pat)  # a client that joins later learns it at once
    await again.join(scene.room)
    assert (await _frame(again, "muted"))[-1]["until"] == muted["until"]

    kim_id = scene.kim.person.id
    for body, status in (
        ({"user": kim_id, "minutes": 10}, 409),  # moderators are never muted
        ({"user": scene.world.cast.staff_elsewhere.person.id, "minutes": 10}, 404),  # not a member
        ({"user": scene.pat.person.id, "minutes": 0}, 400),
        ({"user": scene.pat.person.id, "minutes": 10, "extra": 1}, 400),
    ):
        assert (await scene.world.call(scene.kim, "POST", mutes, body)).status_code == status, body
    assert (
        await scene.world.call(scene.ria, "POST", mutes, {"user": scene.pat.person.id, "minutes": 5})
    ).status_code == 403

    assert (await scene.ok(scene.kim, "DELETE", f"{mutes}/{scene.pat.person.id}"))["until"] is None
    assert (await _frame(pat, "unmuted"))[-1] == {"type": "unmuted", "room": scene.room}
    assert (await pat.say(scene.room, "thank you"))["type"] == "ack"
    [mute] = await scene.trail("member.mute")
    assert (mute["target_user"], mute["reason"], mute["detail"]) == (
        scene.pat.person.id,
        "cool off",
        {"minutes": 10, "until": muted["until"]},
    )
    assert len(await scene.trail("member.unmute")) == 1
    for client in (pat, ria, again):
        await client.close()


async def test_removing_a_person_takes_their_sockets_out_of_the_room_at_once(scene: Scene) -> None:
    pat, ria = await scene.joined(scene.pat), await scene.joined(scene.ria)
    path = f"/api/rooms/{scene.room}/members/{scene.ria.person.id}"
    assert (await scene.world.call(scene.pat, "DELETE", path)).status_code == 403
    removed = await scene.ok(scene.kim, "DELETE", path, {"reason": "harassing"})
    assert (await _frame(ria, "left", room=scene.room))[-1]["reason"] == "removed"
    seen = (await _frame(pat, "member_removed"))[-1]
    assert (seen["seq"], seen["user"]["id"], seen["reason"]) == (removed["seq"], scene.ria.person.id, "removed")
    assert (await ria.say(scene.room, "still here?"))["code"] == "not_member"
    history = await scene.world.call(scene.ria, "GET", f"/api/rooms/{scene.room}/messages")
    assert history.json()["code"] == "not_member"
    [entry] = await scene.trail("member.remove")
    assert (entry["target_user"], entry["reason"]) == (scene.ria.person.id, "harassing")
    assert (await scene.world.call(scene.kim, "DELETE", path)).status_code == 404  # not a member any more
    kim_path = f"/api/rooms/{scene.room}/members/{scene.kim.person.id}"
    assert (await scene.world.call(scene.world.cast.admin, "DELETE", kim_path)).status_code == 409
    for client in (pat, ria):
        await client.close()


async def test_a_ban_closes_every_session_and_holds_until_lifted(scene: Scene) -> None:
    world, cast = scene.world, scene.world.cast
    pat = await scene.joined(scene.pat)
    bans = f"/api/programs/{cast.program}/bans"
    assert (await world.call(scene.kim, "POST", bans, {"user": scene.pat.person.id})).status_code == 400  # a reason
    assert (await world.call(scene.ria, "POST", bans, {"user": scene.pat.person.id, "reason": "x"})).status_code == 403
    other = await world.call(cast.staff_elsewhere, "POST", bans, {"user": scene.pat.person.id, "reason": "x"})
    assert other.status_code == 403
    staff = await world.call(cast.admin, "POST", bans, {"user": scene.kim.person.id, "reason": "x"})
    assert staff.status_code == 409

    banned = await scene.ok(scene.kim, "POST", bans, {"user": scene.pat.person.id, "reason": "threats"})
    assert banned["enrollment"]["status"] == "banned"
    assert banned["invites_revoked"] == []  # enrolled by staff: no invite to withdraw
    await asyncio.wait_for(pat.ws.wait_closed(), units(5))
    assert pat.ws.close_code == 4001
    assert (await world.call(scene.pat, "GET", "/api/rooms")).status_code == 401
    async with world.db.read() as conn:
        rooms_left = (await conn.execute(select(memberships).where(memberships.c.user_id == scene.pat.person.id))).all()
        moves = [
            (row.from_status, row.to_status, row.reason)
            for row in await conn.execute(
                select(transitions).join(enrollments).where(enrollments.c.user_id == scene.pat.person.id)
            )
        ]
    assert rooms_left == []
    assert moves[-1] == ("active", "banned", "threats")
    again = await world.call(scene.kim, "POST", bans, {"user": scene.pat.person.id, "reason": "again"})
    assert again.status_code == 409
    readmit = await world.call(
        scene.kim, "POST", f"/api/programs/{cast.program}/people/{scene.pat.person.id}/readmit", {}
    )
    assert readmit.status_code == 409, readmit.text  # never readmitted while banned
    add = await world.call(cast.admin, "POST", f"/api/rooms/{world.topic_room}/members", {"username": "pat"})
    assert add.status_code == 409

    world.tokens.pop(scene.pat.username)
    lifted = await scene.ok(scene.kim, "DELETE", f"{bans}/{scene.pat.person.id}")
    assert lifted["enrollment"]["status"] == "active"
    assert "Spring" in await world.rooms(scene.pat)
    assert (await world.call(scene.kim, "DELETE", f"{bans}/{scene.pat.person.id}")).status_code == 404
    [ban] = await scene.trail("person.ban")
    assert (ban["actor"], ban["target_user"], ban["program"], ban["reason"]) == (
        scene.kim.person.id,
        scene.pat.person.id,
        cast.program,
        "threats",
    )
    assert ban["detail"] == {"sessions_ended": 1, "invites_revoked": []}
    assert len(await scene.trail("person.unban")) == 1


@pytest.fixture
async def scene_on_each_database(db_url: str) -> AsyncIterator[Scene]:
    async with program_world(db_url) as world:
        ria = await enroll(world.db, "ria", world.cast.program, world.cast.cohort)
        yield Scene(world, ria)


async def _joined_with(world: World, invite: dict[str, Any], username: str) -> tuple[int, str]:
    """A new participant registered with the invite: (their id, their token)."""
    answer = await world.register(invite["token"], username)
    assert answer.status_code == 201, answer.text
    return answer.json()["user"]["id"], answer.json()["token"]


async def _invites(world: World) -> dict[str, dict[str, Any]]:
    """The program's invites as its staff list them, by id (without the link, signed afresh each time)."""
    answer = await world.call(world.cast.staff_here, "GET", f"/api/programs/{world.cast.program}/invites")
    assert answer.status_code == 200, answer.text
    unsigned = ({k: v for k, v in invite.items() if k not in ("token", "url")} for invite in answer.json()["invites"])
    return {invite["id"]: invite for invite in unsigned}


async def test_a_ban_withdraws_the_invite_link_they_joined_with(scene_on_each_database: Scene) -> None:
    scene = scene_on_each_database
    world, cast = scene.world, scene.world.cast
    bans = f"/api/programs/{cast.program}/bans"
    cohort_link = await world.invite(max_uses=20)  # the cohort's link, handed to the whole group
    other_link = await world.invite(max_uses=5)  # another link of the same cohort
    sam, _ = await _joined_with(world, cohort_link, "sam")
    tia, tia_token = await _joined_with(world, cohort_link, "tia")  # a peer who joined with the same link
    uma, _ = await _joined_with(world, other_link, "uma")

    banned = await scene.ok(scene.kim, "POST", bans, {"user": sam, "reason": "harassing peers"})
    assert (banned["enrollment"]["status"], banned["invites_revoked"]) == ("banned", [cohort_link["id"]])

    evading = await world.register(cohort_link["token"], "sam2")  # a fresh account with the same link
    assert (evading.status_code, evading.json()["code"], evading.json()["field"]) == (410, "invite_revoked", "invite")
    login = await world.call(None, "POST", "/api/auth/login", {"username": "sam2", "password": REGISTER_PASSWORD})
    assert login.status_code == 401  # no account was made
    listed = await _invites(world)
    assert (listed[cohort_link["id"]]["revoked"], listed[cohort_link["id"]]["uses"]) == (True, 2)
    assert (listed[other_link["id"]]["valid"], listed[other_link["id"]]["revoked"]) == (True, False)
    assert (await world.register(other_link["token"], "vic")).status_code == 201  # the other link still works

    # the peers who joined with the withdrawn link, or another, keep their place
    assert "Spring" in await world.rooms(tia_token)
    async with world.db.read() as conn:
        statuses = dict(
            (
                await conn.execute(
                    select(enrollments.c.user_id, enrollments.c.status).where(
                        enrollments.c.user_id.in_([sam, tia, uma])
                    )
                )
            ).all()
        )
    assert statuses == {sam: "banned", tia: "active", uma: "active"}

    [entry] = await scene.trail("person.ban")
    assert (entry["target_user"], entry["detail"]) == (
        sam,
        {"sessions_ended": 1, "invites_revoked": [cohort_link["id"]]},
    )
    assert cohort_link["token"] not in str(entry)  # ids only, never a link

    await scene.ok(scene.kim, "DELETE", f"{bans}/{sam}")  # lifting the ban brings no invite back
    assert (await _invites(world))[cohort_link["id"]]["revoked"] is True
    again = await world.register(cohort_link["token"], "sam3")
    assert (again.status_code, again.json()["code"]) == (410, "invite_revoked")


async def _used_up(world: World, invite: dict[str, Any]) -> None:
    pass  # a single-use invite: the banned person's registration took its only use


async def _expired_since(world: World, invite: dict[str, Any]) -> None:
    async with world.db.write() as conn:
        await conn.execute(
            update(invites).where(invites.c.id == invite["id"]).values(expires_at=utcnow() - timedelta(seconds=1))
        )


async def _revoked_by_staff(world: World, invite: dict[str, Any]) -> None:
    assert (await world.call(world.cast.staff_here, "DELETE", f"/api/invites/{invite['id']}")).status_code == 204


async def test_a_removal_from_a_room_lasts_until_a_moderator_adds_them_back(scene_on_each_database: Scene) -> None:
    """Memberships follow the enrollment, but not back into a room a moderator took the person out
    of: a counsellor assignment and a graduation each run the roster again."""
    scene = scene_on_each_database
    world, ria = scene.world, scene.ria
    person = f"/api/programs/{world.cast.program}/people/{ria.person.id}"
    topic = world.topic_room

    async def roles() -> dict[int, str]:
        answer = await world.call(ria, "GET", "/api/rooms")
        assert answer.status_code == 200, answer.text
        return {room["id"]: room["role"] for room in answer.json()["rooms"]}

    async def removals() -> list[dict[str, Any]]:
        link = await world.call(ria, "POST", "/api/me/export")
        assert link.status_code == 201, link.text
        document = await world.call(ria, "GET", link.json()["url"])
        assert document.status_code == 200, document.text
        found: list[dict[str, Any]] = document.json()["room_removals"]
        return found

    assert (await roles())[topic] == "member"
    await scene.ok(scene.kim, "DELETE", f"/api/rooms/{topic}/members/{ria.person.id}", {"reason": "harassing"})
    await scene.ok(scene.kim, "POST", f"{person}/counsellor", {"username": scene.kim.username})
    held = await roles()
    assert topic not in held
    assert held[world.cast.cohort_room] == "member"  # out of that one room only
    await scene.ok(scene.kim, "POST", f"{person}/graduate", {"reason": "completed"})
    held = await roles()
    assert topic not in held
    assert (held[world.cast.cohort_room], held[world.alumni_room]) == ("reader", "member")
    [removal] = await removals()
    assert (removal["room"]["id"], removal["room"]["kind"]) == (topic, "topic")

    added = await world.call(scene.kim, "POST", f"/api/rooms/{topic}/members", {"username": "ria", "role": "member"})
    assert added.status_code == 201, added.text
    assert (await roles())[topic] == "member"
    [entry] = [e for e in await scene.trail("room.member_add") if e["target_user"] == ria.person.id]
    assert entry["detail"] == {"role": "member", "removal_lifted": True}
    assert await removals() == []
    await scene.ok(scene.kim, "POST", f"{person}/counsellor", {"username": scene.kim.username})  # the roster again
    assert (await roles())[topic] == "member"


DEAD_ALREADY: dict[str, tuple[int, Callable[[World, dict[str, Any]], Awaitable[None]]]] = {
    "used up": (1, _used_up),
    "expired": (5, _expired_since),
    "revoked": (5, _revoked_by_staff),
}


@pytest.mark.parametrize("case", list(DEAD_ALREADY))
async def test_a_ban_names_no_invite_that_could_not_be_used_anyway(scene: Scene, case: str) -> None:
    world, cast = scene.world, scene.world.cast
    max_uses, kill = DEAD_ALREADY[case]
    invite = await world.invite(max_uses=max_uses)
    sam, _ = await _joined_with(world, invite, "sam")
    await kill(world, invite)
    before = (await _invites(world))[invite["id"]]

    banned = await scene.ok(scene.kim, "POST", f"/api/programs/{cast.program}/bans", {"user": sam, "reason": "r"})
    assert banned["invites_revoked"] == []
    assert (await _invites(world))[invite["id"]] == before  # left as it was
    [entry] = await scene.trail("person.ban")
    assert entry["detail"] == {"sessions_ended": 1, "invites_revoked": []}


async def test_lock_and_slow_mode_reach_every_client_and_spare_moderators(scene: Scene) -> None:
    pat, kim = await scene.joined(scene.pat), await scene.joined(scene.kim)
    first = await pat.say(scene.room, "before the lock")
    settings = f"/api/rooms/{scene.room}"
    assert (await scene.world.call(scene.pat, "PATCH", settings, {"locked": True})).status_code == 403
    answer = await scene.ok(scene.kim, "PATCH", settings, {"locked": True, "reason": "heated"})
    assert answer["room"]["locked"] is True and answer["state"]["locked"] is True
    await _frame(pat, "room_state", locked=True)
    assert (await pat.say(scene.room, "can I?"))["code"] == "locked"
    await pat.send({"type": "react", "room": scene.room, "target": first["seq"], "emoji": "hug", "on": True})
    await _frame(pat, "error", code="locked")
    assert (await kim.say(scene.room, "taking a pause"))["type"] == "ack"

    await scene.ok(scene.kim, "PATCH", settings, {"locked": False, "slow_seconds": 60})
    await _frame(pat, "room_state", locked=False, slow_seconds=60)
    assert (await pat.say(scene.room, "one"))["type"] == "ack"
    slowed = await pat.say(scene.room, "two")
    assert slowed["code"] == "slow_mode" and 55 < slowed["retry_after"] <= 60
    assert (await kim.say(scene.room, "mods are not slowed"))["type"] == "ack"
    assert (await kim.say(scene.room, "at all"))["type"] == "ack"
    for bad in ({"slow_seconds": -1}, {"slow_seconds": 3601}, {"locked": "yes"}, {"reason": "only a reason"}):
        assert (await scene.world.call(scene.kim, "PATCH", settings, bad)).status_code == 400, bad
    assert [e["reason"] for e in await scene.trail("room.lock")] == ["heated"]
    assert len(await scene.trail("room.unlock")) == 1
    assert [e["detail"] for e in await scene.trail("room.slow_mode")] == [{"slow_seconds": 60}]

    topic = await scene.joined(scene.pat, scene.world.topic_room)  # no slow mode there: no clock written
    assert (await topic.say(scene.world.topic_room, "elsewhere"))["type"] == "ack"
    async with scene.world.db.read() as conn:
        clock = await conn.scalar(
            select(memberships.c.last_posted_at).where(
                memberships.c.room_id == scene.world.topic_room, memberships.c.user_id == scene.pat.person.id
            )
        )
    assert clock is None
    for client in (pat, kim, topic):
        await client.close()


# across processes


@pytest.mark.slow
async def test_actions_on_one_process_are_seen_live_on_another(shared_db_url: str, redis_server: RedisServer) -> None:
    db = Database(shared_db_url)
    cast = await create_program_cast(db)
    ria = await enroll(db, "ria", cast.program, cast.cohort)
    await db.dispose()
    room = cast.cohort_room
    async with running(shared_db_url, redis_server.url) as processes:
        cluster = Cluster(processes)

        async def client(process: int, who: Account) -> WsClient:
            opened = await cluster.client(process, who)
            await opened.join(room)
            return opened

        async def act(method: str, path: str, body: Any = None) -> dict[str, Any]:
            answer: dict[str, Any] = await cluster.call(0, cast.staff_here, method, path, body)
            return answer

        pat, watcher = await client(1, cast.participant), await client(1, ria)
        said = await pat.say(room, "to be removed")
        removed = await act("DELETE", f"/api/rooms/{room}/messages/{said['seq']}", {"reason": "r"})
        live = (await _frame(watcher, "redacted"))[-1]
        assert (live["seq"], live["target"]) == (removed["seq"], said["seq"])

        muted = await act("POST", f"/api/rooms/{room}/mutes", {"user": cast.participant.person.id, "minutes": 5})
        assert (await _frame(pat, "muted"))[-1]["until"] == muted["until"]
        assert (await pat.say(room, "muted?"))["code"] == "muted"
        await act("DELETE", f"/api/rooms/{room}/mutes/{cast.participant.person.id}")
        await _frame(pat, "unmuted")

        await act("PATCH", f"/api/rooms/{room}", {"locked": True})
        await _frame(watcher, "room_state", locked=True)
        assert (await watcher.say(room, "locked?"))["code"] == "locked"
        await act("PATCH", f"/api/rooms/{room}", {"locked": False})
        await _frame(watcher, "room_state", locked=False)

        await act("DELETE", f"/api/rooms/{room}/members/{ria.person.id}")
        assert (await _frame(watcher, "left", room=room))[-1]["reason"] == "removed"

        await act("POST", f"/api/programs/{cast.program}/bans", {"user": cast.participant.person.id, "reason": "r"})
        await asyncio.wait_for(pat.ws.wait_closed(), units(10))
        assert pat.ws.close_code == 4001
        for opened in (pat, watcher):
            await opened.close()


async def test_queue_and_review_on_one_process_are_seen_live_on_another(
    shared_db_url: str, redis_server: RedisServer
) -> None:
    """Reports, slow mode and held review, done through process 0, reach sockets on process 1."""
    db = Database(shared_db_url)
    cast = await create_program_cast(db)
    ria = await enroll(db, "ria", cast.program, cast.cohort)
    room = cast.cohort_room
    async with running(shared_db_url, redis_server.url) as processes:
        cluster = Cluster(processes)

        async def act(method: str, path: str, body: Any = None, expect: int = 200) -> dict[str, Any]:
            answer: dict[str, Any] = await cluster.call(0, cast.staff_here, method, path, body, expect)
            return answer

        kim = await cluster.client(1, cast.staff_here)  # the moderator's console, on the other process
        pat, watcher = await cluster.client(1, cast.participant), await cluster.client(1, ria)
        for opened in (pat, watcher):
            await opened.join(room)

        said = await pat.say(room, "you are all idiots")
        path = f"/api/rooms/{room}/messages/{said['seq']}/report"
        item = (await cluster.call(0, ria, "POST", path, {"reason": "insulting"}, expect=201))["item"]
        assert (await _frame(kim, "queue"))[-1]["item"]["id"] == item
        await act("POST", f"/api/queue/{item}/resolve", {"outcome": "dismissed", "reason": "banter"})
        dismissed = await kim.until(lambda f: f.get("type") == "queue" and f["item"]["status"] == "dismissed")
        assert dismissed[-1]["item"]["id"] == item

        await act("PATCH", f"/api/rooms/{room}", {"slow_seconds": 30})
        await _frame(watcher, "room_state", slow_seconds=30)
        assert (await watcher.say(room, "first"))["type"] == "ack"
        slowed = await watcher.say(room, "second, too soon")
        assert slowed["code"] == "slow_mode" and 0 < slowed["retry_after"] <= 30
        await act("PATCH", f"/api/rooms/{room}", {"slow_seconds": 0, "hold_mode": "always"})
        await _frame(watcher, "room_state", slow_seconds=0, hold=True)

        kept, dropped = str(uuid.uuid4()), str(uuid.uuid4())
        assert (await pat.say(room, "let this through", client_id=kept))["type"] == "held"
        assert (await pat.say(room, "never shown to peers", client_id=dropped))["type"] == "held"
        await kim.until(
            lambda f: len([g for g in kim.seen if g.get("type") == "queue" and g["item"]["kind"] == "held"]) >= 2
        )
        held = {h["client_id"]: h["id"] for h in (await act("GET", f"/api/rooms/{room}/held"))["held"]}
        seq = (await act("POST", f"/api/rooms/{room}/held/{held[kept]}/approve"))["seq"]
        await watcher.wait_seq(room, seq)
        assert (await _frame(pat, "held_approved", client_id=kept))[-1]["seq"] == seq
        await act("POST", f"/api/rooms/{room}/held/{held[dropped]}/reject", {"reason": "not here"})
        assert (await _frame(pat, "held_rejected", client_id=dropped))[-1]["reason"] == "not here"
        assert not [f for f in watcher.seen if "never shown to peers" in str(f)]
        for opened in (kim, pat, watcher):
            await opened.close()

    async with db.read() as conn:
        done = {e["action"] for e in await audit.entries(conn, audit.Filter(actor_id=cast.staff_here.person.id))}
    await db.dispose()
    assert {"queue.dismiss", "room.slow_mode", "room.hold_mode", "held.approve", "held.reject"} <= done
