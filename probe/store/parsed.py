"""Cached parses (`parsed_page`): look up by key, insert new ones, prune with the bodies.

Kept apart from `blobs` because the two have different keys: a body is one row whatever
URL served it, a parse is per body *and* URL (relative links resolve against the URL).
`last_seen_at` is kept as coarsely as the bodies' (`probe.store.blobs.TOUCH_SLACK`), and
pruned with the same `prune_cutoff`, so the same guarantee holds: a parse used within
the retention is never pruned, one no longer used goes within retention + the slack.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from probe.artifacts import Page
from probe.store.blobs import CoarseTouch, chunks
from probe.store.models import ParsedPage
from probe.store.pagecodec import encode_page
from probe.store.rows import Executor, dialect_insert

_PARSED = ParsedPage.__table__
# Built once and bound per call: SQLAlchemy caches the compiled SQL but not the statement,
# and building these per portal was most of the Python side of the cache's bookkeeping.
_IN_KEYS = _PARSED.c.key.in_(bindparam("keys", expanding=True))
_STALE = _PARSED.c.last_seen_at < bindparam("stale_before")
_LOAD = select(_PARSED.c.key, _PARSED.c.data).where(_IN_KEYS)
_CACHED = select(_PARSED.c.key, _STALE.label("stale")).where(_IN_KEYS)
_TOUCH = update(_PARSED).where(_IN_KEYS, _STALE).values(last_seen_at=bindparam("now"))
_TOUCH_RETURNING = _TOUCH.returning(_PARSED.c.key)


@functools.cache
def _insert(dialect: str) -> Any:
    """Another writer (PostgreSQL) may have cached the same parse meanwhile: theirs stays."""
    return dialect_insert(dialect)(ParsedPage).on_conflict_do_nothing(index_elements=["key"])


_PRUNE = delete(_PARSED).where(_PARSED.c.last_seen_at < bindparam("cutoff"))


def load_parsed(s: Executor, keys: Iterable[str]) -> dict[str, bytes]:
    """`{key: encoded parse}` for the keys that are cached."""
    out: dict[str, bytes] = {}
    for part in chunks(sorted(set(keys))):
        out.update((key, bytes(data)) for key, data in s.execute(_LOAD, {"keys": part}))
    return out


# `touch_parsed(conn, keys, now)` marks the cached parses among `keys` as used and returns
# the keys that are cached (coarsely: see `probe.store.blobs.CoarseTouch`).
touch_parsed = CoarseTouch("keys", _CACHED, _TOUCH, _TOUCH_RETURNING)


def store_parsed(
    conn: Connection,
    pages: Sequence[Page],
    keys: Sequence[str],
    used: Iterable[str],
    now: datetime,
    encoded: Mapping[str, bytes] | None = None,
) -> None:
    """Cache the parse of every page not cached yet; touch those cached and the `used` ones
    (coarsely, see `touch_parsed`).

    `keys[i]` is `pages[i]`'s parse key ("" for a page with no body hash).

    Which pages are cached already is asked in one statement before encoding, so a page
    whose parse is there (a 304 served from it, or a 200 with an unchanged body) costs no
    encoding: encoding is most of the cache's cost (0.20 ms a fleet page). `encoded` holds
    entries the crawl encoded already, by key (`PortalArtifacts.parses`).
    """
    by_key: dict[str, Page] = {}
    for page, key in zip(pages, keys, strict=True):
        if key:
            by_key.setdefault(key, page)
    wanted = sorted(set(by_key) | set(used))
    if not wanted:
        return
    cached = touch_parsed(conn, wanted, now)
    encoded = encoded or {}
    fresh: list[dict[str, Any]] = [
        {
            "key": key,
            "data": encoded.get(key) or encode_page(page),
            "created_at": now,
            "last_seen_at": now,
        }
        for key, page in by_key.items()
        if key not in cached
    ]
    if fresh:
        conn.execute(_insert(conn.dialect.name), fresh)


def prune_parsed(s: Executor, cutoff: datetime) -> int:
    """Delete parses not used since `cutoff` (`prune_cutoff`; rebuilt from a body if
    needed)."""
    done = s.execute(_PRUNE, {"cutoff": cutoff})
    return int(done.rowcount or 0)
