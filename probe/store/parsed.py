"""Cached parses (`parsed_page`): look up by key, insert new ones, prune with the bodies.

Kept apart from `blobs` because the two have different keys: a body is one row whatever
URL served it, a parse is per body *and* URL (relative links resolve against the URL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from probe.artifacts import Page
from probe.store.blobs import CHUNK
from probe.store.models import ParsedPage
from probe.store.pagecodec import encode_page
from probe.store.rows import Executor, upsert

_PARSED = ParsedPage.__table__


def load_parsed(s: Executor, keys: Iterable[str]) -> dict[str, bytes]:
    """`{key: encoded parse}` for the keys that are cached."""
    wanted = sorted(set(keys))
    out: dict[str, bytes] = {}
    for i in range(0, len(wanted), CHUNK):
        rows = s.execute(
            select(_PARSED.c.key, _PARSED.c.data).where(_PARSED.c.key.in_(wanted[i : i + CHUNK]))
        )
        out.update((key, bytes(data)) for key, data in rows)
    return out


def touch_parsed(conn: Connection, keys: Sequence[str], now: datetime) -> set[str]:
    """Mark the cached parses among `keys` as used; return the keys that are cached.

    One UPDATE ... RETURNING per 500 keys where the backend has it, else SELECT + UPDATE.
    """
    found: set[str] = set()
    for i in range(0, len(keys), CHUNK):
        part = keys[i : i + CHUNK]
        touch = update(_PARSED).where(_PARSED.c.key.in_(part)).values(last_seen_at=now)
        if conn.dialect.update_returning:
            found.update(conn.execute(touch.returning(_PARSED.c.key)).scalars())
        else:
            there = set(
                conn.execute(select(_PARSED.c.key).where(_PARSED.c.key.in_(part))).scalars()
            )
            if there:
                conn.execute(touch)
            found.update(there)
    return found


def store_parsed(
    conn: Connection,
    pages: Sequence[Page],
    keys: Sequence[str],
    used: Iterable[str],
    now: datetime,
) -> None:
    """Cache the parse of every page not cached yet; touch those cached and the `used` ones.

    `keys[i]` is `pages[i]`'s parse key ("" for a page with no body hash).

    Which pages are cached already is asked in one statement before encoding, so a page
    whose parse is there (a 304 served from it, or a 200 with an unchanged body) costs no
    encoding: encoding is most of the cache's cost (0.27 ms a fleet page).
    """
    by_key: dict[str, Page] = {}
    for page, key in zip(pages, keys, strict=True):
        if key:
            by_key.setdefault(key, page)
    wanted = sorted(set(by_key) | set(used))
    if not wanted:
        return
    cached = touch_parsed(conn, wanted, now)
    fresh: list[dict[str, Any]] = [
        {"key": key, "data": encode_page(page), "created_at": now, "last_seen_at": now}
        for key, page in by_key.items()
        if key not in cached
    ]
    if fresh:
        # Another writer (PostgreSQL) may have cached the same parse meanwhile: theirs stays.
        conn.execute(upsert(conn, ParsedPage).on_conflict_do_nothing(index_elements=["key"]), fresh)


def prune_parsed(s: Executor, cutoff: datetime) -> int:
    """Delete parses not used since `cutoff` (they are rebuilt from a body if needed)."""
    done = s.execute(delete(_PARSED).where(_PARSED.c.last_seen_at < cutoff))
    return int(done.rowcount or 0)
