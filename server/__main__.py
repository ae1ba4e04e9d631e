"""Command line: `python -m server serve | migrate | create-user | demo | retention`, and the operator's
program, cohort, invite and lifecycle commands (``server.commands``)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from server.settings import ConfigError, load_settings


def _read_password() -> str:
    password = os.environ.get("ALONGSIDE_PASSWORD")
    if password:
        return password
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


async def _create_user(url: str, username: str, role: str, display_name: str, password: str) -> int:
    from server.auth.passwords import hash_password
    from server.store import users
    from server.store.database import Database

    db = Database(url)
    try:
        async with db.write() as conn:
            person = await users.create_user(
                conn,
                username=username,
                display_name=display_name,
                password_hash=await hash_password(password),
                role=role,
            )
        return person.id
    finally:
        await db.dispose()


def create_user(args: argparse.Namespace) -> int:
    from server.auth.passwords import password_problem
    from server.rules.accounts import display_name_problem, normalise_username, username_problem
    from server.store.users import UsernameTaken

    settings = load_settings()
    username = normalise_username(args.username)
    display_name = (args.display_name or args.username).strip()
    password = _read_password()
    problem = username_problem(username) or display_name_problem(display_name) or password_problem(password)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if settings.is_sqlite:  # the embedded default: make the account step work before the first start
        from server.migrate import upgrade

        upgrade(settings.database_url)
    try:
        user_id = asyncio.run(_create_user(settings.database_url, username, args.role, display_name, password))
    except UsernameTaken:
        print(f"error: the username {username!r} is taken", file=sys.stderr)
        return 1
    print(f"created {args.role} {username!r} (id {user_id})")
    return 0


def migrate(args: argparse.Namespace) -> int:
    from server.migrate import upgrade

    upgrade(load_settings().database_url)
    print("database is up to date")
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.admission import HTTP_PROTOCOL
    from server.transport import SHUTDOWN_TIMEOUT, WS_PROTOCOL

    settings = load_settings()
    if settings.is_sqlite and not args.no_migrate:
        from server.migrate import upgrade

        upgrade(settings.database_url)
    uvicorn.run(
        "server.app:app",
        host=args.host,
        port=args.port,
        ws=WS_PROTOCOL,
        http=HTTP_PROTOCOL,
        ws_max_size=settings.limits.transport_max_bytes,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=SHUTDOWN_TIMEOUT,
        proxy_headers=True,
        log_level="warning",
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description="Alongside server")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="run the server (applies migrations first on SQLite)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--no-migrate", action="store_true", help="do not apply migrations at start")
    run.set_defaults(func=serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=migrate)

    user = commands.add_parser(
        "create-user", help="create an account; the password comes from $ALONGSIDE_PASSWORD or stdin"
    )
    user.add_argument("username")
    user.add_argument("--role", choices=("admin", "staff", "participant"), default="participant")
    user.add_argument("--display-name", help="the name peers see (defaults to the username)")
    user.set_defaults(func=create_user)

    from server import commands as operator_commands
    from server import demo, retention

    operator_commands.register(commands)
    demo.register(commands)
    retention.register(commands)

    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
