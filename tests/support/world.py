"""A running server with a program cast in it, and the calls program tests make against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from server.store import invites as invite_store
from server.store import programs
from server.store.database import Database, utcnow
from tests.support.client import WsClient
from tests.support.lifecycle_cast import ProgramCast, create_program_cast
from tests.support.live import Live, live_server, settings_for
from tests.support.seed import Account
from tests.support.timing import units

REGISTER_PASSWORD = "a-new-long-password"


@dataclass
class World:
    live: Live
    db: Database
    cast: ProgramCast
    tokens: dict[str, str]
    topic_room: int
    alumni_room: int

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.live.url, timeout=units(10))

    async def token(self, who: Account) -> str:
        """A Bearer token for the person, signed in once per world."""
        if who.username not in self.tokens:
            async with self.http() as http:
                answer = await http.post("/api/auth/login", json={"username": who.username, "password": who.password})
                answer.raise_for_status()
                self.tokens[who.username] = answer.json()["token"]
        return self.tokens[who.username]

    async def call(self, who: Account | str | None, method: str, path: str, body: Any = None) -> httpx.Response:
        """A request as ``who`` (an account, a raw token, or None for signed out)."""
        token = who if isinstance(who, str) or who is None else await self.token(who)
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        async with self.http() as http:
            return await http.request(method, path, json=body, headers=headers)

    async def socket(self, who: Account | str) -> WsClient:
        client = await WsClient.open(self.live.ws_url, who if isinstance(who, str) else await self.token(who))
        assert (await client.next())["type"] == "hello"
        return client

    async def invite(self, **body: Any) -> dict[str, Any]:
        """An invite made by the program's staff (participant, for the cast's cohort, unless told)."""
        body = {"role": "participant", "cohort": self.cast.cohort, **body}
        answer = await self.call(self.cast.staff_here, "POST", f"/api/programs/{self.cast.program}/invites", body)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    async def register(
        self, invite: str, username: str, password: str = REGISTER_PASSWORD, **extra: str
    ) -> httpx.Response:
        """Register a new account with an invite link's token, signed out (display name: the username, titled)."""
        body = {"username": username, "password": password, "display_name": username.title(), "invite": invite, **extra}
        return await self.call(None, "POST", "/api/auth/register", body)

    async def expired_invite(self) -> str:
        """The id of a participant invite of the cast's cohort that expired a second ago."""
        async with self.db.write() as conn:
            invite = await invite_store.create(
                conn,
                program_id=self.cast.program,
                cohort_id=self.cast.cohort,
                role="participant",
                real_name=None,
                max_uses=1,
                expires_at=utcnow() - timedelta(seconds=1),
                created_by=self.cast.staff_here.person.id,
            )
        return invite.id

    async def rooms(self, who: Account | str) -> dict[str, dict[str, Any]]:
        """The person's rooms by name, as GET /api/rooms lists them."""
        answer = await self.call(who, "GET", "/api/rooms")
        assert answer.status_code == 200, answer.text
        return {room["name"]: room for room in answer.json()["rooms"]}


@asynccontextmanager
async def program_world(database_url: str) -> AsyncIterator[World]:
    """The program cast (tests/support/lifecycle_cast.py) with a topic room "Mindfulness" and an
    alumni room "Alumni", served on a real socket."""
    db = Database(database_url)
    try:
        cast = await create_program_cast(db)
        async with db.write() as conn:
            topic, _ = await programs.create_program_room(
                conn, program_id=cast.program, name="Mindfulness", kind="topic"
            )
            alumni, _ = await programs.create_program_room(conn, program_id=cast.program, name="Alumni", kind="alumni")
        async with live_server(settings_for(database_url)) as live:
            yield World(live, db, cast, {}, topic, alumni)
    finally:
        await db.dispose()
