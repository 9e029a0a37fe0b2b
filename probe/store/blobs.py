"""Page bodies, compressed and keyed by sha256, shared by every run that saw them.

Most pages of a government portal do not change from one night to the next; keying by
content hash means a second night costs one SELECT and one UPDATE of `last_seen_at`, not
another compressed copy. Retention clears `data` but keeps the row, so a page record never
points at nothing and the report can say "body no longer kept".
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from probe.store.models import Blob
from probe.store.rows import upsert

CHUNK = 500  # keeps IN (...) lists well under every backend's parameter limit
ZLIB_LEVEL = 6


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def store_bodies(
    s: Session, bodies: Mapping[str, bytes], page_hashes: set[str], now: datetime
) -> None:
    """Insert bodies not yet stored (or pruned), touch every hash this crawl saw.

    `page_hashes` adds the hashes of 304 pages, whose bodies the crawl did not download
    but which are still in use and must not be pruned.
    """
    seen = sorted(set(bodies) | page_hashes)
    if not seen:
        return
    stored: set[str] = set()
    for part in _chunks(seen):
        stored.update(
            s.execute(
                select(Blob.sha256).where(Blob.sha256.in_(part), Blob.data.is_not(None))
            ).scalars()
        )
    fresh = []
    for key, body in bodies.items():
        if key in stored:
            continue
        digest = hashlib.sha256(body).hexdigest()  # never trust a key we are about to keep
        if digest in stored:
            continue
        fresh.append(
            {
                "sha256": digest,
                "encoding": "zlib",
                "size": len(body),
                "data": zlib.compress(body, ZLIB_LEVEL),
                "created_at": now,
                "last_seen_at": now,
            }
        )
        stored.add(digest)
    for row in fresh:
        stmt = upsert(s, Blob).values(**row)
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=["sha256"],
                set_={"data": stmt.excluded.data, "size": row["size"], "last_seen_at": now},
            )
        )
    touch = sorted(stored & set(seen))
    for part in _chunks(touch):
        s.execute(update(Blob).where(Blob.sha256.in_(part)).values(last_seen_at=now))


def load_body(s: Session, sha256: str) -> bytes | None:
    """The uncompressed body, or None when unknown or pruned."""
    row = s.execute(select(Blob.encoding, Blob.data).where(Blob.sha256 == sha256)).first()
    if row is None or row.data is None:
        return None
    if row.encoding == "zlib":
        return zlib.decompress(row.data)
    return bytes(row.data)


def prune_bodies(s: Session, cutoff: datetime) -> int:
    """Clear the data of blobs last seen before `cutoff`; return how many."""
    done = s.execute(
        update(Blob).where(Blob.last_seen_at < cutoff, Blob.data.is_not(None)).values(data=None)
    )
    return int(done.rowcount or 0)
