"""Programs with the six kinds of people authorisation tables need, built through the store.

admin (the service), staff of the program, staff of another program, an active participant,
an alumnus and a withdrawn participant; plus helpers to enroll fresh people to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from server.store import enrollments, programs
from server.store.database import Database
from tests.support.seed import Account, create_user

ACTORS = ("admin", "staff_here", "staff_elsewhere", "participant", "alumnus", "withdrawn")


@dataclass(frozen=True)
class ProgramCast:
    program: int
    cohort: int
    cohort_room: int
    other_program: int
    admin: Account
    staff_here: Account
    staff_elsewhere: Account
    participant: Account
    alumnus: Account
    withdrawn: Account

    def actor(self, name: str) -> Account:
        assert name in ACTORS, name
        account: Account = getattr(self, name)
        return account


async def enroll(
    db: Database, username: str, program: int, cohort: int | None, role: str = "participant", status: str = "active"
) -> Account:
    """A new account enrolled in the program (then moved to ``status`` the way staff would)."""
    account = await create_user(db, username, "staff" if role == "staff" else "participant")
    async with db.write() as conn:
        await enrollments.enroll(conn, person=account.person, program_id=program, cohort_id=cohort, role=role, by=None)
        if status != "active":
            await enrollments.set_status(
                conn, person=account.person, program_id=program, to_status=status, by=None, reason="set-up"
            )
    return account


async def new_cohort(db: Database, program: int, name: str) -> tuple[int, int]:
    """A cohort of the program and its room's id."""
    async with db.write() as conn:
        cohort, _ = await programs.create_cohort(
            conn, program_id=program, name=name, starts_on=date(2026, 1, 5), ends_on=None
        )
    assert cohort.room_id is not None
    return cohort.id, cohort.room_id


async def create_program_cast(db: Database) -> ProgramCast:
    admin = await create_user(db, "admin", "admin", "Admin")
    async with db.write() as conn:
        here = await programs.create_program(conn, name="Evening IOP", creator=admin.person)
        elsewhere = await programs.create_program(conn, name="Morning IOP", creator=admin.person)
    staff_here = await enroll(db, "kim", here.id, None, role="staff")
    staff_elsewhere = await enroll(db, "lee", elsewhere.id, None, role="staff")
    cohort, cohort_room = await new_cohort(db, here.id, "Spring")
    return ProgramCast(
        program=here.id,
        cohort=cohort,
        cohort_room=cohort_room,
        other_program=elsewhere.id,
        admin=admin,
        staff_here=staff_here,
        staff_elsewhere=staff_elsewhere,
        participant=await enroll(db, "pat", here.id, cohort),
        alumnus=await enroll(db, "alum", here.id, cohort, status="alumni"),
        withdrawn=await enroll(db, "wes", here.id, cohort, status="withdrawn"),
    )
