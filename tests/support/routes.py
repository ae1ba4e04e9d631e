"""The HTTP endpoints an application serves, read from the application itself, so tables keyed
by endpoint (the access table, the hostile bodies) fail when an endpoint is added without a row."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from server.app import Alongside


def starlette_of(app: Alongside) -> Starlette:
    """The Starlette application inside the ASGI entry point and its wrappers (each keeps ``.app``)."""
    inner: Any = app.http
    while not isinstance(inner, Starlette):
        inner = inner.app
    return inner


def app_routes(app: Alongside) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, read from the app itself (HEAD goes with GET)."""
    found: set[tuple[str, str]] = set()
    for route in starlette_of(app).routes:
        if isinstance(route, Route):
            found |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
        elif isinstance(route, Mount):
            found.add(("GET", route.path + "/{path}"))
        else:  # pragma: no cover - a new kind of route needs a thought here
            raise AssertionError(f"unknown route type {route!r}")
    return found
