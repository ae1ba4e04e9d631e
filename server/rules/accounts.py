"""What a username and a display name may be (pure; the CLI and registration use them)."""

from __future__ import annotations

import re
import unicodedata

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def username_problem(username: str) -> str | None:
    if not _USERNAME.fullmatch(username):
        return "username must be 3–32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


def display_name_problem(name: str) -> str | None:
    """Display names are shown to peers: printable, 1–64 characters, no control or bidi tricks."""
    if not name.strip():
        return "display name must not be blank"
    if len(name) > 64:
        return "display name must be at most 64 characters"
    for char in name:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn") and char != "\u200d":
            return "display name contains invisible or control characters"
    return None
