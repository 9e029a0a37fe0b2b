"""The portal registry: which agencies exist, at what level, and which portals they run.

The registry is the one file operators edit by hand, so every mistake must come back as
one line naming the file, the line of the entry and the field.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from probe.errors import InputError

LEVELS = ("province", "department", "district", "commune")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
_INVISIBLE = ("Cc", "Cf", "Zs", "Zl", "Zp")  # controls, format (bidi, zero-width), spaces
_KNOWN_KEYS = {
    "id", "name", "name_en", "level", "portals", "parent", "province", "province_domain",
    "domains", "notes", "licence_required", "active", "schedule", "inferred",
}  # fmt: skip


@dataclass(frozen=True)
class PortalEntry:
    """One portal URL and whether the URL is known or only inferred from naming habits."""

    url: str
    inferred: bool = False


@dataclass(frozen=True)
class Agency:
    """An agency of the registry."""

    id: str
    name: str
    level: str
    portal_entries: tuple[PortalEntry, ...]
    name_en: str = ""
    parent: str = ""
    province: str = ""
    province_domain: str = ""
    domains: tuple[str, ...] = ()
    notes: str = ""
    licence_required: bool = False
    active: bool = True
    schedule: str = ""  # a cron expression for a per-portal schedule, empty = nightly
    line: int = 0

    @property
    def portals(self) -> list[str]:
        """Portal URLs, in registry order (the store and runner want plain strings)."""
        return [p.url for p in self.portal_entries]

    @property
    def official_domains(self) -> tuple[str, ...]:
        """Domains whose mail counts as the agency's own: its portals' and the province's."""
        hosts = {urlsplit(u).hostname or "" for u in self.portals}
        extra = {self.province_domain} if self.province_domain else set()
        return tuple(sorted(h for h in hosts | extra | set(self.domains) if h))


@dataclass(frozen=True)
class Target:
    """One agency and the portals of it to probe in one run."""

    agency: Agency
    urls: tuple[str, ...]


@dataclass(frozen=True)
class Registry:
    """All agencies of one registry file."""

    path: Path
    agencies: tuple[Agency, ...] = field(default_factory=tuple)

    def get(self, agency_id: str) -> Agency | None:
        """The agency with this id, or None."""
        return next((a for a in self.agencies if a.id == agency_id), None)

    def agency_for_url(self, url: str) -> Agency | None:
        """The agency that lists this portal (scheme, trailing slash and case ignored)."""
        key = _url_key(url)
        return next((a for a in self.agencies if any(_url_key(u) == key for u in a.portals)), None)

    @property
    def active(self) -> tuple[Agency, ...]:
        """Agencies a nightly run probes."""
        return tuple(a for a in self.agencies if a.active)


def _url_key(url: str) -> str:
    parts = urlsplit(url.strip().lower())
    return f"{(parts.hostname or '').rstrip('.')}{parts.path.rstrip('/')}"


def validate_portal_url(url: object, where: str) -> str:
    """A registry or CLI URL must be absolute http(s) with a host: say so precisely."""
    if not isinstance(url, str) or not url.strip():
        raise InputError("portal URL must be a non-empty string", where=where)
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise InputError(f"malformed URL {url!r}: {exc}", where=where) from None
    if parts.scheme not in ("http", "https"):
        raise InputError(f"URL {url!r} is not http(s)", where=where)
    if not parts.hostname:
        raise InputError(f"URL {url!r} has no host", where=where)
    _check_visible(url.strip(), where)
    _check_host(parts.hostname, url, where)
    return url.strip()


def _check_visible(url: str, where: str) -> None:
    """No spaces, controls or invisible characters: they hide what the URL really is.

    A bidi override or an escape sequence in a registry URL would also travel into every
    report and terminal that shows the portal, so it is refused where a person can fix it.
    """
    for position, ch in enumerate(url):
        if unicodedata.category(ch) in _INVISIBLE:
            raise InputError(
                f"URL {url!r} contains U+{ord(ch):04X} ({unicodedata.name(ch, 'control')}) "
                f"at position {position + 1}; write it without spaces or invisible characters",
                where=where,
            )


def _check_host(host: str, url: str, where: str) -> None:
    """A host is an IP literal or dot-separated labels of letters, digits, '-' and '_'."""
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253:
        raise InputError(f"URL {url!r}: host name longer than 253 characters", where=where)
    for label in name.split("."):
        if not label:
            raise InputError(f"URL {url!r}: host {host!r} has an empty label", where=where)
        if len(label) > 63 or label.startswith("-") or label.endswith("-"):
            raise InputError(f"URL {url!r}: host label {label!r} is not valid", where=where)
        bad = next((ch for ch in label if not (ch.isalnum() or ch in "-_")), None)
        if bad is not None:
            raise InputError(
                f"URL {url!r}: host {host!r} contains {bad!r}, not allowed in a host name",
                where=where,
            )


def _entry_lines(text: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == "[[agency]]"]


def load_registry(path: Path | str) -> Registry:
    """Load and validate a registry file; raise InputError naming file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("registry file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read registry: {exc}", where=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", where=str(path)) from None
    raw = data.get("agency")
    if not isinstance(raw, list) or not raw:
        raise InputError("no [[agency]] entries", where=str(path))
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise InputError("[defaults] must be a table", where=str(path))
    lines = _entry_lines(text)
    agencies: list[Agency] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        line = lines[index] if index < len(lines) else 0
        where = f"{path}:{line}" if line else f"{path}: agency #{index + 1}"
        agency = _parse_agency(entry, defaults, where, line)
        if agency.id in seen:
            raise InputError(
                f"duplicate agency id {agency.id!r} (first at line {seen[agency.id]})",
                where=where,
            )
        seen[agency.id] = line
        agencies.append(agency)
    return Registry(path=path, agencies=tuple(agencies))


def _require_str(entry: dict[str, Any], key: str, where: str, *, optional: bool = False) -> str:
    value = entry.get(key, "" if optional else None)
    if value is None:
        raise InputError(f"missing field '{key}'", where=where)
    if not isinstance(value, str):
        raise InputError(f"field '{key}' must be a string", where=where)
    if not optional and not value.strip():
        raise InputError(f"field '{key}' is empty", where=where)
    return value.strip()


def _parse_agency(entry: Any, defaults: dict[str, Any], where: str, line: int) -> Agency:
    if not isinstance(entry, dict):
        raise InputError("an [[agency]] entry must be a table", where=where)
    merged = {**defaults, **entry}
    unknown = sorted(set(entry) - _KNOWN_KEYS)
    if unknown:
        raise InputError(f"unknown field '{unknown[0]}'", where=where)
    agency_id = _require_str(merged, "id", where)
    where = f"{where} (agency {agency_id!r})"
    if not _ID.match(agency_id):
        raise InputError(
            f"field 'id': {agency_id!r} must be a lower-case slug (a-z, 0-9, -)", where=where
        )
    level = _require_str(merged, "level", where)
    if level not in LEVELS:
        raise InputError(f"field 'level': {level!r} is not one of {', '.join(LEVELS)}", where=where)
    portals = merged.get("portals")
    if not isinstance(portals, list) or not portals:
        raise InputError("field 'portals' must be a non-empty list of URLs", where=where)
    entries: list[PortalEntry] = []
    for i, item in enumerate(portals):
        pw = f"{where} field 'portals[{i}]'"
        if isinstance(item, dict):
            url = validate_portal_url(item.get("url"), pw)
            inferred = item.get("inferred", False)
            if not isinstance(inferred, bool):
                raise InputError("'inferred' must be true or false", where=pw)
            entries.append(PortalEntry(url, inferred))
        else:
            entries.append(PortalEntry(validate_portal_url(item, pw)))
    for key in ("licence_required", "active"):
        if key in merged and not isinstance(merged[key], bool):
            raise InputError(f"field '{key}' must be true or false", where=where)
    domains = merged.get("domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise InputError("field 'domains' must be a list of strings", where=where)
    return Agency(
        id=agency_id,
        name=_require_str(merged, "name", where),
        level=level,
        portal_entries=tuple(entries),
        name_en=_require_str(merged, "name_en", where, optional=True),
        parent=_require_str(merged, "parent", where, optional=True),
        province=_require_str(merged, "province", where, optional=True),
        province_domain=_require_str(merged, "province_domain", where, optional=True).lower(),
        domains=tuple(d.lower() for d in domains),
        notes=_require_str(merged, "notes", where, optional=True),
        licence_required=bool(merged.get("licence_required", False)),
        active=bool(merged.get("active", True)),
        schedule=_require_str(merged, "schedule", where, optional=True),
        line=line,
    )
