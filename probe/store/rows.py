"""Turning artifacts and findings into table rows, portably across SQLite and PostgreSQL.

PostgreSQL enforces VARCHAR lengths and JSON columns accept only JSON types, while SQLite
enforces neither; clipping and JSON-normalising here keeps a night that works on one
backend from failing a portal's whole transaction on the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from checks.base import Finding
from probe.artifacts import PortalArtifacts


def clip(value: str, limit: int) -> str:
    """`value` cut to a column's length (a 3 kB tracking URL must not lose a portal)."""
    return value if len(value) <= limit else value[:limit]


# orjson is several times faster than the json module on finding details (tens a portal);
# what it will not take in the same way (non-str keys, ints beyond 64 bits, lone
# surrogates) goes through the json module, so the values stored are the json module's.
# One difference: NaN and infinities become null, which PostgreSQL's JSON accepts and the
# json module's NaN token is not.
_ORJSON_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def jsonable(value: Any) -> Any:
    """A deep copy of `value` made of JSON types only (dates as ISO strings)."""
    try:
        return orjson.loads(orjson.dumps(value, default=_json_default, option=_ORJSON_STRICT))
    except TypeError:
        return json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))


def json_column(value: Any) -> Any:
    """`value` for a JSON column, stored as `json_text(jsonable(value))` stores it but
    serialised once: orjson's text of `value` is kept as a fragment that `json_text`
    writes verbatim (it reads back as the same text, so the round trip through `jsonable`
    changed nothing). What orjson will not take goes the way of `jsonable`."""
    try:
        return orjson.Fragment(orjson.dumps(value, default=_json_default, option=_ORJSON_STRICT))
    except TypeError:
        return json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))


def json_text(value: Any) -> str:
    """The engine's serializer for JSON columns (see `jsonable` for the json fallback)."""
    try:
        return orjson.dumps(value, option=_ORJSON_STRICT).decode()
    except TypeError:
        return json.dumps(value)


def json_value(text: str | bytes) -> Any:
    """The engine's deserializer for JSON columns; rows the json module wrote with NaN
    (which orjson refuses) still load."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


# What the store's helpers execute on: a Core connection (the hot write paths) or a session.
Executor = Connection | Session


def dialect_insert(name: str) -> Any:
    """The `insert` of backend `name`'s dialect, the one with ON CONFLICT.

    Imported when first asked for: a SQLite night never loads the PostgreSQL dialect
    (~20 ms of every `probe run`'s start-up), nor the reverse.
    """
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise NotImplementedError(f"probe supports SQLite and PostgreSQL, not {name}")
    return insert


def upsert(target: Executor, model: type) -> Any:
    """The backend's INSERT supporting ON CONFLICT (both dialects spell it the same)."""
    bind = target if isinstance(target, Connection) else target.get_bind()
    return dialect_insert(bind.dialect.name)(model)


def page_rows(
    result_id: int, site: PortalArtifacts, parse_keys: Sequence[str]
) -> list[dict[str, Any]]:
    """A row per fetched page (crawl order), then one per failure; `parse_keys[i]` is the
    parse-cache key of `site.pages[i]`."""
    rows: list[dict[str, Any]] = [
        {
            "result_id": result_id,
            "url": clip(p.url, 2000),
            "final_url": clip(p.final_url, 2000),
            "status": p.status,
            "content_type": clip(p.content_type, 200),
            "depth": p.depth,
            "elapsed_ms": p.elapsed_ms,
            "fetched_at": p.fetched_at,
            "content_hash": clip(p.content_hash, 64),
            "parse_key": key,
            "size": p.size,
            "etag": clip(p.etag, 300),
            "last_modified": clip(p.last_modified, 100),
            "not_modified": p.not_modified,
            "error_code": "",
            "error_message": "",
        }
        for p, key in zip(site.pages, parse_keys, strict=True)
    ]
    rows.extend(
        {
            "result_id": result_id,
            "url": clip(f.url, 2000),
            "final_url": "",
            "status": f.status,
            "content_type": "",
            "depth": 0,
            "elapsed_ms": 0.0,
            "fetched_at": None,
            "content_hash": "",
            "parse_key": "",
            "size": 0,
            "etag": "",
            "last_modified": "",
            "not_modified": False,
            "error_code": clip(f.code or "error", 60),
            "error_message": f.message,
        }
        for f in site.failures
    )
    return rows


def finding_rows(
    run_id: int, result_id: int | None, agency_id: str | None, findings: Sequence[Finding]
) -> list[dict[str, Any]]:
    """Finding rows; evidence as a list of {url, text}, details JSON-normalised and
    serialised once (`json_column`)."""
    return [
        {
            "run_id": run_id,
            "result_id": result_id,
            "agency_id": agency_id,
            "check_id": clip(f.check, 100),
            "status": clip(str(f.status), 10),
            "weight": float(f.weight),
            "message_vi": f.message.get("vi", ""),
            "message_en": f.message.get("en", ""),
            "evidence": [{"url": e.url, "text": e.text} for e in f.evidence],
            "details": json_column(dict(f.details)),
        }
        for f in findings
    ]
