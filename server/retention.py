"""`python -m server retention [--every SECONDS]`: apply the programs' retention periods.

Once by default (for cron or by hand); with ``--every`` it runs again after each pause and
is the Procfile's ``retention`` process. Any number of runs, even at once, erase each
expired message once (``server.store.retention``); it needs only the database, no Redis,
in either configuration: the ``redacted`` events it stores reach open pages through the web
processes' periodic pass. It deliberately opens no hub (``server.commands.operator``): a
long-lived hub's pass would also escalate crisis alerts, and without Redis tell no one.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from server.settings import load_settings
from server.store.database import Database, StoreUnavailable, utcnow
from server.store.retention import Report, run_once

log = logging.getLogger("alongside.retention")


def describe(report: Report) -> str:
    """One line for the operator (counts only: never text)."""
    per_program = ", ".join(f"program {program}: {count}" for program, count in sorted(report.messages.items()))
    return (
        f"retention: erased {report.total} messages"
        + (f" ({per_program})" if per_program else "")
        + (f", {report.held} held" if report.held else "")
    )


async def _run(every: float | None) -> None:
    settings = load_settings()
    if settings.is_sqlite:  # the embedded default: works before the first start, as the other commands
        from server.migrate import upgrade_async

        await upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    try:
        while True:
            try:
                print(describe(await run_once(db, utcnow())), flush=True)
            except StoreUnavailable:
                if every is None:
                    raise
                log.warning("retention: the database is unavailable; trying again in %s s", every)
            if every is None:
                return
            await asyncio.sleep(every)
    finally:
        await db.dispose()


def retention(args: argparse.Namespace) -> int:
    try:
        asyncio.run(_run(args.every))
    except StoreUnavailable:
        print("error: the database is unavailable", flush=True)
        return 1
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "retention", help="erase message bodies older than each program's retention_days (once, or --every N s)"
    )
    command.add_argument("--every", type=float, default=None, metavar="SECONDS", help="run again after each pause")
    command.set_defaults(func=retention)
