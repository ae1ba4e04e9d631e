"""Authorisation tables: the answer every kind of caller expects from one endpoint, and the
fresh things each call acts on (so one caller's allowed call never changes the next one's)."""

from __future__ import annotations

import string
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from server.auth.tokens import Signers
from server.store import rooms
from server.store import sessions as session_store
from server.store.models import Membership
from server.store.users import Person
from tests.support.lifecycle_cast import enroll, new_cohort
from tests.support.live import TEST_KEYS
from tests.support.seed import Account, create_user
from tests.support.world import World

Expect = Callable[..., dict[str, int]]
SIGNERS = Signers(TEST_KEYS)
memberships = Membership.__table__  # type: ignore[attr-defined]


def only_among(everyone: Sequence[str]) -> Expect:
    """``only(*allowed, ok=, refused=)`` for a table whose callers are ``everyone``."""

    def only(*allowed: str, ok: int = 200, refused: int = 403) -> dict[str, int]:
        """The answers when only ``allowed`` may do it (signed out: always 401)."""
        return {actor: ok if actor in allowed else refused for actor in everyone} | {"signed_out": 401}

    return only


async def session_token(world: World, person: Person) -> str:
    """A signed-in token made the way login makes one, without paying for a password hash."""
    async with world.db.write() as conn:
        session_id = await session_store.create(conn, person.id, 3600)
    return SIGNERS.session.sign(session_id)


async def staff_moderator(world: World, username: str, room: int) -> Account:
    """A staff account that moderates this one room and is enrolled nowhere."""
    account = await create_user(world.db, username, "staff")
    async with world.db.write() as conn:
        await rooms.set_member(conn, room_id=room, person=account.person, role="moderator")
    return account


@dataclass
class Fresh:
    """Values for a row's placeholders (``{name}``); most are made anew for every call."""

    world: World
    counter: list[int] = field(default_factory=lambda: [0])
    tokens: dict[int, str] = field(default_factory=dict)

    async def as_(self, who: Account) -> str:
        """A token for the set-up calls, minted once (several calls at once never wait on logins)."""
        if who.person.id not in self.tokens:
            self.tokens[who.person.id] = await session_token(self.world, who.person)
        return self.tokens[who.person.id]

    def _name(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}{self.counter[0]}"

    async def participant(self) -> Account:
        cast = self.world.cast
        return await enroll(self.world.db, self._name("p"), cast.program, cast.cohort)

    async def message(self, author: Account) -> dict[str, Any]:
        client = await self.world.socket(await session_token(self.world, author.person))
        said = await client.say(self.world.cast.cohort_room, f"message {uuid.uuid4()}")
        await client.close()
        return said

    async def make(self, key: str) -> Any:
        cast, world = self.world.cast, self.world
        fixed = {
            "room": cast.cohort_room,
            "program": cast.program,
            "topic": world.topic_room,
            "other_program": cast.other_program,
        }
        if key in fixed:
            return fixed[key]
        if key == "user":
            return (await self.participant()).person.id
        if key == "username":
            return (await self.participant()).username
        if key == "new_username":
            return self._name("newcomer")
        if key == "withdrawn_user":
            account = await enroll(world.db, self._name("w"), cast.program, cast.cohort, status="withdrawn")
            return account.person.id
        if key == "outsider_username":
            return (await create_user(world.db, self._name("o"))).username
        if key == "staff_username":
            return (await enroll(world.db, self._name("s"), cast.program, None, role="staff")).username
        if key == "seq":
            return (await self.message(await self.participant()))["seq"]
        if key == "cohort":
            return (await new_cohort(world.db, cast.program, self._name("Cohort ")))[0]
        if key in ("invite", "invite_token"):
            answer = await world.call(
                await self.as_(cast.admin), "POST", f"/api/programs/{cast.program}/invites", {"role": "staff"}
            )
            return answer.json()["id" if key == "invite" else "token"]
        if key == "banned":
            person = await self.participant()
            body = {"user": person.person.id, "reason": "set-up"}
            answer = await world.call(await self.as_(cast.admin), "POST", f"/api/programs/{cast.program}/bans", body)
            assert answer.status_code == 200, answer.text
            return person.person.id
        if key == "item":
            seq = (await self.message(await self.participant()))["seq"]
            path = f"/api/rooms/{cast.cohort_room}/messages/{seq}/report"
            answer = await world.call(await self.as_(cast.staff_here), "POST", path, {"reason": "set-up"})
            assert answer.status_code == 201, answer.text
            return answer.json()["item"]
        if key == "held":
            author = await self.participant()
            async with world.db.write() as conn:
                await conn.execute(
                    update(memberships).where(memberships.c.user_id == author.person.id).values(trusted=False)
                )
            said = await self.message(author)
            assert said["type"] == "held", said
            answer = await world.call(await self.as_(cast.admin), "GET", f"/api/rooms/{cast.cohort_room}/held")
            held = [h for h in answer.json()["held"] if h["client_id"] == said["client_id"]]
            return held[0]["id"]
        raise KeyError(key)

    async def fill(self, template: Any) -> Any:
        """The template with its placeholders filled; a value that is one placeholder keeps its type."""
        if isinstance(template, dict):
            return {key: await self.fill(value) for key, value in template.items()}
        if not isinstance(template, str):
            return template
        keys = [name for _, name, _, _ in string.Formatter().parse(template) if name]
        values = {key: await self.make(key) for key in keys}
        if len(keys) == 1 and template == "{" + keys[0] + "}":
            return values[keys[0]]
        return template.format(**values)
