"""The long-lived parts one process is made of, built once in the app's lifespan."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from dataclasses import dataclass, field

from server.auth.handshake_throttle import HandshakeThrottle
from server.auth.throttle import LoginThrottle
from server.auth.tokens import Signers
from server.broker import Broker
from server.hub import Hub
from server.ingest import Ingest
from server.memory import Trimmer, glibc_trim
from server.rules.limits import Bucket
from server.rules.login_throttle import LoginLimits
from server.settings import Settings
from server.store.database import Database


def new_process_id() -> str:
    """Unique per process and start, so a restarted process is never mistaken for the old one."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


@dataclass
class Services:
    settings: Settings
    db: Database
    broker: Broker
    hub: Hub
    ingest: Ingest
    signers: Signers
    process_id: str
    buckets: dict[int, Bucket] = field(default_factory=dict)
    login_throttle: LoginThrottle = field(init=False)
    handshakes: HandshakeThrottle = field(init=False)
    trimmer: Trimmer = field(init=False)
    # handshakes reading their session now (limits.sessions_read_at_once): see server.ws
    opening: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        limits = self.settings.limits
        self.login_throttle = LoginThrottle(
            LoginLimits(
                per_minute_account=limits.login_per_minute_account,
                burst_account=limits.login_burst_account,
                per_minute_address=limits.login_per_minute_address,
                burst_address=limits.login_burst_address,
            )
        )
        self.handshakes = HandshakeThrottle(limits.handshake)
        self.trimmer = Trimmer(limits.memory_trim_after, glibc_trim())
        self.opening = asyncio.Semaphore(limits.sessions_read_at_once)
