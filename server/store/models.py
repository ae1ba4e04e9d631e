"""Tables, defined once with SQLModel; Alembic migrations are written from these.

Invariant: every event that enters a room's history is a row of ``events`` with the
room's next ``seq``; ``rooms.last_seq`` is the counter that hands seqs out, updated in the
same transaction as the insert, so seqs are gap-free and strictly increasing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_ts())


class AuthSession(SQLModel, table=True):
    """A server-side session: the signed token names it, so it can be revoked."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Room(SQLModel, table=True):
    __tablename__ = "rooms"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_column=_ts())
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"

    room_id: int = Field(foreign_key="rooms.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)
    role: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_ts())


class Event(SQLModel, table=True):
    """One entry of a room's history: a message, a membership change, and later others."""

    __tablename__ = "events"
    # client_id leads so that "which of these client_ids are stored?" is one index lookup
    __table_args__ = (Index("uq_events_client", "client_id", "room_id", "author_id", unique=True),)

    room_id: int = Field(foreign_key="rooms.id", primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    type: str = Field(max_length=32)
    author_id: int | None = Field(default=None, foreign_key="users.id")
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    client_id: str | None = Field(default=None, max_length=36)
    data: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=_ts())
