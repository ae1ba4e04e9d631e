"""Signed tokens with one itsdangerous salt per purpose, verifying with every configured key.

``SECRET_KEYS`` is newest first; itsdangerous signs with the *last* key of its list and
verifies with all, so the list is reversed here. A token signed for one purpose (session,
invite, export, csrf) never verifies for another because each has its own salt.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class Purpose(StrEnum):
    SESSION = "alongside.session"
    CSRF = "alongside.csrf"
    INVITE = "alongside.invite"
    EXPORT = "alongside.export"


class Signer:
    """Sign and verify small payloads for one purpose."""

    def __init__(self, secret_keys: tuple[str, ...], purpose: Purpose) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        self._serializer = URLSafeTimedSerializer(list(reversed(secret_keys)), salt=purpose.value)

    def sign(self, payload: Any) -> str:
        return self._serializer.dumps(payload)

    def verify(self, token: str, max_age: int | None = None) -> Any | None:
        """The payload, or None when the token is forged, for another purpose, or too old."""
        try:
            return self._serializer.loads(token, max_age=max_age)
        except (SignatureExpired, BadSignature):
            return None


class Signers:
    """The signers a process needs, built once from the settings."""

    def __init__(self, secret_keys: tuple[str, ...]) -> None:
        self.session = Signer(secret_keys, Purpose.SESSION)
        self.csrf = Signer(secret_keys, Purpose.CSRF)
        self.invite = Signer(secret_keys, Purpose.INVITE)
        self.export = Signer(secret_keys, Purpose.EXPORT)
