"""Operator commands: programs, cohorts, invites and lifecycle steps from this machine's shell.

They act as the operator (admin-level; transitions record nobody as ``by``) through the
same store and ``server.lifecycle`` functions as the HTTP API.

Running servers and these commands: with ``REDIS_URL`` set, a command publishes what it
changed through the broker, so open clients see it live (membership events, kicks,
``enrollment``/``rooms_changed`` frames, closed sessions). Without Redis a command cannot
reach the server's in-process hub: the change is in the database, and open clients see it
at their next resync (the server's periodic pass, every ``SYNC_INTERVAL`` seconds, delivers
the stored events of rooms they follow and closes sockets of revoked sessions; the
``enrollment`` and ``rooms_changed`` notices are not sent, so a client shows a new room
after it next lists its rooms, e.g. on reconnect).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from server import lifecycle
from server.auth.tokens import Signers
from server.broker import open_broker
from server.hub import Hub
from server.protocol import MAX_ID
from server.rules.invites import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS, MAX_USES, target_problem
from server.services import new_process_id
from server.settings import Settings, load_settings
from server.store import audit, audit_entries
from server.store import invites as invite_store
from server.store import programs as program_store
from server.store import users as user_store
from server.store.database import Database, utcnow
from server.store.enrollments import Change
from server.store.users import Person


class CommandError(Exception):
    """The command cannot do what was asked; the message says why (nothing was changed)."""


@dataclass(frozen=True)
class Operator:
    """What a command works with: the database, a hub that only publishes, and the signers."""

    db: Database
    hub: Hub
    signers: Signers


@asynccontextmanager
async def operator(settings: Settings) -> AsyncIterator[Operator]:
    """Open the database and a hub with no sockets; closing it flushes what it published."""
    if settings.is_sqlite:  # the embedded default: commands work before the first start
        from server.migrate import upgrade_async

        await upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    process_id = "cli-" + new_process_id()
    hub = Hub(db, open_broker(settings.redis_url, process_id), settings, process_id)
    await hub.start()
    try:
        yield Operator(db, hub, Signers(settings.secret_keys))
    finally:
        await hub.stop()
        await db.dispose()


Work = Callable[[Operator, argparse.Namespace], Awaitable[str]]


def run(work: Work) -> Callable[[argparse.Namespace], int]:
    """A command's entry point: 0 and its report on stdout, or 1 and why on stderr."""

    def command(args: argparse.Namespace) -> int:
        async def main() -> str:
            async with operator(load_settings()) as ops:
                return await work(ops, args)

        try:
            print(asyncio.run(main()))
        except (CommandError, lifecycle.Refused) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0

    return command


async def _person(ops: Operator, username: str) -> Person:
    async with ops.db.read() as conn:
        person = await user_store.by_username(conn, username.strip().lower())
    if person is None:
        raise CommandError(f"no user {username!r}")
    return person


async def program_create(ops: Operator, args: argparse.Namespace) -> str:
    try:
        async with ops.db.write() as conn:
            program = await program_store.create_program(
                conn, name=args.name.strip(), creator=None, alumni_post_in_cohort=args.alumni_post_in_cohort
            )
            await audit.record(conn, audit_entries.program_created(None, program.id))
    except program_store.NameTaken:
        raise CommandError(f"a program named {args.name!r} exists already") from None
    return f"created program {program.id} {program.name!r}"


async def cohort_create(ops: Operator, args: argparse.Namespace) -> str:
    if args.ends is not None and args.ends < args.starts:
        raise CommandError("--ends must not be before --starts")
    async with ops.db.write() as conn:
        if await program_store.get_program(conn, args.program) is None:
            raise CommandError(f"no program {args.program}")
        cohort, frames = await program_store.create_cohort(
            conn, program_id=args.program, name=args.name.strip(), starts_on=args.starts, ends_on=args.ends
        )
        await audit.record(conn, audit_entries.cohort_created(None, cohort))
    lifecycle.go_live(ops.hub, Change(frames=frames), status_moved=False)
    return f"created cohort {cohort.id} {cohort.name!r} (room {cohort.room_id})"


async def invite_create(ops: Operator, args: argparse.Namespace) -> str:
    async with ops.db.write() as conn:
        if await program_store.get_program(conn, args.program) is None:
            raise CommandError(f"no program {args.program}")
        cohort = None if args.cohort is None else await program_store.get_cohort(conn, args.cohort)
        problem = target_problem(
            args.role,
            args.program,
            None if cohort is None else cohort.program_id,
            cohort is not None and not cohort.deleted,
        )
        if problem is not None:
            raise CommandError(f"{problem} (--cohort)")
        invite = await invite_store.create(
            conn,
            program_id=args.program,
            cohort_id=args.cohort,
            role=args.role,
            real_name=(args.real_name or "").strip() or None,
            max_uses=args.uses,
            expires_at=utcnow() + timedelta(days=args.days),
            created_by=None,
        )
        await audit.record(conn, audit_entries.invite_created(None, invite))
    token = ops.signers.invite.sign(invite.id)
    return "\n".join(
        [
            f"invite {invite.id}: {invite.role}, {invite.max_uses} use(s), "
            f"expires {invite.expires_at:%Y-%m-%d %H:%M} UTC",
            f"token: {token}",
            f"link:  /#invite={token}   (after the server's address)",
        ]
    )


async def assign_counsellor(ops: Operator, args: argparse.Namespace) -> str:
    participant, counsellor = await _person(ops, args.participant), await _person(ops, args.counsellor)
    room_id, _ = await lifecycle.assign_counsellor(
        ops.db, ops.hub, program_id=args.program, participant=participant, counsellor=counsellor, by=None
    )
    return f"{counsellor.username} is {participant.username}'s counsellor (room {room_id})"


async def graduate(ops: Operator, args: argparse.Namespace) -> str:
    if (args.cohort is None) == (args.username is None):
        raise CommandError("name a person (with --program) or a --cohort")
    if args.cohort is not None:
        done = await lifecycle.graduate_cohort(ops.db, ops.hub, cohort_id=args.cohort, by=None, reason=args.reason)
        names = ", ".join(person.username for person, _ in done) or "nobody (no active participants)"
        return f"graduated {len(done)} from cohort {args.cohort}: {names}"
    return await _move(ops, args, "alumni")


async def withdraw(ops: Operator, args: argparse.Namespace) -> str:
    return await _move(ops, args, "withdrawn")


async def readmit(ops: Operator, args: argparse.Namespace) -> str:
    return await _move(ops, args, "active")


async def _move(ops: Operator, args: argparse.Namespace, to_status: str) -> str:
    if args.program is None:
        raise CommandError("--program is required")
    person = await _person(ops, args.username)
    await lifecycle.change_status(
        ops.db, ops.hub, person=person, program_id=args.program, to_status=to_status, by=None, reason=args.reason
    )
    return f"{person.username} is now {to_status} in program {args.program}"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-02") from None


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}")
        return int(text)

    return parse


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the operator commands to ``python -m server``."""
    ids = _bounded(1, MAX_ID)

    program = commands.add_parser("program", help="programs").add_subparsers(dest="action", required=True)
    made = program.add_parser("create", help="create a program")
    made.add_argument("name")
    made.add_argument("--alumni-post-in-cohort", action="store_true", help="alumni keep posting in their cohort room")
    made.set_defaults(func=run(program_create))

    cohort = commands.add_parser("cohort", help="cohorts").add_subparsers(dest="action", required=True)
    made = cohort.add_parser("create", help="create a cohort and its room")
    made.add_argument("name")
    made.add_argument("--program", type=ids, required=True)
    made.add_argument("--starts", type=_day, required=True, metavar="YYYY-MM-DD")
    made.add_argument("--ends", type=_day, metavar="YYYY-MM-DD")
    made.set_defaults(func=run(cohort_create))

    invite = commands.add_parser("invite", help="invite links").add_subparsers(dest="action", required=True)
    made = invite.add_parser("create", help="create an invite; prints its token and link")
    made.add_argument("--program", type=ids, required=True)
    made.add_argument("--cohort", type=ids, help="needed for participant invites")
    made.add_argument("--role", choices=("participant", "staff"), default="participant")
    made.add_argument("--uses", type=_bounded(1, MAX_USES), default=1)
    made.add_argument("--days", type=_bounded(1, MAX_EXPIRY_DAYS), default=DEFAULT_EXPIRY_DAYS)
    made.add_argument("--real-name", help="who it is for, as staff know them")
    made.set_defaults(func=run(invite_create))

    assign = commands.add_parser("assign-counsellor", help="make a staff member a participant's counsellor")
    assign.add_argument("participant", help="username")
    assign.add_argument("counsellor", help="username of active staff of the program")
    assign.add_argument("--program", type=ids, required=True)
    assign.set_defaults(func=run(assign_counsellor))

    for name, work, what in (
        ("graduate", graduate, "graduate a person (USERNAME --program ID) or a whole --cohort"),
        ("withdraw", withdraw, "withdraw or discharge a person: their access ends at once"),
        ("readmit", readmit, "readmit a withdrawn person"),
    ):
        step = commands.add_parser(name, help=what)
        step.add_argument("username", nargs="?" if name == "graduate" else None)
        step.add_argument("--program", type=ids, required=name != "graduate")
        if name == "graduate":
            step.add_argument("--cohort", type=ids)
        step.add_argument("--reason", required=name == "withdraw")
        step.set_defaults(func=run(work))
