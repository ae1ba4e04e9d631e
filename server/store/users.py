"""Accounts: create and look up people. Password hashing lives in auth/, not here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.store.database import utcnow
from server.store.models import User

ROLES = ("admin", "staff", "participant")
STAFF_ROLES = frozenset({"admin", "staff"})
users = User.__table__  # type: ignore[attr-defined]


class UsernameTaken(Exception):
    """The username already belongs to someone."""


@dataclass(frozen=True)
class Person:
    """A user as the rest of the server sees one (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    real_name: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def public(self) -> dict[str, object]:
        """What peers may see: the display name only."""
        return {"id": self.id, "display_name": self.display_name}

    def private(self) -> dict[str, object]:
        """What the person sees about themselves."""
        return {"id": self.id, "username": self.username, "display_name": self.display_name, "role": self.role}

    def for_staff(self) -> dict[str, object]:
        """What staff see: the real identity beside the display name."""
        return {**self.private(), "real_name": self.real_name}


def _person(row: object) -> Person:
    return Person(
        id=row.id,  # type: ignore[attr-defined]
        username=row.username,  # type: ignore[attr-defined]
        display_name=row.display_name,  # type: ignore[attr-defined]
        role=row.role,  # type: ignore[attr-defined]
        real_name=row.real_name,  # type: ignore[attr-defined]
    )


async def create_user(
    conn: AsyncConnection,
    *,
    username: str,
    display_name: str,
    password_hash: str,
    role: str,
    real_name: str | None = None,
) -> Person:
    """Insert a new account; raises UsernameTaken rather than a database error."""
    try:
        async with conn.begin_nested():
            result = await conn.execute(
                insert(users)
                .values(
                    username=username,
                    display_name=display_name,
                    password_hash=password_hash,
                    role=role,
                    created_at=utcnow(),
                    real_name=real_name,
                )
                .returning(users.c.id)
            )
    except IntegrityError:
        raise UsernameTaken(username) from None
    return Person(id=result.scalar_one(), username=username, display_name=display_name, role=role, real_name=real_name)


async def credentials(conn: AsyncConnection, username: str) -> tuple[Person, str] | None:
    """The person and their password hash, for login only."""
    row = (await conn.execute(select(users).where(users.c.username == username))).first()
    return None if row is None else (_person(row), row.password_hash)


async def password_hash_of(conn: AsyncConnection, user_id: int) -> str | None:
    """A person's password hash, to check their current password before changing it."""
    found: str | None = (await conn.execute(select(users.c.password_hash).where(users.c.id == user_id))).scalar()
    return found


async def set_password(conn: AsyncConnection, user_id: int, password_hash: str) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


async def by_username(conn: AsyncConnection, username: str) -> Person | None:
    row = (await conn.execute(select(users).where(users.c.username == username))).first()
    return None if row is None else _person(row)


async def by_id(conn: AsyncConnection, user_id: int) -> Person | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
    return None if row is None else _person(row)


async def by_ids(conn: AsyncConnection, user_ids: Iterable[int]) -> dict[int, Person]:
    """The people with these ids, by id (one query; an unknown id is simply absent)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    return {row.id: _person(row) for row in await conn.execute(select(users).where(users.c.id.in_(wanted)))}
