"""What a new connection goes through before the app: an upgrade the app refuses early is answered here.

Most of a flood's reconnects are refused before the upgrade (HTTP 429: a session past its
strikes, a forged token from an address past its failures; 403: a foreign Origin), and each
cost the loop about 0.33 ms of the rooms' time once upgraded and routed (bench/flood.py): a
WebSocket protocol object, the request parsed again by websockets, an ASGI task, Starlette's
WebSocket and response objects. The app offers that decision in its lifespan state
(``EARLY_REFUSAL``: ``server.ws.early_refusal``, charging nothing), and this protocol asks it
as soon as the upgrade request's headers are in, then writes the answer itself: 0.14 ms. What
it does not refuse goes on to the app unchanged, which decides (and charges) as before.

(Pacing new connections a few per loop turn was tried and dropped: uvloop already accepts one
connection per loop turn, so a burst of them is interleaved with the open sockets' traffic.)

Run uvicorn with ``--http server.admission:AdmittedHttpProtocol`` (the Procfile does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

HTTP_PROTOCOL = "server.admission:AdmittedHttpProtocol"
EARLY_REFUSAL = "alongside.early_refusal"  # the lifespan state's key for the app's early decision
# (the upgrade request's headers, the peer's address) -> (status, headers, body) to answer, or None
EarlyRefusal = Callable[[Iterable[tuple[bytes, bytes]], str | None], tuple[int, dict[str, str], bytes] | None]

log = logging.getLogger("alongside.admission")


class AdmittedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering an upgrade the app refuses early itself."""

    def handle_websocket_upgrade(self) -> None:
        refuse: EarlyRefusal | None = self.app_state.get(EARLY_REFUSAL)
        denial = None
        if refuse is not None:
            try:
                denial = refuse(self.scope["headers"], self.client[0] if self.client else None)
            except Exception:  # the app decides on its own path, as if there were no early one
                log.exception("early refusal failed")
        if denial is None:
            super().handle_websocket_upgrade()
            # the transport now belongs to the WebSocket protocol; uvicorn keeps this one's
            # parser, whose callbacks hold this protocol: a cycle per socket for the collector
            self.parser = None  # type: ignore[assignment]
            return
        status, headers, body = denial
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:  # date, server: as uvicorn answers
            head += [name, b": ", value, b"\r\n"]
        for text_name, text_value in {
            **headers,
            "content-type": "application/json",
            "content-length": str(len(body)),
            "connection": "close",
        }.items():
            head += [text_name.encode("latin-1"), b": ", text_value.encode("latin-1"), b"\r\n"]
        self.transport.write(b"".join([*head, b"\r\n", body]))
        self.transport.close()
