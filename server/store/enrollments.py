"""Enrollments: a person's place in a program, its status history, and the rooms it opens.

Invariants:
- Status changes are appended to ``enrollment_transitions`` (who, when, why), never
  overwritten; ``enrollments.status`` is only the latest of them.
- After any change, the person's memberships in the program's rooms are exactly what
  ``server.rules.roster.room_role`` says; every membership change is a stored room event.
  The caller publishes the returned frames and removes live sockets from
  the ``Change.removed`` rooms after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.rules.roster import room_role, transition_allowed
from server.store import rooms as room_store
from server.store.database import utcnow
from server.store.models import Enrollment, EnrollmentTransition, Membership, Room, User
from server.store.programs import get_program
from server.store.queue import approvals_needed
from server.store.users import Person, _person

enrollments = Enrollment.__table__  # type: ignore[attr-defined]
transitions = EnrollmentTransition.__table__  # type: ignore[attr-defined]
memberships = Membership.__table__  # type: ignore[attr-defined]
rooms = Room.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]


class AlreadyEnrolled(Exception):
    """The person has an enrollment in this program already."""


class TransitionRefused(Exception):
    """The enrollment cannot move from its status to the one asked for."""


@dataclass(frozen=True)
class Standing:
    """A person's enrollment in one program."""

    enrollment_id: int
    user_id: int
    program_id: int
    cohort_id: int | None
    role: str
    status: str
    invite_id: str | None = None  # the invite they registered with (never in ``public``: staff list invites themselves)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.enrollment_id,
            "user": self.user_id,
            "program": self.program_id,
            "cohort": self.cohort_id,
            "role": self.role,
            "status": self.status,
        }


@dataclass
class Change:
    """What a lifecycle step did: stored frames to publish, (person, room) access that ended."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    removed: list[tuple[int, int]] = field(default_factory=list)
    standing: Standing | None = None

    def merge(self, other: Change) -> None:
        self.frames.extend(other.frames)
        self.removed.extend(other.removed)
        if other.standing is not None:
            self.standing = other.standing


def _standing(row: Any) -> Standing:
    return Standing(
        enrollment_id=row.id,
        user_id=row.user_id,
        program_id=row.program_id,
        cohort_id=row.cohort_id,
        role=row.role,
        status=row.status,
        invite_id=row.invite_id,
    )


async def standing(conn: AsyncConnection, user_id: int, program_id: int) -> Standing | None:
    row = (
        await conn.execute(
            select(enrollments).where(enrollments.c.user_id == user_id, enrollments.c.program_id == program_id)
        )
    ).first()
    return None if row is None else _standing(row)


async def standings_of(conn: AsyncConnection, user_id: int) -> list[Standing]:
    rows = await conn.execute(select(enrollments).where(enrollments.c.user_id == user_id).order_by(enrollments.c.id))
    return [_standing(row) for row in rows]


async def enroll(
    conn: AsyncConnection,
    *,
    person: Person,
    program_id: int,
    cohort_id: int | None,
    role: str,
    by: int | None,
    reason: str | None = None,
    invite_id: str | None = None,
) -> Change:
    """Enroll someone (active) and give them the program's rooms the roster says; ``invite_id``
    is the invite they registered with, kept so a ban can withdraw it (``store.moderation.ban``)."""
    if await standing(conn, person.id, program_id) is not None:
        raise AlreadyEnrolled(person.username)
    result = await conn.execute(
        insert(enrollments)
        .values(
            user_id=person.id,
            program_id=program_id,
            cohort_id=cohort_id,
            role=role,
            status="active",
            created_at=utcnow(),
            invite_id=invite_id,
        )
        .returning(enrollments.c.id)
    )
    enrollment_id: int = result.scalar_one()
    await _record(conn, enrollment_id, None, "active", by, reason)
    return await sync_memberships(conn, person, program_id)


async def set_status(
    conn: AsyncConnection,
    *,
    person: Person,
    program_id: int,
    to_status: str,
    by: int | None,
    reason: str | None,
    lifting_ban: bool = False,
) -> Change:
    """Graduate, withdraw, readmit, ban or lift a ban: record the move, then make memberships follow."""
    current = await standing(conn, person.id, program_id)
    if current is None:
        raise TransitionRefused("not enrolled in this program")
    if not transition_allowed(current.role, current.status, to_status, lifting_ban):
        raise TransitionRefused(f"cannot go from {current.status} to {to_status}")
    # conditional, so two staff moving the same person at once record one move, not two
    moved = await conn.execute(
        update(enrollments)
        .where(enrollments.c.id == current.enrollment_id, enrollments.c.status == current.status)
        .values(status=to_status)
    )
    if moved.rowcount != 1:
        raise TransitionRefused(f"the enrollment changed meanwhile (it was {current.status})")
    await _record(conn, current.enrollment_id, current.status, to_status, by, reason)
    return await sync_memberships(conn, person, program_id)


async def _record(
    conn: AsyncConnection,
    enrollment_id: int,
    from_status: str | None,
    to_status: str,
    by: int | None,
    reason: str | None,
) -> None:
    await conn.execute(
        insert(transitions).values(
            enrollment_id=enrollment_id,
            from_status=from_status,
            to_status=to_status,
            by_user_id=by,
            reason=reason,
            at=utcnow(),
        )
    )


async def history_of(conn: AsyncConnection, enrollment_id: int) -> list[dict[str, Any]]:
    """Every status the enrollment entered, oldest first."""
    rows = await conn.execute(
        select(transitions).where(transitions.c.enrollment_id == enrollment_id).order_by(transitions.c.id)
    )
    return [
        {
            "from": row.from_status,
            "to": row.to_status,
            "by": row.by_user_id,
            "reason": row.reason,
            "at": row.at.isoformat() if hasattr(row.at, "isoformat") else str(row.at),
        }
        for row in rows
    ]


async def sync_memberships(conn: AsyncConnection, person: Person, program_id: int) -> Change:
    """Make the person's memberships in every room of the program match the roster rules."""
    change = Change()
    current = await standing(conn, person.id, program_id)
    change.standing = current
    options = await get_program(conn, program_id)
    held = {
        row.room_id: row.role
        for row in await conn.execute(
            select(memberships.c.room_id, memberships.c.role)
            .join(rooms, rooms.c.id == memberships.c.room_id)
            .where(memberships.c.user_id == person.id, rooms.c.program_id == program_id)
        )
    }
    program_rooms = await conn.execute(
        select(rooms.c.id, rooms.c.kind, rooms.c.cohort_id, rooms.c.subject_id)
        .where(rooms.c.program_id == program_id)
        .order_by(rooms.c.id)
    )
    kept_out = await room_store.removed_from(conn, person.id)
    joined: list[int] = []
    for room in program_rooms:
        wanted = (
            None
            if current is None
            else room_role(
                room_kind=room.kind,
                room_cohort=room.cohort_id,
                program_role=current.role,
                status=current.status,
                person_cohort=current.cohort_id,
                alumni_post_in_cohort=bool(options and options.alumni_post_in_cohort),
                is_subject=room.subject_id == person.id,
                current=held.get(room.id),
                removed=room.id in kept_out,
            )
        )
        have = held.get(room.id)
        if wanted == have:
            continue
        if wanted is None:
            frame = await room_store.remove_member(conn, room_id=room.id, person=person, reason="enrollment")
            change.removed.append((person.id, room.id))
        else:
            frame = await room_store.set_member(conn, room_id=room.id, person=person, role=wanted)
            if have is None:
                joined.append(room.id)
        if frame is not None:
            change.frames.append(frame)
    if joined and current is not None and current.role == "participant":
        await _hold_first_posts(conn, person.id, program_id, joined)
    return change


async def _hold_first_posts(conn: AsyncConnection, user_id: int, program_id: int, room_ids: list[int]) -> None:
    """A new participant's memberships start untrusted (their posts held) while the program
    holds first posts and they have had fewer approved than it asks."""
    if await approvals_needed(conn, program_id, user_id):
        await conn.execute(
            update(memberships)
            .where(memberships.c.user_id == user_id, memberships.c.room_id.in_(room_ids))
            .values(trusted=False)
        )


async def people_of(
    conn: AsyncConnection, program_id: int, cohort_id: int | None = None
) -> list[tuple[Person, Standing]]:
    """The program's roster (optionally one cohort), for staff views and cohort graduation."""
    query = (
        select(
            enrollments,
            users.c.username,
            users.c.display_name,
            users.c.role.label("global_role"),
            users.c.real_name,
        )
        .join(users, users.c.id == enrollments.c.user_id)
        .where(enrollments.c.program_id == program_id)
        .order_by(users.c.id)
    )
    if cohort_id is not None:
        query = query.where(enrollments.c.cohort_id == cohort_id)
    return [
        (
            Person(
                id=row.user_id,
                username=row.username,
                display_name=row.display_name,
                role=row.global_role,
                real_name=row.real_name,
            ),
            _standing(row),
        )
        for row in await conn.execute(query)
    ]


async def direct_room_of(conn: AsyncConnection, program_id: int, participant_id: int) -> int | None:
    """The participant's room with their counsellor in this program, if one was opened."""
    found = (
        await conn.execute(
            select(rooms.c.id).where(
                rooms.c.program_id == program_id, rooms.c.kind == "direct", rooms.c.subject_id == participant_id
            )
        )
    ).first()
    return None if found is None else int(found.id)


async def counsellor_of(conn: AsyncConnection, room_id: int) -> Person | None:
    """The moderator of a direct room: the participant's counsellor (None before assignment)."""
    row = (
        await conn.execute(
            select(users)
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.room_id == room_id, memberships.c.role == "moderator")
            .order_by(users.c.id)
        )
    ).first()
    return None if row is None else _person(row)


async def assign_counsellor(
    conn: AsyncConnection, *, program_id: int, participant: Person, counsellor: Person
) -> Change:
    """Open (or reuse) the participant's direct room with this counsellor as its moderator.

    A previous counsellor leaves the room; the history stays.
    """
    change = Change()
    room_id = await direct_room_of(conn, program_id, participant.id)
    if room_id is None:
        room_id = await room_store.create(
            conn,
            name=f"{participant.display_name} · counsellor",
            kind="direct",
            creator=None,
            program_id=program_id,
            subject_id=participant.id,
        )
    previous = await conn.execute(
        select(users)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.room_id == room_id, memberships.c.user_id != participant.id)
    )
    for row in list(previous):
        if row.id != counsellor.id:
            person = _person(row)
            frame = await room_store.remove_member(conn, room_id=room_id, person=person, reason="reassigned")
            if frame is not None:
                change.frames.append(frame)
            change.removed.append((person.id, room_id))
    frame = await room_store.set_member(conn, room_id=room_id, person=counsellor, role="moderator")
    if frame is not None:
        change.frames.append(frame)
    change.merge(await sync_memberships(conn, participant, program_id))
    return change
