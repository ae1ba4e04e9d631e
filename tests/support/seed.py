"""Accounts and rooms for tests, created through the server's own store functions."""

from __future__ import annotations

from dataclasses import dataclass

from server.auth.passwords import hash_password
from server.store import rooms as room_store
from server.store import users as user_store
from server.store.database import Database
from server.store.users import Person

PASSWORD = "a-long-test-password"
_hash: str | None = None


@dataclass(frozen=True)
class Account:
    person: Person
    password: str = PASSWORD

    @property
    def username(self) -> str:
        return self.person.username


async def create_user(
    db: Database, username: str, role: str = "participant", display_name: str | None = None
) -> Account:
    global _hash
    if _hash is None:
        _hash = await hash_password(PASSWORD)
    async with db.write() as conn:
        person = await user_store.create_user(
            conn, username=username, display_name=display_name or username.title(), password_hash=_hash, role=role
        )
    return Account(person)


async def create_room(db: Database, creator: Account, members: list[Account], name: str = "Group") -> int:
    async with db.write() as conn:
        room_id = await room_store.create(conn, name=name, kind="group", creator=creator.person)
        for member in members:
            await room_store.set_member(conn, room_id=room_id, person=member.person, role="member")
    return room_id


@dataclass(frozen=True)
class Cast:
    """The people most tests need: a counsellor, two members of one room, and an outsider."""

    staff: Account
    ann: Account
    ben: Account
    outsider: Account
    room: int


async def create_cast(db: Database, ben_name: str = "Ben", room_name: str = "Group") -> Cast:
    staff = await create_user(db, "staff", "staff", "Counsellor Kim")
    ann = await create_user(db, "ann", display_name="Ann")
    ben = await create_user(db, "ben", display_name=ben_name)
    outsider = await create_user(db, "otto", display_name="Otto")
    room = await create_room(db, staff, [ann, ben], name=room_name)
    return Cast(staff, ann, ben, outsider, room)
