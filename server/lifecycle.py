"""Lifecycle steps (graduate, withdraw, readmit, assign a counsellor) and their live effects.

Invariants:
- Each step is one transaction; nothing goes live before it committed.
- Then, on every process: the stored membership events are published, sockets leave
  every room their person lost, each person whose rooms changed gets ``rooms_changed``
  (and ``enrollment`` when their status moved), and the sessions a withdrawal revoked are
  closed. The HTTP handlers and the command line share these functions, so both have the
  same effects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.hub import Hub
from server.protocol import ErrorCode
from server.store import audit
from server.store import enrollments as enrollment_store
from server.store import sessions as session_store
from server.store.database import Database
from server.store.enrollments import Change, Standing, TransitionRefused
from server.store.programs import get_cohort
from server.store.users import Person

MEMBER_EVENTS = frozenset({"member_added", "member_changed", "member_removed"})
ROOMS_CHANGED: dict[str, Any] = {"type": "rooms_changed"}
STEP_ACTIONS = {"alumni": "person.graduate", "withdrawn": "person.withdraw", "active": "person.readmit"}


class Refused(Exception):
    """The step cannot happen as asked; ``code`` says why in the protocol's terms."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def enrollment_frame(standing: Standing) -> dict[str, Any]:
    return {"type": "enrollment", "program": standing.program_id, "status": standing.status}


def people_touched(change: Change) -> list[int]:
    """Everyone whose memberships the change added, changed or removed, in first-seen order."""
    seen: dict[int, None] = {}
    for frame in change.frames:
        user = frame.get("user")
        if frame.get("type") in MEMBER_EVENTS and isinstance(user, dict) and isinstance(user.get("id"), int):
            seen[user["id"]] = None
    for user_id, _ in change.removed:
        seen[user_id] = None
    return list(seen)


def go_live(hub: Hub, change: Change, *, status_moved: bool, ended_sessions: Sequence[str] = ()) -> None:
    """Make a committed change visible on every process (see the module invariant)."""
    for frame in change.frames:
        hub.publish_stored(frame["room"], frame["seq"], frame)
    for user_id, room_id in change.removed:
        hub.remove_access(user_id, room_id)
    # a moderator who lost the role no longer counts as on duty there: re-read those rooms' state
    for room_id in {f["room"] for f in change.frames if f["type"] in ("member_changed", "member_removed")}:
        hub.states.changed(room_id)
    if status_moved and change.standing is not None:
        hub.notify_user(change.standing.user_id, enrollment_frame(change.standing))
    for user_id in people_touched(change):
        hub.notify_user(user_id, ROOMS_CHANGED)
    for session_id in ended_sessions:
        hub.end_session(session_id)


def _step_entry(
    by: int | None,
    from_status: str,
    to_status: str,
    program_id: int,
    user_id: int,
    reason: str | None,
    cohort_id: int | None = None,
) -> audit.Entry:
    """A status move on the trail (a whole cohort's graduation: one entry per person, naming the cohort)."""
    detail: dict[str, Any] = {"from": from_status, "to": to_status}
    if cohort_id is not None:
        detail["cohort"] = cohort_id
    return audit.Entry(
        by,
        STEP_ACTIONS.get(to_status, f"person.{to_status}"),
        program_id=program_id,
        target_user_id=user_id,
        reason=reason,
        detail=detail,
    )


async def change_status(
    db: Database, hub: Hub, *, person: Person, program_id: int, to_status: str, by: int | None, reason: str | None
) -> Change:
    """Graduate (alumni), withdraw or discharge (withdrawn), or readmit (active) one person.

    Withdrawal also revokes every session of the person in the same transaction: access
    ends at once, and they must sign in again to reach any other program they belong to.
    """
    ended: list[str] = []
    async with db.write() as conn:
        before = await enrollment_store.standing(conn, person.id, program_id)
        if before is None:
            raise Refused(ErrorCode.NOT_FOUND, "this person is not enrolled in the program")
        try:
            change = await enrollment_store.set_status(
                conn, person=person, program_id=program_id, to_status=to_status, by=by, reason=reason
            )
        except TransitionRefused as exc:
            raise Refused(ErrorCode.CONFLICT, str(exc)) from None
        await audit.record(conn, _step_entry(by, before.status, to_status, program_id, person.id, reason))
        if to_status == "withdrawn":
            ended = await session_store.revoke_all(conn, person.id)
    go_live(hub, change, status_moved=True, ended_sessions=ended)
    return change


async def graduate_cohort(
    db: Database, hub: Hub, *, cohort_id: int, by: int | None, reason: str | None
) -> list[tuple[Person, Change]]:
    """Graduate every active participant of a cohort in one transaction (all or none)."""
    done: list[tuple[Person, Change]] = []
    async with db.write() as conn:
        cohort = await get_cohort(conn, cohort_id)
        if cohort is None:
            raise Refused(ErrorCode.NOT_FOUND, "no such cohort")
        for person, standing in await enrollment_store.people_of(conn, cohort.program_id, cohort_id):
            if standing.role == "participant" and standing.status == "active":
                try:
                    change = await enrollment_store.set_status(
                        conn, person=person, program_id=cohort.program_id, to_status="alumni", by=by, reason=reason
                    )
                except TransitionRefused as exc:  # someone moved them meanwhile: nobody graduates, retry
                    raise Refused(ErrorCode.CONFLICT, f"{person.username}: {exc}") from None
                await audit.record(
                    conn, _step_entry(by, "active", "alumni", cohort.program_id, person.id, reason, cohort_id)
                )
                done.append((person, change))
    for _, change in done:
        go_live(hub, change, status_moved=True)
    return done


async def assign_counsellor(
    db: Database, hub: Hub, *, program_id: int, participant: Person, counsellor: Person, by: int | None
) -> tuple[int, Change]:
    """Make an active staff member of the program the participant's counsellor.

    Returns the direct room (created on first assignment, reused after) and the change.
    """
    async with db.write() as conn:
        whose = await enrollment_store.standing(conn, participant.id, program_id)
        if whose is None:
            raise Refused(ErrorCode.NOT_FOUND, "this person is not enrolled in the program")
        if whose.role != "participant":
            raise Refused(ErrorCode.CONFLICT, "only participants have a counsellor")
        if whose.status == "withdrawn":
            raise Refused(ErrorCode.CONFLICT, "this person is withdrawn from the program; readmit them first")
        theirs = await enrollment_store.standing(conn, counsellor.id, program_id)
        if theirs is None or theirs.role != "staff" or theirs.status != "active":
            raise Refused(
                ErrorCode.INVALID, f"{counsellor.username} is not active staff of this program", field="username"
            )
        change = await enrollment_store.assign_counsellor(
            conn, program_id=program_id, participant=participant, counsellor=counsellor
        )
        room_id = await enrollment_store.direct_room_of(conn, program_id, participant.id)
        await audit.record(
            conn,
            audit.Entry(
                by,
                "person.counsellor",
                program_id=program_id,
                room_id=room_id,
                target_user_id=participant.id,
                detail={"counsellor": counsellor.id},
            ),
        )
    assert room_id is not None  # assign_counsellor just made sure of it
    go_live(hub, change, status_moved=False)
    return room_id, change
