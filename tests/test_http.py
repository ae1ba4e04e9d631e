"""The HTTP API through real requests: auth, sessions, CSRF, rooms, history, headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest

from server.settings import Limits
from server.store.database import Database
from tests.support.live import Live, live_server, settings_for
from tests.support.seed import Account, create_cast, create_room


@dataclass
class Api:
    live: Live
    db: Database
    staff: Account
    ann: Account
    ben: Account

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.live.url)

    async def bearer(self, who: Account) -> dict[str, str]:
        async with self.client() as http:
            token = (
                await http.post("/api/auth/login", json={"username": who.username, "password": who.password})
            ).json()["token"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(sqlite_url: str) -> AsyncIterator[Api]:
    db = Database(sqlite_url)
    cast = await create_cast(db)
    async with live_server(settings_for(sqlite_url)) as live:
        yield Api(live, db, cast.staff, cast.ann, cast.ben)
    await db.dispose()


async def test_health_and_readiness(api: Api) -> None:
    async with api.client() as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_login_sets_a_protected_cookie_and_returns_the_token(api: Api) -> None:
    async with api.client() as http:
        response = await http.post("/api/auth/login", json={"username": "ann", "password": api.ann.password})
        assert response.status_code == 200
        body = response.json()
        assert body["user"] == {
            "id": api.ann.person.id,
            "username": "ann",
            "display_name": "Ann",
            "role": "participant",
        }
        cookie = response.headers["set-cookie"]
        assert "alongside_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" in cookie  # everywhere but development
        me = await http.get("/api/me", headers={"Cookie": f"alongside_session={body['token']}"})
        assert me.json()["user"]["username"] == "ann"  # the cookie alone authenticates reads
        me = await http.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
        assert me.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "ann", "password": "wrong-password"}, 401, "unauthorized"),
        ({"username": "nobody", "password": "whatever-password"}, 401, "unauthorized"),
        ({"username": "ann"}, 400, "invalid"),
        ({"username": 5, "password": "x"}, 400, "invalid"),
        ("not json", 400, "invalid"),
        ([1, 2], 400, "invalid"),
    ],
)
async def test_bad_logins(api: Api, body: object, status: int, code: str) -> None:
    async with api.client() as http:
        if isinstance(body, str):
            response = await http.post("/api/auth/login", content=body)
        else:
            response = await http.post("/api/auth/login", json=body)
    assert response.status_code == status and response.json()["code"] == code


async def test_logout_revokes_the_session(api: Api) -> None:
    headers = await api.bearer(api.ann)
    async with api.client() as http:
        assert (await http.get("/api/me", headers=headers)).status_code == 200
        assert (await http.post("/api/auth/logout", headers=headers)).status_code == 204
        after = await http.get("/api/me", headers=headers)
    assert after.status_code == 401 and after.json()["code"] == "unauthorized"


async def test_cookie_writes_need_the_csrf_token(api: Api) -> None:
    async with api.client() as http:
        login = (await http.post("/api/auth/login", json={"username": "staff", "password": api.staff.password})).json()
        http.cookies.set("alongside_session", login["token"])  # the jar keeps Secure cookies off plain http
        refused = await http.post("/api/rooms", json={"name": "No CSRF"})
        assert refused.status_code == 403 and refused.json()["code"] == "csrf"
        wrong = await http.post("/api/rooms", json={"name": "Bad CSRF"}, headers={"X-CSRF-Token": "forged"})
        assert wrong.status_code == 403
        ok = await http.post("/api/rooms", json={"name": "With CSRF"}, headers={"X-CSRF-Token": login["csrf_token"]})
        assert ok.status_code == 201


async def test_a_csrf_token_of_another_session_is_refused(api: Api) -> None:
    async with api.client() as first, api.client() as second:
        mine = (await first.post("/api/auth/login", json={"username": "staff", "password": api.staff.password})).json()
        theirs = (
            await second.post("/api/auth/login", json={"username": "staff", "password": api.staff.password})
        ).json()
        second.cookies.set("alongside_session", theirs["token"])
        refused = await second.post("/api/rooms", json={"name": "x"}, headers={"X-CSRF-Token": mine["csrf_token"]})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf"


async def test_tampered_tokens_are_refused(api: Api) -> None:
    headers = await api.bearer(api.ann)
    token = headers["Authorization"].split()[1]
    async with api.client() as http:
        for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "garbage", "a" * 600):
            response = await http.get("/api/me", headers={"Authorization": f"Bearer {bad}"})
            assert response.status_code == 401


async def test_rooms_members_and_history(api: Api) -> None:
    staff, ann, ben = await api.bearer(api.staff), await api.bearer(api.ann), await api.bearer(api.ben)
    async with api.client() as http:
        created = await http.post("/api/rooms", json={"name": "Tuesday cohort", "kind": "cohort"}, headers=staff)
        assert created.status_code == 201
        room = created.json()["id"]
        added = await http.post(f"/api/rooms/{room}/members", json={"username": "ann"}, headers=staff)
        assert added.status_code == 201
        assert added.json() == {
            "room": room,
            "user": {"id": api.ann.person.id, "display_name": "Ann"},
            "role": "member",
            "seq": 2,
        }
        mine = (await http.get("/api/rooms", headers=ann)).json()["rooms"]
        assert {
            "id": room,
            "name": "Tuesday cohort",
            "kind": "cohort",
            "role": "member",
            "last_seq": 2,
            "program": None,  # a room made by hand belongs to no program
            "cohort": None,
            "observing_until": None,
            "muted_until": None,
            "last_read_seq": 0,
            "unread": 0,  # membership events are not messages
            "latest": None,
        } in mine
        assert room not in [r["id"] for r in (await http.get("/api/rooms", headers=ben)).json()["rooms"]]
        history = (await http.get(f"/api/rooms/{room}/messages?after=0", headers=ann)).json()
        assert [e["type"] for e in history["messages"]] == ["member_added", "member_added"]
        assert history["has_more"] is False
        refused = await http.get(f"/api/rooms/{room}/messages", headers=ben)
        assert refused.status_code == 403 and refused.json()["code"] == "not_member"
        unknown = await http.get("/api/rooms/99999/messages", headers=ben)
        assert unknown.status_code == 403 and unknown.json()["code"] == "not_member"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/rooms", {"name": "Mine now"}),
        ("POST", "/api/rooms/ROOM/members", {"username": "ben", "role": "moderator"}),
    ],
)
async def test_participants_cannot_do_staff_things(api: Api, method: str, path: str, body: dict[str, str]) -> None:
    room = await create_room(api.db, api.staff, [api.ann])
    ann = await api.bearer(api.ann)
    async with api.client() as http:
        response = await http.request(method, path.replace("ROOM", str(room)), json=body, headers=ann)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("after=-1", "invalid"),
        ("limit=0", "invalid"),
        ("limit=100000", "invalid"),
        ("after=abc", "invalid"),
        ("after=1&before=5", "invalid"),
    ],
)
async def test_bad_history_queries(api: Api, query: str, code: str) -> None:
    room = await create_room(api.db, api.staff, [api.ann])
    ann = await api.bearer(api.ann)
    async with api.client() as http:
        response = await http.get(f"/api/rooms/{room}/messages?{query}", headers=ann)
    assert response.status_code == 400 and response.json()["code"] == code


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "kind": "party"}, "kind"),
        ({"name": "  "}, "name"),
        ({"name": "ok", "extra": 1}, "extra"),
    ],
)
async def test_room_bodies_are_validated(api: Api, body: dict[str, object], field: str) -> None:
    staff = await api.bearer(api.staff)
    async with api.client() as http:
        response = await http.post("/api/rooms", json=body, headers=staff)
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert response.json()["field"] == field


async def test_oversized_bodies_are_refused(api: Api) -> None:
    async with api.client() as http:
        response = await http.post("/api/auth/login", content=b'{"username": "' + b"a" * 100_000 + b'"}')
    assert response.status_code == 413 and response.json()["code"] == "too_large"


async def test_security_headers_and_the_page(api: Api) -> None:
    async with api.client() as http:
        page = await http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "<script" not in page.text.replace('<script type="module" src=', "")
        missing = await http.get("/api/nothing-here")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_crisis_resources_need_no_sign_in(api: Api) -> None:
    async with api.client() as http:
        resources = (await http.get("/api/crisis-resources")).json()["resources"]
    assert any("988" in r["contact"] for r in resources)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def throttled(sqlite_url: str) -> AsyncIterator[tuple[Api, Clock]]:
    """Three failed sign-ins per account and five per address, refilled at one a minute each."""
    db = Database(sqlite_url)
    cast = await create_cast(db)
    limits = Limits(
        rate_per_second=1000.0,
        rate_burst=1000,
        login_per_minute_account=1.0,
        login_burst_account=3,
        login_per_minute_address=1.0,
        login_burst_address=5,
    )
    async with live_server(settings_for(sqlite_url, limits=limits)) as live:
        clock = Clock()
        live.app.state.services.login_throttle.clock = clock
        yield Api(live, db, cast.staff, cast.ann, cast.ben), clock
    await db.dispose()


async def sign_in(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/auth/login", json={"username": username, "password": password})


def assert_throttled(response: httpx.Response) -> None:
    body = response.json()
    assert response.status_code == 429 and body["code"] == "rate_limited", response.text
    assert isinstance(body["retry_after"], int) and body["retry_after"] >= 1
    assert response.headers["Retry-After"] == str(body["retry_after"])


async def test_failed_logins_throttle_the_account_then_the_address(throttled: tuple[Api, Clock]) -> None:
    api, clock = throttled
    async with api.client() as http:
        for _ in range(3):
            assert (await sign_in(http, "ann", "wrong-password")).status_code == 401
        refused = await sign_in(http, "ANN", api.ann.password)  # even the right password, however spelt
        assert_throttled(refused)
        assert refused.json()["retry_after"] == 60  # one attempt a minute
        assert (await sign_in(http, "ben", api.ben.password)).status_code == 200  # same address, other account
        assert (await sign_in(http, "ben", api.ben.password)).status_code == 200  # successes spend nothing
        for _ in range(2):  # the address's fourth and fifth failures
            assert (await sign_in(http, "ben", "wrong-password")).status_code == 401
        assert_throttled(await sign_in(http, "ben", api.ben.password))  # ben's own budget has one left
        assert_throttled(await sign_in(http, "staff", api.staff.password))  # the address refuses everyone
        clock.now += 60  # one attempt back on each budget
        assert (await sign_in(http, "staff", api.staff.password)).status_code == 200
        clock.now += 3 * 60
        assert (await sign_in(http, "ann", api.ann.password)).status_code == 200


async def test_an_unknown_username_is_throttled_the_same_way(throttled: tuple[Api, Clock]) -> None:
    api, clock = throttled
    throttle = api.live.app.state.services.login_throttle
    throttle.limits = replace(throttle.limits, burst_address=100)  # only the accounts' budgets matter here
    async with api.client() as http:
        for username in ("ann", "nobody"):
            for _ in range(3):
                assert (await sign_in(http, username, "wrong-password")).status_code == 401
        known, unknown = await sign_in(http, "ann", "wrong-password"), await sign_in(http, "nobody", "wrong-password")
        assert_throttled(known)
        assert_throttled(unknown)
        assert known.json() == unknown.json() and known.headers["Retry-After"] == unknown.headers["Retry-After"]
        clock.now += 3 * 60
        assert (await sign_in(http, "ann", api.ann.password)).status_code == 200
        assert (await sign_in(http, "nobody", "wrong-password")).status_code == 401
