"""Programs, their cohorts, and the rooms that belong to them.

Invariant: a program's rooms follow its roster. Creating a room here gives it the people
the roster says (staff moderate; participants and alumni by room kind, see
``server.rules.roster``), each as a stored membership event; the caller publishes the
returned frames after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.rules.roster import room_role
from server.store import rooms as room_store
from server.store.database import utcnow
from server.store.models import Cohort, Enrollment, Program, Room, User
from server.store.users import Person, _person

programs = Program.__table__  # type: ignore[attr-defined]
cohorts = Cohort.__table__  # type: ignore[attr-defined]
enrollments = Enrollment.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]

PROGRAM_ROOM_KINDS = ("topic", "alumni")


class NameTaken(Exception):
    """A program with that name exists already."""


@dataclass(frozen=True)
class ProgramInfo:
    id: int
    name: str
    alumni_post_in_cohort: bool
    hold_first_posts: int = 0  # a new participant's first N posts wait for review (0: off)
    retention_days: int | None = None  # message bodies older than this are erased (None: kept)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "alumni_post_in_cohort": self.alumni_post_in_cohort,
            "hold_first_posts": self.hold_first_posts,
            "retention_days": self.retention_days,
        }


@dataclass(frozen=True)
class CohortInfo:
    id: int
    program_id: int
    name: str
    starts_on: date
    ends_on: date | None
    deleted: bool
    room_id: int | None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "program": self.program_id,
            "name": self.name,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": None if self.ends_on is None else self.ends_on.isoformat(),
            "room": self.room_id,
        }


Frames = list[dict[str, Any]]


async def create_program(
    conn: AsyncConnection, *, name: str, creator: Person | None, alumni_post_in_cohort: bool = False
) -> ProgramInfo:
    """A new program; ``creator`` None is the operator at the command line."""
    try:
        async with conn.begin_nested():
            result = await conn.execute(
                insert(programs)
                .values(
                    name=name,
                    alumni_post_in_cohort=alumni_post_in_cohort,
                    created_by=None if creator is None else creator.id,
                    created_at=utcnow(),
                )
                .returning(programs.c.id)
            )
    except IntegrityError:
        raise NameTaken(name) from None
    return ProgramInfo(id=result.scalar_one(), name=name, alumni_post_in_cohort=alumni_post_in_cohort)


async def get_program(conn: AsyncConnection, program_id: int) -> ProgramInfo | None:
    row = (await conn.execute(select(programs).where(programs.c.id == program_id))).first()
    if row is None:
        return None
    return _program(row)


def _program(row: Any) -> ProgramInfo:
    return ProgramInfo(
        id=row.id,
        name=row.name,
        alumni_post_in_cohort=bool(row.alumni_post_in_cohort),
        hold_first_posts=row.hold_first_posts,
        retention_days=row.retention_days,
    )


async def all_programs(conn: AsyncConnection) -> list[ProgramInfo]:
    rows = await conn.execute(select(programs).order_by(programs.c.id))
    return [_program(row) for row in rows]


async def set_program_options(conn: AsyncConnection, program_id: int, **options: bool | int | None) -> None:
    """Change the options given (``alumni_post_in_cohort``, ``hold_first_posts``, ``retention_days``); the rest stay."""
    await conn.execute(update(programs).where(programs.c.id == program_id).values(**options))


async def create_cohort(
    conn: AsyncConnection, *, program_id: int, name: str, starts_on: date, ends_on: date | None
) -> tuple[CohortInfo, Frames]:
    """A cohort and its group room, moderated by the program's active staff."""
    result = await conn.execute(
        insert(cohorts)
        .values(program_id=program_id, name=name, starts_on=starts_on, ends_on=ends_on, created_at=utcnow())
        .returning(cohorts.c.id)
    )
    cohort_id: int = result.scalar_one()
    room_id, frames = await create_program_room(
        conn, program_id=program_id, name=name, kind="cohort", cohort_id=cohort_id
    )
    info = CohortInfo(
        id=cohort_id,
        program_id=program_id,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        deleted=False,
        room_id=room_id,
    )
    return info, frames


def _cohorts_with_rooms() -> Select[Any]:
    """Cohorts with the id of their group room (None if it is missing)."""
    room = rooms.c.id.label("room_id")
    return select(cohorts, room).outerjoin(rooms, (rooms.c.cohort_id == cohorts.c.id) & (rooms.c.kind == "cohort"))


def _cohort(row: Any) -> CohortInfo:
    return CohortInfo(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        deleted=row.deleted_at is not None,
        room_id=row.room_id,
    )


async def get_cohort(conn: AsyncConnection, cohort_id: int) -> CohortInfo | None:
    row = (await conn.execute(_cohorts_with_rooms().where(cohorts.c.id == cohort_id))).first()
    return None if row is None else _cohort(row)


async def cohorts_of(conn: AsyncConnection, program_id: int) -> list[CohortInfo]:
    """The program's cohorts that are not deleted, in one query."""
    rows = await conn.execute(
        _cohorts_with_rooms()
        .where(cohorts.c.program_id == program_id, cohorts.c.deleted_at.is_(None))
        .order_by(cohorts.c.id)
    )
    return [_cohort(row) for row in rows]


async def delete_cohort(conn: AsyncConnection, cohort_id: int) -> None:
    """Mark a cohort deleted: its invites stop working; its room and history stay for staff."""
    await conn.execute(update(cohorts).where(cohorts.c.id == cohort_id).values(deleted_at=utcnow()))


async def create_program_room(
    conn: AsyncConnection,
    *,
    program_id: int,
    name: str,
    kind: str,
    cohort_id: int | None = None,
    subject_id: int | None = None,
) -> tuple[int, Frames]:
    """A room of the program, with everyone the roster puts in it."""
    room_id = await room_store.create(
        conn, name=name, kind=kind, creator=None, program_id=program_id, cohort_id=cohort_id, subject_id=subject_id
    )
    if kind == "direct":  # a direct room has exactly its participant and counsellor, set by the caller
        return room_id, []
    options = await get_program(conn, program_id)
    rows = await conn.execute(
        select(users, enrollments.c.role.label("program_role"), enrollments.c.status, enrollments.c.cohort_id)
        .join(enrollments, enrollments.c.user_id == users.c.id)
        .where(enrollments.c.program_id == program_id)
        .order_by(users.c.id)
    )
    frames: Frames = []
    for row in rows:
        role = room_role(
            room_kind=kind,
            room_cohort=cohort_id,
            program_role=row.program_role,
            status=row.status,
            person_cohort=row.cohort_id,
            alumni_post_in_cohort=bool(options and options.alumni_post_in_cohort),
        )
        if role is not None:
            frame = await room_store.set_member(conn, room_id=room_id, person=_person(row), role=role)
            if frame is not None:
                frames.append(frame)
    return room_id, frames


async def rooms_of_program(conn: AsyncConnection, program_id: int) -> list[dict[str, Any]]:
    """Every room of a program (id, name, kind, cohort, subject), for the roster rules."""
    rows = await conn.execute(
        select(rooms.c.id, rooms.c.name, rooms.c.kind, rooms.c.cohort_id, rooms.c.subject_id)
        .where(rooms.c.program_id == program_id)
        .order_by(rooms.c.id)
    )
    return [{"id": r.id, "name": r.name, "kind": r.kind, "cohort": r.cohort_id, "subject": r.subject_id} for r in rows]
