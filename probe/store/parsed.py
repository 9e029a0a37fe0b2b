"""Cached parses (`parsed_page`): look up by key, insert new ones, prune with the bodies.

Kept apart from `blobs` because the two have different keys: a body is one row whatever
URL served it, a parse is per body *and* URL (relative links resolve against the URL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from probe.store.blobs import CHUNK
from probe.store.models import ParsedPage
from probe.store.rows import upsert


def load_parsed(s: Session, keys: Iterable[str]) -> dict[str, bytes]:
    """`{key: encoded parse}` for the keys that are cached."""
    wanted = sorted(set(keys))
    out: dict[str, bytes] = {}
    for i in range(0, len(wanted), CHUNK):
        rows = s.execute(
            select(ParsedPage.key, ParsedPage.data).where(ParsedPage.key.in_(wanted[i : i + CHUNK]))
        )
        out.update((r.key, bytes(r.data)) for r in rows)
    return out


def store_parsed(
    s: Session, fresh: Mapping[str, bytes], used: Iterable[str], now: datetime
) -> None:
    """Insert `fresh` parses (a key already there is left alone), touch the `used` ones."""
    for key, data in fresh.items():
        stmt = upsert(s, ParsedPage).values(key=key, data=data, created_at=now, last_seen_at=now)
        s.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"last_seen_at": now}))
    touch = sorted(set(used) - set(fresh))
    for i in range(0, len(touch), CHUNK):
        part = touch[i : i + CHUNK]
        s.execute(update(ParsedPage).where(ParsedPage.key.in_(part)).values(last_seen_at=now))


def prune_parsed(s: Session, cutoff: datetime) -> int:
    """Delete parses not used since `cutoff` (they are rebuilt from a body if needed)."""
    done = s.execute(delete(ParsedPage).where(ParsedPage.last_seen_at < cutoff))
    return int(done.rowcount or 0)
