"""Run-time settings, built once by the CLI and passed down (no module globals).

Values come from defaults, then `PROBE_*` environment variables, then CLI options. Legal
rules are not settings: they live in `config/rulesets/`.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from probe import __version__
from probe.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _config_dir() -> Path:
    """`config/` of a checkout (or editable install), else the copy a wheel installs.

    The rulesets and field catalogue are data, not code, so a wheel ships them under
    `<prefix>/share/probe/config` (pyproject `data-files`) rather than inside the package.
    """
    checkout = PROJECT_ROOT / "config"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "probe" / "config"


CONFIG_DIR = _config_dir()


@dataclass(frozen=True)
class ConnectTo:
    """One `--connect-to HOST:PORT:ADDR:PORT2` rule (curl semantics; empty = any)."""

    host: str
    port: int | None
    addr: str
    addr_port: int | None

    @classmethod
    def parse(cls, spec: str) -> ConnectTo:
        """Parse curl's syntax; an IPv6 ADDR may be written in brackets."""
        parts = _split_connect_to(spec)
        if parts is None:
            raise InputError(
                f"--connect-to {spec!r}: expected HOST:PORT:ADDR:PORT2 (HOST and PORT may be empty)"
            )
        host, port, addr, addr_port = parts
        try:
            p1 = int(port) if port else None
            p2 = int(addr_port) if addr_port else None
        except ValueError:
            raise InputError(f"--connect-to {spec!r}: ports must be numbers") from None
        return cls(host.lower().rstrip("."), p1, addr.strip("[]"), p2)

    def matches(self, host: str, port: int) -> bool:
        """Does this rule apply to a request for host:port?"""
        return (not self.host or self.host == host.lower().rstrip(".")) and (
            self.port is None or self.port == port
        )


def _split_connect_to(spec: str) -> tuple[str, str, str, str] | None:
    if "[" in spec:  # IPv6 address in brackets as ADDR
        head, _, rest = spec.partition("[")
        addr, _, tail = rest.partition("]")
        hp = head.rstrip(":").split(":")
        if len(hp) != 2 or not tail.startswith(":"):
            return None
        return hp[0], hp[1], addr, tail[1:]
    parts = spec.split(":")
    if len(parts) != 4:
        return None
    return parts[0], parts[1], parts[2], parts[3]


def _env_int(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """A whole number from the environment, within bounds.

    Out-of-range values are refused rather than clamped: a nightly job configured with
    `PROBE_MAX_PAGES=-5` would otherwise "succeed" while checking nothing.
    """
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"environment variable {name}={raw!r}: not a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise InputError(f"environment variable {name}={raw!r}: must be {bound}")
    return value


def _env_float(name: str, default: float, *, positive: bool) -> float:
    """A finite number of seconds from the environment: > 0 when `positive`, else >= 0.

    `float()` accepts "nan" and "inf"; a NaN timeout compares false with everything and an
    infinite deadline means a hung portal is never given up, so both are refused.
    """
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"environment variable {name}={raw!r}: not a number") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "a finite number > 0" if positive else "a finite number >= 0"
        raise InputError(f"environment variable {name}={raw!r}: must be {bound}")
    return value


def default_db_url() -> str:
    """`$PROBE_DATABASE_URL`, else a SQLite file in the user's data directory."""
    url = os.environ.get("PROBE_DATABASE_URL")
    if url:
        return url
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "probe"
    return f"sqlite:///{base / 'probe.sqlite'}"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs besides the registry and the ruleset."""

    registry_path: Path = CONFIG_DIR / "portals.toml"
    db_url: str = ""
    contact_url: str = "https://github.com/probe-portal-compliance/probe"
    max_pages: int = 60
    max_depth: int = 2
    per_host_concurrency: int = 2
    portal_concurrency: int = 16
    min_delay: float = 0.5  # seconds between requests to one host
    max_crawl_delay: float = 10.0  # robots Crawl-delay / Retry-After are clamped to this
    connect_timeout: float = 10.0
    read_timeout: float = 10.0
    portal_deadline: float = 300.0  # seconds for one whole portal
    shutdown_grace: float = 20.0  # seconds portals in flight get after a stop request
    max_body_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 10
    retries: int = 3
    retry_backoff: float = 0.5  # seconds, doubled per attempt, with jitter
    fetch_timeout: float | None = None  # per attempt; None = connect + 3 x read timeout
    ca_bundle: str = ""  # an extra trusted CA file (intranet portals, TLS tests)
    allow_private: bool = False
    connect_to: tuple[ConnectTo, ...] = ()
    freshness_warn_days: int = 30
    freshness_fail_days: int = 90
    licence_required: bool | None = None  # None: the registry decides per agency
    body_retention_days: int = 90
    schedule_cron: str = "0 2 * * *"
    schedule_timezone: str = "Asia/Ho_Chi_Minh"
    lang: str = "vi"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def user_agent(self) -> str:
        """An honest User-Agent: who we are and where to complain."""
        return f"probe/{__version__} (+{self.contact_url}; portal compliance checker)"

    @classmethod
    def from_env(cls) -> Settings:
        """Defaults overridden by `PROBE_*` environment variables."""
        return cls(
            registry_path=Path(os.environ.get("PROBE_REGISTRY", CONFIG_DIR / "portals.toml")),
            db_url=default_db_url(),
            contact_url=os.environ.get("PROBE_CONTACT_URL", cls.contact_url),
            max_pages=_env_int("PROBE_MAX_PAGES", cls.max_pages, 1, 10_000),
            max_depth=_env_int("PROBE_MAX_DEPTH", cls.max_depth, 0, 20),
            per_host_concurrency=_env_int("PROBE_PER_HOST", cls.per_host_concurrency, 1, 64),
            portal_concurrency=_env_int(
                "PROBE_PORTAL_CONCURRENCY", cls.portal_concurrency, 1, 1024
            ),
            min_delay=_env_float("PROBE_MIN_DELAY", cls.min_delay, positive=False),
            read_timeout=_env_float("PROBE_READ_TIMEOUT", cls.read_timeout, positive=True),
            portal_deadline=_env_float("PROBE_PORTAL_DEADLINE", cls.portal_deadline, positive=True),
            shutdown_grace=_env_float("PROBE_SHUTDOWN_GRACE", cls.shutdown_grace, positive=True),
            max_body_bytes=_env_int("PROBE_MAX_BODY_BYTES", cls.max_body_bytes, 1024),
            ca_bundle=os.environ.get("PROBE_CA_BUNDLE", ""),
            body_retention_days=_env_int("PROBE_BODY_RETENTION_DAYS", cls.body_retention_days, 0),
            schedule_cron=os.environ.get("PROBE_SCHEDULE_CRON", cls.schedule_cron),
            schedule_timezone=os.environ.get("PROBE_SCHEDULE_TZ", cls.schedule_timezone),
        )

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (CLI options, tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]
