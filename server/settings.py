"""Typed settings, read once from the environment and `config/`.

This module is the only reader of ``os.environ``: everything else receives a frozen
``Settings`` so tests can build one by hand and nothing changes under a running process.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from server.rules.crisis import NO_DETECTION, Detector, compile_detector
from server.rules.handshake import HandshakeLimits
from server.rules.ladder import Policy

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
DEV_SECRET_FILE = ROOT / ".alongside-dev-secret"


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot be used as given."""


@dataclass(frozen=True)
class Limits:
    """Sizes and rates that protect the service from any one client."""

    max_body_chars: int = 4000
    max_frame_bytes: int = 65536
    # frames up to this size are read and answered `too_large`; larger ones end the socket (1009)
    # before they are buffered. Twice max_frame_bytes: a frame only a little too large is still
    # answered, while a flooder's megabytes are never held (bench/flood.py)
    transport_max_bytes: int = 131072
    rate_per_second: float = 5.0
    rate_burst: int = 20
    # refused frames (invalid, too large, rate-limited) a connection may send before it is
    # closed with 1008, refilled at this rate: a flooder's cost is bounded; clients never get near
    refused_per_second: float = 1.0
    refused_burst: int = 40
    typing_interval: float = 1.0
    outgoing_queue: int = 1024
    max_http_body: int = 65536
    history_page_max: int = 500
    login_per_minute_account: float = 5.0
    login_burst_account: int = 10
    login_per_minute_address: float = 30.0
    login_burst_address: int = 60
    # WebSocket handshakes (server.rules.handshake): failed authentications per client address,
    # within which a bad token is told `unauthorized` and closed 4001 (past it: HTTP 429)...
    handshake_failures_per_second: float = 5.0
    handshake_failures_burst: int = 50
    # ...and strikes (a socket closed 1008/1009, a revoked session) per session and per person,
    # past which their handshakes get HTTP 429 until a strike refills: no reconnecting in a loop
    handshake_strikes_per_minute: float = 6.0
    handshake_strikes_burst: int = 3
    # WebSocket handshakes reading their session at the same time; the others wait their turn, so
    # fifty sockets opening at once (a flood's reconnects, a reconnect storm after a process died)
    # take turns with the rooms' traffic instead of stalling it for tens of ms (bench/flood.py:
    # one at a time halved the p99 of the seconds flooders are let in again against four)
    sessions_read_at_once: int = 1
    # WebSocket upgrades started per turn of the event loop; the others wait for the next turn, so
    # a flood's first wave of connections (75 at once in bench/flood.py) is read between the rooms'
    # messages instead of holding the loop for 20-40 ms (server.admission)
    upgrades_per_turn: int = 1
    # ...and at most this many a second, in bursts of `upgrade_burst` (0: no rate). An accepted
    # handshake costs 1.1-1.9 ms of CPU: unpaced, a flood's first wave (about 150 sockets in a
    # quarter second) or a reconnect storm (500 at once) took the loop for that long, and the open
    # rooms' p99 in that second went from 4-7 ms to 13-27 ms (flood) and 74-159 ms (storm); at
    # 100 a second, 6-12 and 18-28 ms (bench/flood.py, bench/storm.py). A storm of N sockets takes
    # about N/rate seconds to open: raise it with faster cores, or spread clients over processes
    upgrades_per_second: float = 100.0
    upgrade_burst: int = 5
    # a handshake refused with HTTP 429 (throttled) is answered this many seconds late, its socket
    # not read meanwhile, so a client that reconnects at once whatever retry_after says comes back
    # at most this often per socket (server.admission.RefusalTarpit); 0: at once...
    refused_handshake_delay: float = 0.5
    # ...for at most this many sockets at once (each a file descriptor: a quarter of a 1024
    # `ulimit -n`); past them, refusals are answered at once
    refused_handshakes_held: int = 256
    # seconds without a refused handshake or a flooder's socket closed before the memory the flood
    # freed is given back to the system (glibc's malloc_trim; server.memory); 0: never
    memory_trim_after: float = 2.0

    def __post_init__(self) -> None:
        if self.sessions_read_at_once < 1:
            raise ConfigError("sessions_read_at_once must be at least 1: with none, no socket would ever open")
        if self.upgrades_per_turn < 1:
            raise ConfigError("upgrades_per_turn must be at least 1: with none, no socket would ever open")
        if self.upgrades_per_second < 0 or self.upgrade_burst < 1:
            raise ConfigError("upgrades_per_second cannot be negative and upgrade_burst must be at least 1")
        if self.refused_handshake_delay < 0 or self.refused_handshakes_held < 0:
            raise ConfigError("refused_handshake_delay and refused_handshakes_held cannot be negative")

    @property
    def handshake(self) -> HandshakeLimits:
        return HandshakeLimits(
            failures_per_second=self.handshake_failures_per_second,
            failures_burst=self.handshake_failures_burst,
            strikes_per_minute=self.handshake_strikes_per_minute,
            strikes_burst=self.handshake_strikes_burst,
        )


@dataclass(frozen=True)
class CrisisResource:
    """One place to get help now, shown to people who may be in danger."""

    name: str
    contact: str
    description: str


@dataclass(frozen=True)
class CrisisSettings:
    """Crisis detection (compiled once) and when an unacknowledged alert escalates."""

    detector: Detector = NO_DETECTION
    escalate_after_minutes: float = 5.0


@dataclass(frozen=True)
class PrivacySettings:
    """Exports: how long a download link lives, and the redisclosure notice every export carries."""

    export_link_minutes: float = 10.0
    notice_title: str = "Notice prohibiting redisclosure (42 CFR Part 2)"
    notice_text: str = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."


@dataclass(frozen=True)
class Settings:
    """Everything the process needs to know, fixed at start-up."""

    environment: str = "development"
    database_url: str = "sqlite+aiosqlite:///alongside.db"
    redis_url: str | None = None
    secret_keys: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8000", "http://localhost:8000")
    session_max_age: int = 14 * 24 * 3600
    sync_interval: float = 5.0
    presence_ttl: float = 30.0
    duty_hours: float = 4.0
    limits: Limits = field(default_factory=Limits)
    crisis_resources: tuple[CrisisResource, ...] = ()
    crisis: CrisisSettings = field(default_factory=CrisisSettings)
    ladder: Policy = field(default_factory=Policy)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    log_level: str = "INFO"
    metrics_token: str | None = None  # lets a scraper read /metrics from elsewhere than loopback

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests and commands use it)."""
        return replace(self, **changes)


def normalise_database_url(url: str) -> str:
    """Accept URLs as people write them and pick the async driver for each."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _positive(name: str, value: str | float) -> float:
    number = float(value)
    if not number > 0:
        raise ConfigError(f"{name} must be a positive number")
    return number


def _load_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _dev_secret() -> str:
    """A per-checkout development key, so sessions survive restarts without setup."""
    if DEV_SECRET_FILE.exists():
        return DEV_SECRET_FILE.read_text().strip()
    key = secrets.token_urlsafe(48)
    DEV_SECRET_FILE.write_text(key)
    DEV_SECRET_FILE.chmod(0o600)
    return key


def load_crisis_resources(config_dir: Path = CONFIG_DIR) -> tuple[CrisisResource, ...]:
    """Where to get help now, from `config/crisis.toml`, in the order it lists them."""
    crisis = _load_toml(config_dir / "crisis.toml")
    try:
        return tuple(
            CrisisResource(name=item["name"], contact=item["contact"], description=item.get("description", ""))
            for item in crisis.get("resources", [])
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"config/crisis.toml: every resource needs a name and a contact ({exc})") from exc


def load_ladder(config_dir: Path = CONFIG_DIR) -> Policy:
    """The warning ladder from `[ladder]` of `config/moderation.toml` (defaults where a key is left out)."""
    given = _load_toml(config_dir / "moderation.toml").get("ladder", {})
    unknown = set(given) - set(Policy.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown keys in [ladder] of config/moderation.toml: {sorted(unknown)}")
    try:
        policy = Policy(
            warning_hours=float(given.get("warning_hours", Policy.warning_hours)),
            warnings_to_mute=int(given.get("warnings_to_mute", Policy.warnings_to_mute)),
            mute_minutes=tuple(int(m) for m in given.get("mute_minutes", Policy.mute_minutes)),
            memory_days=float(given.get("memory_days", Policy.memory_days)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config/moderation.toml [ladder]: {exc}") from exc
    problem = policy.problem()
    if problem is not None:
        raise ConfigError(f"config/moderation.toml [ladder]: {problem}")
    return policy


def load_crisis_settings(config_dir: Path = CONFIG_DIR, escalate_after: str | None = None) -> CrisisSettings:
    """``[detection.<language>]`` and ``[alerts]`` of `config/crisis.toml`, compiled now;
    ``escalate_after`` (the environment's ``ESCALATE_AFTER_MINUTES``) overrides the config."""
    crisis = _load_toml(config_dir / "crisis.toml")
    try:
        detector = compile_detector(crisis.get("detection", {}))
        configured = crisis.get("alerts", {}).get("escalate_after_minutes", 5)
        minutes = _positive("escalate_after_minutes", configured if escalate_after is None else escalate_after)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"config/crisis.toml: {exc}") from exc
    return CrisisSettings(detector=detector, escalate_after_minutes=minutes)


def load_privacy(config_dir: Path = CONFIG_DIR, link_minutes: str | None = None) -> PrivacySettings:
    """`config/privacy.toml`: ``[export] link_minutes`` (``EXPORT_LINK_MINUTES`` overrides it) and
    the ``[notice]`` every export carries; an export without its notice must not start."""
    privacy = _load_toml(config_dir / "privacy.toml")
    notice = privacy.get("notice", {})
    try:
        configured = privacy.get("export", {}).get("link_minutes", PrivacySettings.export_link_minutes)
        minutes = _positive("link_minutes", configured if link_minutes is None else link_minutes)
        title = str(notice.get("title", PrivacySettings.notice_title)).strip()
        text = " ".join(str(notice.get("text", PrivacySettings.notice_text)).split())
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"config/privacy.toml: {exc}") from exc
    if not title or not text:
        raise ConfigError("config/privacy.toml: [notice] needs a title and a text")
    return PrivacySettings(export_link_minutes=minutes, notice_title=title, notice_text=text)


def load_settings(environ: Mapping[str, str] | None = None, config_dir: Path = CONFIG_DIR) -> Settings:
    """Read the environment and `config/` once; fail loudly on what cannot work."""
    env = os.environ if environ is None else environ
    config = _load_toml(config_dir / "alongside.toml")
    environment = env.get("ALONGSIDE_ENV", config.get("environment", "development"))
    if environment not in ("development", "test", "production"):
        raise ConfigError(f"ALONGSIDE_ENV must be development, test or production, not {environment!r}")

    keys = _split(env.get("SECRET_KEYS"))
    if not keys:
        if environment == "production":
            raise ConfigError("SECRET_KEYS must be set in production (comma-separated, newest first)")
        keys = (_dev_secret(),)
    if environment == "production" and any(len(key) < 32 for key in keys):
        raise ConfigError("every key in SECRET_KEYS must be at least 32 characters")

    limits_config = config.get("limits", {})
    limit_fields = set(Limits.__dataclass_fields__)
    unknown = set(limits_config) - limit_fields
    if unknown:
        raise ConfigError(f"unknown keys in [limits] of config/alongside.toml: {sorted(unknown)}")
    limits = Limits(**limits_config)
    for name in limit_fields:
        env_name = "LIMIT_" + name.upper()
        if env_name in env:
            kind = type(getattr(limits, name))
            try:
                limits = replace(limits, **{name: kind(env[env_name])})
            except ValueError as exc:
                raise ConfigError(f"{env_name} must be a {kind.__name__}") from exc

    resources = load_crisis_resources(config_dir)

    default_db = "sqlite+aiosqlite:///" + str(ROOT / "alongside.db")
    origins = _split(env.get("ALLOWED_ORIGINS")) or tuple(config.get("allowed_origins", Settings.allowed_origins))
    try:
        return Settings(
            environment=environment,
            database_url=normalise_database_url(env.get("DATABASE_URL") or default_db),
            redis_url=env.get("REDIS_URL") or None,
            secret_keys=keys,
            allowed_origins=origins,
            session_max_age=int(env.get("SESSION_MAX_AGE", config.get("session_max_age", Settings.session_max_age))),
            sync_interval=float(env.get("SYNC_INTERVAL", config.get("sync_interval", Settings.sync_interval))),
            presence_ttl=float(env.get("PRESENCE_TTL", config.get("presence_ttl", Settings.presence_ttl))),
            duty_hours=_positive("DUTY_HOURS", env.get("DUTY_HOURS", config.get("duty_hours", Settings.duty_hours))),
            limits=limits,
            crisis_resources=resources,
            crisis=load_crisis_settings(config_dir, env.get("ESCALATE_AFTER_MINUTES")),
            ladder=load_ladder(config_dir),
            privacy=load_privacy(config_dir, env.get("EXPORT_LINK_MINUTES")),
            log_level=env.get("LOG_LEVEL", "INFO"),
            metrics_token=env.get("METRICS_TOKEN") or None,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
