"""Authorisation tables: the answer every kind of caller expects from one endpoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence

Expect = Callable[..., dict[str, int]]


def only_among(everyone: Sequence[str]) -> Expect:
    """``only(*allowed, ok=, refused=)`` for a table whose callers are ``everyone``."""

    def only(*allowed: str, ok: int = 200, refused: int = 403) -> dict[str, int]:
        """The answers when only ``allowed`` may do it (signed out: always 401)."""
        return {actor: ok if actor in allowed else refused for actor in everyone} | {"signed_out": 401}

    return only
