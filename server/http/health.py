"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.http.common import json, services_of


async def healthz(request: Request) -> Response:
    return json({"status": "ok"})


async def readyz(request: Request) -> Response:
    services = services_of(request)
    database = await services.db.ping()
    report = {"database": "ok" if database else "down"}
    ready = database
    if services.settings.redis_url:
        broker = await services.broker.ping()
        report["broker"] = "ok" if broker else "down"
        ready = ready and broker
    return json({"status": "ready" if ready else "not ready", **report}, 200 if ready else 503)


async def crisis_resources(request: Request) -> Response:
    """Public on purpose: someone in danger must not need to sign in to see where to get help."""
    resources = services_of(request).settings.crisis_resources
    return json(
        {"resources": [{"name": r.name, "contact": r.contact, "description": r.description} for r in resources]}
    )
