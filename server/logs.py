"""Structured logs: one JSON object a line, each naming the request or connection it was
written for.

Invariant: message bodies, passwords, tokens, cookies and query strings are never logged;
callers log ids and codes only. The request or connection being handled lives in a
context variable (``bind``), so every record written while handling it — in this module's
callers, in the store, in uvicorn's own loggers — carries its id without being passed it.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from contextvars import ContextVar
from typing import Any

import orjson

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class LogContext:
    """What every record written while handling one request or socket says about it (small:
    one of these lives as long as each open WebSocket)."""

    __slots__ = ("conn_id", "request_id", "user_id")

    def __init__(self, request_id: str | None = None, conn_id: str | None = None) -> None:
        self.request_id = request_id
        self.conn_id = conn_id
        self.user_id: int | None = None


_current: ContextVar[LogContext | None] = ContextVar("alongside_log_context", default=None)


def bind(context: LogContext) -> None:
    """Name the request or connection this task is handling (a task's context dies with it)."""
    _current.set(context)


def note_user(user_id: int) -> None:
    """The person behind the request or connection being handled, once the session is known."""
    context = _current.get()
    if context is not None:
        context.user_id = user_id


def new_id() -> str:
    return secrets.token_hex(8)


def request_id_from(presented: str | None) -> str:
    """An incoming ``X-Request-ID`` (from a proxy) when well-formed, else a new id: only short
    ids of safe characters reach the logs, so a header cannot forge or break a line."""
    if presented is not None and _REQUEST_ID.fullmatch(presented):
        return presented
    return new_id()


class ContextFilter(logging.Filter):
    """Copies the current request or connection onto each record as it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        if context is not None:
            record.request_id = context.request_id
            record.conn_id = context.conn_id
            record.user_id = context.user_id
        return True


class JsonFormatter(logging.Formatter):
    """``fields`` (``log.info(..., extra={"fields": {...}})``) become keys of the line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, name in (("request_id", "request_id"), ("conn_id", "conn"), ("user_id", "user")):
            value = getattr(record, key, None)
            if value is not None:
                entry[name] = value
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for our loggers and uvicorn's. uvicorn's access log is switched off:
    ``server.request_log`` writes one line per request instead, with the route's template in
    place of a path that may hold a token (an invite link) and without the query string."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger("alongside")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    uvicorn = logging.getLogger("uvicorn")
    uvicorn.handlers[:] = [handler]
    uvicorn.propagate = False
    for name in ("uvicorn.error", "uvicorn.asgi"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False
    access.disabled = True
