"""Create the accounts and rooms the benchmark workloads need, through the server's own store API.

Usage (the database must already be migrated: ``python -m server migrate``)::

    DATABASE_URL=sqlite+aiosqlite:////tmp/x/bench.db \\
        .venv/bin/python bench/seed.py --users 500 --group w1:20:25 --group w5:100:1 --out manifest.json

One password is hashed once with ``server.auth.passwords.hash_password`` and that hash is
reused for every account, so seeding thousands of users takes seconds rather than minutes
of argon2. Every room is created by one staff account (``benchstaff``), which therefore is
the room's moderator; it never connects during a benchmark.

``--group NAME:ROOMS:MEMBERS`` makes ROOMS rooms of MEMBERS participants each. The members
of room ``r`` of a group are users ``r*MEMBERS .. r*MEMBERS+MEMBERS-1`` (modulo ``--users``),
so groups reuse the same pool of people.

With ``--mint-sessions`` a session is also opened for every user (``server.store.sessions``)
and signed with the server's own ``Signers`` (``SECRET_KEYS`` must be the server's), which
is what ``POST /api/auth/login`` does minus argon2 verification. The default is to leave
logging in to the load generator (``loadgen.py login``), over HTTP.

The manifest (JSON) lists every user (index, id, username) and, per group, each room's id
and the user indexes of its members; the load generator reads it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-not-secret"
STAFF = "benchstaff"
BATCH = 200  # rows per write transaction


def username(index: int) -> str:
    return f"bench{index:05d}"


def parse_group(text: str) -> tuple[str, int, int]:
    try:
        name, rooms, members = text.split(":")
        return name, int(rooms), int(members)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--group wants NAME:ROOMS:MEMBERS, not {text!r}") from None


async def seed(
    database_url: str,
    n_users: int,
    groups: list[tuple[str, int, int]],
    *,
    mint_sessions: bool = False,
    secret_keys: tuple[str, ...] = (),
    session_max_age: int = 14 * 24 * 3600,
) -> dict:
    from server.auth.passwords import hash_password
    from server.store import rooms as room_store
    from server.store import sessions as session_store
    from server.store import users as user_store
    from server.store.database import Database

    started = time.perf_counter()
    db = Database(database_url)
    try:
        password_hash = await hash_password(PASSWORD)
        async with db.write() as conn:
            staff = await user_store.create_user(
                conn, username=STAFF, display_name="Bench staff", password_hash=password_hash, role="staff"
            )
        people = []
        for start in range(0, n_users, BATCH):
            async with db.write() as conn:
                for index in range(start, min(n_users, start + BATCH)):
                    people.append(
                        await user_store.create_user(
                            conn,
                            username=username(index),
                            display_name=f"Bench {index}",
                            password_hash=password_hash,
                            role="participant",
                        )
                    )
        manifest: dict = {
            "password": PASSWORD,
            "users": [{"index": i, "id": p.id, "username": p.username} for i, p in enumerate(people)],
            "groups": {},
        }
        for name, n_rooms, members in groups:
            rooms = []
            for r in range(n_rooms):
                member_indexes = [(r * members + j) % n_users for j in range(members)]
                async with db.write() as conn:
                    room_id = await room_store.create(conn, name=f"{name} room {r}", kind="group", creator=staff)
                    for index in member_indexes:
                        await room_store.set_member(conn, room_id=room_id, person=people[index], role="member")
                rooms.append({"id": room_id, "members": member_indexes})
            manifest["groups"][name] = rooms
        if mint_sessions:
            from server.auth.tokens import Signers

            if not secret_keys:
                raise SystemExit("--mint-sessions needs SECRET_KEYS (the server's) in the environment")
            signers = Signers(secret_keys)
            for start in range(0, n_users, BATCH):
                async with db.write() as conn:
                    for index in range(start, min(n_users, start + BATCH)):
                        session_id = await session_store.create(conn, people[index].id, session_max_age)
                        manifest["users"][index]["token"] = signers.session.sign(session_id)
        manifest["seed_seconds"] = round(time.perf_counter() - started, 3)
        return manifest
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--group", type=parse_group, action="append", default=[])
    parser.add_argument("--mint-sessions", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or --database-url")
    from server.settings import normalise_database_url

    keys = tuple(k.strip() for k in os.environ.get("SECRET_KEYS", "").split(",") if k.strip())
    manifest = asyncio.run(
        seed(
            normalise_database_url(args.database_url),
            args.users,
            args.group,
            mint_sessions=args.mint_sessions,
            secret_keys=keys,
        )
    )
    args.out.write_text(json.dumps(manifest))
    rooms = sum(len(r) for r in manifest["groups"].values())
    print(f"seeded {args.users} users and {rooms} rooms in {manifest['seed_seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
