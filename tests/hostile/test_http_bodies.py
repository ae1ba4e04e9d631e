"""Hostile requests to every route of the app: never a 500, always the JSON error shape with a
documented code (or a success).

The routes come from the app itself; ``ROUTES`` below says, for each, what a valid request
holds (path parameters, query, body and the model that reads the body), and the strategies
break it. A route added to the app without an entry here fails ``test_every_route_has_a_strategy``.
Requests are made by a signed-in admin with the session cookie and the CSRF token, so
authorisation does not stop a request before its body, query and path are read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from server.app import Alongside, create_app
from server.auth.current import csrf_token
from server.auth.guards import CSRF_HEADER, SESSION_COOKIE
from server.http import auth, invites, lifecycle, moderation, monitoring, people, privacy, programs, queue, rooms
from server.http.account import DeleteBody
from server.http.common import STATUS
from server.protocol import ErrorCode
from server.store import sessions as session_store
from server.store.database import Database
from server.store.events import NewMessage
from tests.hostile.loop import Loop
from tests.hostile.strategies import TEXT, bodies, near, to_json
from tests.support import databases
from tests.support.lifecycle_cast import ProgramCast, create_program_cast
from tests.support.live import settings_for
from tests.support.routes import app_routes, starlette_of
from tests.support.seed import PASSWORD

DOCUMENTED = {code.value: status for code, status in STATUS.items() if code is not ErrorCode.INTERNAL}


@dataclass(frozen=True)
class Spec:
    """A valid request to one route: the model that reads its body and a body it accepts, its query."""

    model: type[BaseModel] | None = None
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    signs_out: bool = False  # the request ends the session it is made with


def body(model: type[BaseModel], **example: Any) -> Spec:
    return Spec(model=model, body=example)


NONE = Spec()
SCHEDULE = {"timezone": "America/Chicago", "windows": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}]}
PERSON = "/api/programs/{program_id}/people/{user_id}"
ROUTES: dict[tuple[str, str], Spec] = {
    ("GET", "/"): NONE,
    ("GET", "/console"): NONE,
    ("GET", "/healthz"): NONE,
    ("GET", "/readyz"): NONE,
    ("GET", "/metrics"): NONE,
    ("GET", "/api/crisis-resources"): NONE,
    ("GET", "/static/{path}"): NONE,
    ("POST", "/api/auth/login"): body(auth.LoginBody, username="admin", password="not-the-password"),
    ("POST", "/api/auth/logout"): Spec(signs_out=True),
    ("GET", "/api/me"): NONE,
    ("POST", "/api/me/password"): body(
        auth.PasswordBody, current_password="not-the-password", new_password="another-long-password"
    ),
    ("POST", "/api/me/export"): NONE,
    ("GET", "/api/me/export/{token}"): NONE,
    ("POST", "/api/me/delete"): body(DeleteBody, password="not-the-password"),
    ("GET", "/api/me/disclosures"): NONE,
    ("POST", PERSON + "/export"): body(privacy.DisclosureBody, recipient="Dr Lee, county court", purpose="subpoena"),
    ("POST", PERSON + "/disclosures"): body(
        privacy.RecordedDisclosureBody, recipient="County court", purpose="order", kind="legal_hold", scope="messages"
    ),
    ("GET", PERSON + "/disclosures"): NONE,
    ("GET", "/api/rooms"): NONE,
    ("POST", "/api/rooms"): body(rooms.RoomBody, name="Evening group", kind="group"),
    ("POST", "/api/rooms/{room_id}/members"): body(rooms.MemberBody, username="pat", role="member"),
    ("GET", "/api/rooms/{room_id}/messages"): Spec(query={"after": "0", "before": "3", "limit": "10"}),
    ("POST", "/api/rooms/{room_id}/read"): body(rooms.ReadBody, seq=1),
    ("POST", "/api/programs"): body(programs.ProgramBody, name="Day IOP", alumni_post_in_cohort=True),
    ("GET", "/api/programs"): NONE,
    ("GET", "/api/programs/{program_id}"): NONE,
    ("PATCH", "/api/programs/{program_id}"): body(
        programs.OptionsBody, alumni_post_in_cohort=False, hold_first_posts=2
    ),
    ("POST", "/api/programs/{program_id}/cohorts"): body(
        programs.CohortBody, name="Summer", starts_on="2026-06-01", ends_on="2026-08-01"
    ),
    ("GET", "/api/programs/{program_id}/cohorts"): NONE,
    ("DELETE", "/api/cohorts/{cohort_id}"): NONE,
    ("POST", "/api/programs/{program_id}/rooms"): body(programs.ProgramRoomBody, name="Sleep", kind="topic"),
    ("GET", "/api/programs/{program_id}/people"): NONE,
    ("POST", "/api/auth/register"): body(
        invites.RegisterBody, username="newcomer", password="a-long-enough-password", display_name="New", invite="x"
    ),
    ("POST", "/api/programs/{program_id}/invites"): body(
        invites.InviteBody, role="participant", cohort=1, max_uses=2, expires_in_days=3, real_name="Jo Doe"
    ),
    ("GET", "/api/programs/{program_id}/invites"): NONE,
    ("GET", "/api/invites/{token}"): NONE,
    ("DELETE", "/api/invites/{invite_id}"): NONE,
    ("GET", PERSON): NONE,
    ("POST", PERSON + "/graduate"): body(lifecycle.ReasonBody, reason="finished"),
    ("POST", PERSON + "/withdraw"): body(lifecycle.WithdrawBody, reason="moved away"),
    ("POST", PERSON + "/readmit"): body(lifecycle.ReasonBody, reason="back"),
    ("POST", PERSON + "/counsellor"): body(lifecycle.CounsellorBody, username="kim"),
    ("POST", "/api/cohorts/{cohort_id}/graduate"): body(lifecycle.ReasonBody, reason="done"),
    ("GET", "/api/rooms/{room_id}"): NONE,
    ("PATCH", "/api/rooms/{room_id}"): body(
        monitoring.RoomOptions, schedule=SCHEDULE, hold_mode="unmonitored", locked=False, slow_seconds=0, reason="r"
    ),
    ("POST", "/api/rooms/{room_id}/duty"): NONE,
    ("DELETE", "/api/rooms/{room_id}/duty"): NONE,
    ("POST", "/api/rooms/{room_id}/observe"): body(monitoring.ObserveBody, minutes=5),
    ("DELETE", "/api/rooms/{room_id}/observe"): NONE,
    ("DELETE", "/api/rooms/{room_id}/messages/{seq}"): body(moderation.ReasonBody, reason="spam"),
    ("POST", "/api/rooms/{room_id}/mutes"): body(moderation.MuteBody, user=5, minutes=10, reason="calm down"),
    ("DELETE", "/api/rooms/{room_id}/mutes/{user_id}"): body(moderation.ReasonBody, reason="ok"),
    ("DELETE", "/api/rooms/{room_id}/members/{user_id}"): body(moderation.ReasonBody, reason="out"),
    ("POST", "/api/programs/{program_id}/bans"): body(moderation.BanBody, user=6, reason="threats"),
    ("DELETE", "/api/programs/{program_id}/bans/{user_id}"): body(moderation.ReasonBody, reason="appeal"),
    ("POST", "/api/rooms/{room_id}/messages/{seq}/report"): body(queue.ReportBody, reason="unkind"),
    ("POST", "/api/rooms/{room_id}/messages/{seq}/concern"): body(queue.ConcernBody, note="worried"),
    ("GET", "/api/queue"): Spec(query={"status": "all", "program": "1"}),
    ("POST", "/api/queue/{item_id}/ack"): NONE,
    ("POST", "/api/queue/{item_id}/resolve"): body(queue.ResolveBody, outcome="dismissed", reason="fine"),
    ("GET", "/api/rooms/{room_id}/held"): NONE,
    ("POST", "/api/rooms/{room_id}/held/{held_id}/approve"): NONE,
    ("POST", "/api/rooms/{room_id}/held/{held_id}/reject"): body(queue.RejectBody, reason="no"),
    ("POST", "/api/programs/{program_id}/warnings"): body(people.WarningBody, user=5, reason="be kind", room=1),
    ("GET", PERSON + "/notes"): NONE,
    ("POST", PERSON + "/notes"): body(people.NoteBody, body="seems better this week"),
    ("GET", PERSON + "/moderation"): NONE,
    ("GET", "/api/me/mutes"): NONE,
    ("POST", "/api/me/mutes"): body(people.MuteBody, user=5),
    ("DELETE", "/api/me/mutes/{user_id}"): NONE,
    ("GET", "/api/audit"): Spec(
        query={
            "program": "1",
            "actor": "1",
            "target_user": "5",
            "room": "1",
            "action": "member.mute",
            "since": "2026-01-01T00:00:00+00:00",
            "until": "2030-01-01T00:00:00Z",
            "before": "100",
            "limit": "20",
        }
    ),
    ("POST", "/api/rooms/{room_id}/backchannel"): NONE,
}


# Path parameters: ids that name real things in the world below, and what no id looks like.
PATH_VALUES = st.one_of(
    st.integers(1, 8).map(str),
    st.sampled_from(["0", "-1", "²", "١٢", "𝟙", "1.5", " 1", "1e3", "0x1", "9" * 19, "9" * 30, "9" * 5000, "\x00"]),
    st.text(min_size=1, max_size=30),
)
QUERY_VALUES = st.one_of(
    TEXT,
    st.integers().map(str),
    st.sampled_from(
        [
            "²",
            "١",
            "-0",
            "9" * 5000,
            "0001-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59-23:59",
            "2026-13-01T00:00:00Z",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "open\x00",
        ]
    ),
)
MAX_QUERY = 60_000  # URLs past 64 KiB are refused by the HTTP server (and by httpx) before the app
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)


@st.composite
def requests(draw: st.DrawFn, key: tuple[str, str], invite: str) -> httpx.Request:
    """One hostile request for the route: path, query and body broken independently."""
    method, template = key
    spec = ROUTES[key]
    path = template
    for name in [part[1:-1] for part in template.split("/") if part.startswith("{")]:
        raw = draw(st.just(invite) | PATH_VALUES) if name == "token" else draw(PATH_VALUES)
        path = path.replace("{" + name + "}", quote(raw, safe=""))
    query: dict[str, str] = {}
    if spec.query or draw(st.booleans()):
        raw = draw(near(spec.query)).items()
        query = {str(k): v if isinstance(v, str) else to_json(v) for k, v in raw}
        for name in draw(st.lists(st.sampled_from(sorted(spec.query)), unique=True)) if spec.query else []:
            query[name] = draw(QUERY_VALUES)
    if len(urlencode(query)) > MAX_QUERY:
        query = {name: value[:500] for name, value in query.items()}
    example = spec.body if spec.body is not None else {}
    if spec.model is invites.RegisterBody:
        example = {**example, "invite": invite}
    known = tuple(sorted(spec.model.model_fields)) if spec.model is not None else ()
    content = draw(bodies(example, known)) if spec.body is not None or draw(st.booleans()) else None
    headers = {}
    kind = draw(CONTENT_TYPES)
    if kind is not None:
        headers["content-type"] = kind
    encoded = content.encode() if isinstance(content, str) else content
    return httpx.Request(method, "http://testserver" + path, params=query, content=encoded, headers=headers)


@dataclass
class World:
    loop: Loop
    app: Alongside
    http: httpx.AsyncClient
    cast: ProgramCast
    invite: str
    session: dict[str, str] = field(default_factory=dict)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text("World(...)")  # hypothesis prints a failing example's arguments: keep it short

    async def sign_in(self) -> dict[str, str]:
        """A new admin session: the cookie and the CSRF token a browser would send (made in the
        store, as login would, without paying for a password hash on every logout example)."""
        services = self.app.state.services
        async with services.db.write() as conn:
            session_id = await session_store.create(conn, self.cast.admin.person.id, services.settings.session_max_age)
        token = services.signers.session.sign(session_id)
        return {"cookie": f"{SESSION_COOKIE}={token}", CSRF_HEADER: csrf_token(services.signers, session_id)}

    async def send(self, request: httpx.Request, fresh_session: bool) -> httpx.Response:
        credentials = await self.sign_in() if fresh_session else self.session
        request.headers.update(credentials)
        return await self.http.send(request)


async def _populate(app: Alongside, http: httpx.AsyncClient, cast: ProgramCast) -> str:
    """Messages in the cohort room, a report of one, and an invite token: things the ids can name."""
    services = app.state.services
    seqs = [
        (
            await services.ingest.submit(
                NewMessage(cast.cohort_room, cast.participant.person.id, "Pat", f"hello {n}", str(uuid.uuid4()))
            )
        ).seq
        for n in range(3)
    ]
    login = await http.post("/api/auth/login", json={"username": "kim", "password": PASSWORD})
    bearer = {"authorization": f"Bearer {login.json()['token']}"}
    answer = await http.post(f"/api/rooms/{cast.cohort_room}/messages/{seqs[0]}/report", json={}, headers=bearer)
    assert answer.status_code in (200, 201), answer.text
    made = await http.post(
        f"/api/programs/{cast.program}/invites", json={"role": "participant", "cohort": cast.cohort}, headers=bearer
    )
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The app (in this process, through ASGI) on a program cast, once per module and backend."""
    loop = Loop()
    try:
        url = loop.enter(databases.fresh_database(request.param, tmp_path_factory.mktemp("hostile-http")))
        db = Database(url)
        cast = loop.run(create_program_cast(db))
        loop.run(db.dispose())
        config = settings_for(url)
        limits = replace(config.limits, login_burst_account=10**9, login_burst_address=10**9)
        app = create_app(config.with_(limits=limits))
        starlette = starlette_of(app)
        loop.enter(starlette.router.lifespan_context(starlette))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        http = loop.enter(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
        invite = loop.run(_populate(app, http, cast))
        world = World(loop, app, http, cast, invite)
        world.session = loop.run(world.sign_in())
        yield world
    finally:
        loop.close()


def test_every_route_has_a_strategy() -> None:
    app = create_app(settings_for("sqlite+aiosqlite:///:memory:"))
    routes = app_routes(app)
    assert sorted(routes - set(ROUTES)) == [], "routes without an entry in ROUTES"
    assert sorted(set(ROUTES) - routes) == [], "entries in ROUTES for routes the app no longer has"


@pytest.mark.parametrize("key", sorted(k for k, spec in ROUTES.items() if spec.model is not None))
def test_each_example_body_is_valid(key: tuple[str, str]) -> None:
    """The strategies start from a body the model accepts (its other fields are added as hostile values)."""
    spec = ROUTES[key]
    assert spec.model is not None and spec.body is not None
    spec.model.model_validate(spec.body)


def check(response: httpx.Response) -> None:
    """A success, or an error answer in the documented shape: never a 500."""
    assert response.status_code < 500 or response.status_code == 503, response.text
    if response.status_code < 400:
        return
    answer = orjson.loads(response.content)
    assert isinstance(answer, dict) and isinstance(answer.get("message"), str), answer
    assert answer.get("code") in DOCUMENTED, answer
    assert response.status_code == DOCUMENTED[answer["code"]], (response.status_code, answer)


@pytest.mark.parametrize("key", sorted(ROUTES), ids=lambda key: f"{key[0]} {key[1]}" if isinstance(key, tuple) else key)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_request_gets_a_500(world: World, key: tuple[str, str], data: st.DataObject) -> None:
    request = data.draw(requests(key, world.invite), label="request")
    note(f"{request.method} {request.url} {request.headers.get('content-type')} {request.content[:300]!r}")
    response = world.loop.run(world.send(request, ROUTES[key].signs_out))
    check(response)


# What the properties found (each was a 500), kept as plain cases that run on every backend.
FOUND = [
    ("DELETE", "/api/me/mutes/%C2%B2", None, 404, "not_found"),  # "²".isdigit(), int("²") fails
    ("GET", "/api/programs/" + "9" * 5000, None, 404, "not_found"),  # int() refuses 4300+ digits
    ("GET", "/api/audit?limit=" + "9" * 5000, None, 400, "invalid"),
    ("GET", "/api/queue?program=99999999999999999999", None, 400, "invalid"),  # past SQLite's integers
    ("GET", "/api/rooms/1/messages?after=%C2%B2", None, 400, "invalid"),
    ("GET", "/api/audit?action=member.mute%00", None, 400, "invalid"),  # PostgreSQL refuses NUL
    ("DELETE", "/api/invites/a%00b", None, 404, "not_found"),
    ("POST", "/api/auth/login", {"username": "ad\x00min", "password": "x"}, 400, "invalid"),
    ("POST", "/api/rooms", {"name": "Gr\x00oup", "kind": "group"}, 400, "invalid"),
    ("PATCH", "/api/rooms/1", {"schedule": {**SCHEDULE, "timezone": "America"}}, 400, "invalid"),  # a folder
]


@pytest.mark.parametrize(("method", "path", "payload", "status", "code"), FOUND)
def test_what_the_properties_found(world: World, method: str, path: str, payload: Any, status: int, code: str) -> None:
    request = httpx.Request(method, "http://testserver" + path, json=payload)
    response = world.loop.run(world.send(request, False))
    check(response)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
