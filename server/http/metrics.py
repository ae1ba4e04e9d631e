"""``GET /metrics``: this process's figures in the Prometheus text format, never public.

Who may read them: a request straight from this machine (loopback, relayed by no proxy),
or anyone presenting ``METRICS_TOKEN`` as a Bearer token. A request that carries a
forwarding header is treated as relayed even from loopback: a reverse proxy on the same
host would otherwise make every outside request look local (and with
``--forwarded-allow-ips '*'`` the client address itself comes from that header).
"""

from __future__ import annotations

import hmac
import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from server.auth.guards import bearer_token
from server.http.common import error_response, services_of
from server.protocol import ErrorCode

FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def metrics_allowed(client_host: str | None, relayed: bool, presented: str | None, token: str | None) -> bool:
    """A configured token from anywhere; otherwise only a direct request from loopback."""
    if token and presented is not None and hmac.compare_digest(presented.encode(), token.encode()):
        return True
    return not relayed and _loopback(client_host)


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address (a test client's name, a Unix socket)
        return False


async def metrics(request: Request) -> Response:
    services = services_of(request)
    headers = request.headers
    relayed = any(name in headers for name in FORWARDING_HEADERS)
    host = request.client.host if request.client else None
    if not metrics_allowed(host, relayed, bearer_token(headers), services.settings.metrics_token):
        return error_response(ErrorCode.FORBIDDEN, "metrics are readable from this machine or with METRICS_TOKEN")
    return Response(
        services.hub.metrics.render(), media_type=CONTENT_TYPE_LATEST, headers={"cache-control": "no-store"}
    )
