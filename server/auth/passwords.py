"""argon2id password hashing; hashing runs in a thread so it never blocks the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Compared against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_LENGTH = 10
MAX_LENGTH = 256


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None (a rule, so tests call it directly)."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    if password.strip() == "":
        return "password must not be blank"
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-shape check: an unknown user costs the same as a wrong password."""

    def check() -> bool:
        try:
            return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
