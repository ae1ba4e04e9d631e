"""Pure checks on request headers: where a token comes from, Origin, and CSRF."""

from __future__ import annotations

from collections.abc import Mapping

SESSION_COOKIE = "alongside_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def bearer_token(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """A handshake with no Origin is not from a browser; one with an Origin must be listed."""
    if origin is None:
        return True
    return origin.rstrip("/") in {item.rstrip("/") for item in allowed}


def websocket_token(headers: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
    """Bearer from any client; the cookie only from a browser (a handshake with Origin).

    A non-browser client that presents only a cookie is refused: cookies are ambient
    credentials, and a missing Origin would let a cross-site page go unchecked.
    """
    token = bearer_token(headers)
    if token is not None:
        return token
    if headers.get("origin") is None:
        return None
    return cookies.get(SESSION_COOKIE)
