"""What erasing a message or an account leaves behind (pure; the store applies it).

A message is erased in place: its row, seq, author and client_id stay (so replies,
reactions and everyone's seqs keep working), its body becomes NULL, and its ``data``
says why (``removed``: ``moderator``, ``deleted`` — its writer deleted their account —
or ``expired`` — the program's retention period passed). A quote of it in a reply keeps
the reference but loses the text, and names "deleted user" when the writer is gone.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson

Reason = Literal["moderator", "deleted", "expired"]
REASONS: tuple[Reason, ...] = ("moderator", "deleted", "expired")
DELETED_NAME = "deleted user"
MAX_RETENTION_DAYS = 3650  # ten years: longer is "keep", said with null
ACCOUNT_ROLES = frozenset({"participant"})  # staff accounts are the program's record: an admin closes them


def retention_cutoff(now: datetime, retention_days: int | None) -> datetime | None:
    """Messages created before this instant are past retention; None: the program keeps everything."""
    if retention_days is None:
        return None
    return now - timedelta(days=retention_days)


def deleted_username(user_id: int) -> str:
    """The username a deleted account keeps: unique, and not one registration or login accepts
    (``rules.accounts`` usernames start with a letter or digit), so nobody can take it or sign in."""
    return f"~deleted-{user_id}"


def may_delete_own_account(role: str) -> bool:
    """Participants delete their own account; staff and admins act for the program, and their
    names on its records (audit trail, notes, warnings) are kept, so an admin closes those."""
    return role in ACCOUNT_ROLES


def erased_reason(data: str | None) -> Reason:
    """Why a message whose body is gone was erased: the reason its ``data`` keeps, else a
    moderator's removal (the only erasure that leaves no reason there)."""
    found = orjson.loads(data).get("removed") if data else None
    return next((reason for reason in REASONS if reason == found), "moderator")


def erased_data(data: str | None, reason: Reason) -> str:
    """The ``data`` an erased message keeps: the reply reference without the quoted text, and why."""
    kept: dict[str, Any] = {}
    if data:
        reply = orjson.loads(data).get("reply_to")
        if isinstance(reply, dict):
            kept["reply_to"] = {**reply, "excerpt": None}
    kept["removed"] = reason
    return orjson.dumps(kept).decode()


def quote_erased(data: str, targets: Collection[int], reason: Reason) -> str | None:
    """A reply's ``data`` once the message it quotes was erased (one of ``targets``); None when
    it quotes another. A quote of a deleted account's message also loses the writer's name."""
    parsed = orjson.loads(data)
    reply = parsed.get("reply_to")
    if not isinstance(reply, dict) or reply.get("seq") not in targets:
        return None
    reply["excerpt"] = None
    reply["removed"] = reason
    if reason == "deleted" and isinstance(reply.get("author"), dict):
        reply["author"] = {**reply["author"], "display_name": DELETED_NAME}
    return orjson.dumps(parsed).decode()
