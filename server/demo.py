"""`python -m server demo`: a program to look around in right after `make run`.

Everything is made in one transaction through the same store functions as the service:
it all exists afterwards, or (the demo ran before, or a name is taken) nothing changed.
The people are new, so no open client can be missing anything; nothing is published.
"""

from __future__ import annotations

import argparse
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from server.auth.passwords import hash_password
from server.commands import CommandError, Operator, run
from server.store import enrollments, programs
from server.store import users as user_store
from server.store.events import NewMessage, append_messages
from server.store.users import Person

PROGRAM = "Evening IOP"


@dataclass(frozen=True)
class Figure:
    """One demo person: account, and their place in the program."""

    username: str
    display_name: str
    real_name: str
    global_role: str
    cohort: str | None  # "past" (graduated), "current", or None (staff and the admin)
    about: str


PEOPLE = (
    Figure("morgan", "Morgan", "Morgan Blake", "admin", None, "admin of the whole service"),
    Figure("dr.rivera", "Dr. Rivera", "Ana Rivera", "staff", None, "counsellor of Jordan, Casey and Taylor"),
    Figure("sam.okafor", "Sam (peer specialist)", "Sam Okafor", "staff", None, "peer specialist"),
    Figure("jordan", "Jordan", "Jordan Lee", "participant", "current", "current cohort"),
    Figure("casey", "Casey", "Casey Morgan", "participant", "current", "current cohort"),
    Figure("riley", "Riley", "Riley Chen", "participant", "current", "current cohort"),
    Figure("taylor", "Taylor", "Taylor Brooks", "participant", "past", "graduated cohort (alumni)"),
    Figure("quinn", "Quinn", "Quinn Patel", "participant", "past", "graduated cohort (alumni)"),
)
COUNSELLOR = "dr.rivera"
COUNSELLED = ("jordan", "casey", "taylor")

# (room, author, body): before graduation, in order
HISTORY = (
    ("past", "taylor", "Last group session today. Thank you all for the last twelve weeks."),
    ("past", "quinn", "Proud of every one of us. See you in the alumni room."),
    ("current", "dr.rivera", "Welcome, everyone. This room is for the days between sessions."),
    ("current", "jordan", "Hi all, glad to be here."),
    ("current", "casey", "Day 12 today. Tonight's session helped more than I expected."),
    ("current", "sam.okafor", "Reminder: on Thursday we do the values worksheet together."),
    ("Mindfulness", "sam.okafor", "Try four slow breaths before bed this week and tell us how it went."),
    ("Mindfulness", "riley", "It helped me fall asleep faster on Monday."),
    ("Nutrition", "dr.rivera", "Share a simple breakfast that works for you on busy mornings."),
    ("Nutrition", "casey", "Oatmeal with peanut butter, five minutes."),
    ("direct:jordan", "dr.rivera", "Hi Jordan, I'm your counsellor here. I reply during program hours."),
    ("direct:jordan", "jordan", "Thanks, good to know."),
)
# after graduation: alumni keep talking
ALUMNI_HISTORY = (
    ("Alumni", "taylor", "Three months out and still going. Coffee on Saturday, anyone?"),
    ("Alumni", "quinn", "Count me in."),
)


async def create_demo(conn: AsyncConnection, today: date, passwords: dict[str, str]) -> dict[str, int]:
    """Build the demo in the caller's transaction; returns the rooms by name."""
    try:
        program = await programs.create_program(conn, name=PROGRAM, creator=None)
    except programs.NameTaken:
        raise CommandError(f"the demo exists already (program {PROGRAM!r}); nothing was changed") from None
    people = await _accounts(conn, passwords)
    past_start, current_start = today - timedelta(weeks=24), today - timedelta(weeks=3)
    rooms: dict[str, int] = {}
    cohort_ids: dict[str, int] = {}
    for key, starts, ends in (
        ("past", past_start, past_start + timedelta(weeks=12)),
        ("current", current_start, current_start + timedelta(weeks=12)),
    ):
        cohort, _ = await programs.create_cohort(
            conn, program_id=program.id, name=f"{starts:%B} cohort", starts_on=starts, ends_on=ends
        )
        assert cohort.room_id is not None
        rooms[key], cohort_ids[key] = cohort.room_id, cohort.id
    for name, kind in (("Mindfulness", "topic"), ("Nutrition", "topic"), ("Alumni", "alumni")):
        rooms[name], _ = await programs.create_program_room(conn, program_id=program.id, name=name, kind=kind)
    for figure in PEOPLE:
        if figure.global_role != "admin":
            await enrollments.enroll(
                conn,
                person=people[figure.username],
                program_id=program.id,
                cohort_id=None if figure.cohort is None else cohort_ids[figure.cohort],
                role="staff" if figure.cohort is None else "participant",
                by=None,
            )
    for username in COUNSELLED:
        await enrollments.assign_counsellor(
            conn, program_id=program.id, participant=people[username], counsellor=people[COUNSELLOR]
        )
        room = await enrollments.direct_room_of(conn, program.id, people[username].id)
        assert room is not None
        rooms[f"direct:{username}"] = room
    await _say(conn, rooms, people, HISTORY)
    for figure in PEOPLE:
        if figure.cohort == "past":
            await enrollments.set_status(
                conn,
                person=people[figure.username],
                program_id=program.id,
                to_status="alumni",
                by=None,
                reason="completed the program",
            )
    await _say(conn, rooms, people, ALUMNI_HISTORY)
    return rooms


async def _accounts(conn: AsyncConnection, passwords: dict[str, str]) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for figure in PEOPLE:
        try:
            people[figure.username] = await user_store.create_user(
                conn,
                username=figure.username,
                display_name=figure.display_name,
                password_hash=await hash_password(passwords[figure.username]),
                role=figure.global_role,
                real_name=figure.real_name,
            )
        except user_store.UsernameTaken:
            raise CommandError(f"the username {figure.username!r} is taken; nothing was changed") from None
    return people


async def _say(
    conn: AsyncConnection, rooms: dict[str, int], people: dict[str, Person], lines: tuple[tuple[str, str, str], ...]
) -> None:
    batch = [
        NewMessage(
            room_id=rooms[room],
            author_id=people[author].id,
            author_name=people[author].display_name,
            body=body,
            client_id=str(uuid.uuid4()),
        )
        for room, author, body in lines
    ]
    posted = await conn.run_sync(append_messages, batch)
    refused = [p.refused for p in posted if p.seq is None]
    assert not refused, refused  # every author belongs to the room they speak in


def new_password() -> str:
    """Easy to type from a terminal: 16 letters and digits in four groups."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


async def demo(ops: Operator, args: argparse.Namespace) -> str:
    passwords = {figure.username: new_password() for figure in PEOPLE}
    async with ops.db.write() as conn:
        await create_demo(conn, date.today(), passwords)
    width = max(len(figure.username) for figure in PEOPLE)
    lines = [
        f"Created the demo program {PROGRAM!r}: two cohorts (one graduated), Mindfulness and Nutrition,",
        "an alumni room, a counsellor's direct rooms and some history. Sign in with any of these",
        "(the passwords are shown only now):",
        "",
        *(f"  {f.username:<{width}}  {passwords[f.username]}  {f.about}" for f in PEOPLE),
    ]
    return "\n".join(lines)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    made = commands.add_parser("demo", help="create a demo program with people and history (refuses a second time)")
    made.set_defaults(func=run(demo))
