"""Page bodies, compressed and keyed by sha256, shared by every run that saw them.

Most pages of a government portal do not change from one night to the next; keying by
content hash means a second night costs one UPDATE of `last_seen_at` per portal, not
another compressed copy. Retention clears `data` but keeps the row, so a page record never
points at nothing and the report can say "body no longer kept".

`last_seen_at` is kept coarsely: a sighting rewrites it only when it is older than
`TOUCH_SLACK`, because SQLite rewrites the whole row (the compressed body with it) to change
one column, 0.022-0.028 ms a row, which every night of 304s paid for every page. So
`last_seen_at` lags the last sighting by less than `TOUCH_SLACK`, and `prune_cutoff`
allows for that: a body seen within the retention is never pruned, one no longer seen is
pruned within retention + `TOUCH_SLACK`.

New bodies are stored with brotli at quality 0. On the fleet's 80 KB pages it takes
0.12 ms a body against 0.15 ms at quality 1, 0.28 ms at quality 2 and 0.32 ms for zlib
level 1, for 12.3 KB against 11.5, 11.2 and 12.4 KB; on the saved real portal pages
(53 KB) 0.13 ms against 0.26 ms at quality 1, for 13.1 KB against 12.6 KB. Compressing was
most of a night's storage CPU, and a body is written once but may never be read again.
Any quality decodes alike, so bodies stored at quality 1 read as before; rows written
earlier still keep their `encoding` (`zlib`), which every reader honours. At quality 0
brotli's window (`lgwin` 17 to 24) and `MODE_TEXT` change nothing (0.110 ms, 12.5 KB a
fleet body either way). The sha256 key (0.046 ms a fleet body) is computed once, by
`pack_body` in the crawl; `store_bodies` trusts it and hashes only bodies not packed.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import brotli
from sqlalchemy import Connection, bindparam, select, update

from probe.store.models import Blob
from probe.store.rows import Executor, dialect_insert

CHUNK = 500  # keeps IN (...) lists well under every backend's parameter limit
# A week: a row seen nightly is rewritten one night in seven or eight instead of every
# night, and bodies outlive the 90-day default retention by 8 % at most (`prune_cutoff`).
TOUCH_SLACK = timedelta(days=7)
ENCODING = "br"
BROTLI_QUALITY = 0
_BLOB = Blob.__table__


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    """`items` in runs of `CHUNK`, for IN (...) lists."""
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


@dataclass(frozen=True)
class CoarseTouch:
    """A table whose `last_seen_at` is rewritten only when older than `TOUCH_SLACK`: its
    statements, each taking the row ids as the expanding parameter `param`. `found`
    selects (id, stale) of the ids that are there; `touch` rewrites the stale ones and
    `touch_returning` does so returning the ids it rewrote."""

    param: str
    found: Any
    touch: Any
    touch_returning: Any

    def __call__(self, conn: Connection, ids: Sequence[str], now: datetime) -> set[str]:
        """Mark the rows among `ids` that are there as seen; return their ids.

        One SELECT per `CHUNK` ids finds them and which are older than `TOUCH_SLACK`; only
        those are rewritten, with an UPDATE ... RETURNING where the backend has it, so a
        row pruned meanwhile by another writer (PostgreSQL) counts as not there. One found
        fresh cannot be pruned meanwhile: its `last_seen_at` (after now - TOUCH_SLACK) is
        later than the `prune_cutoff` of a concurrent prune with a retention of a day or
        more.
        """
        stale_before = now - TOUCH_SLACK
        there: set[str] = set()
        stale: list[str] = []
        for part in chunks(ids):
            params = {self.param: part, "stale_before": stale_before}
            for key, old in conn.execute(self.found, params):
                if old:
                    stale.append(key)
                else:
                    there.add(key)
        returning = conn.dialect.update_returning
        for part in chunks(stale):
            params = {self.param: part, "now": now, "stale_before": stale_before}
            if returning:
                there.update(conn.execute(self.touch_returning, params).scalars())
            else:  # SQLite before 3.35: the write lock is held, nothing can prune meanwhile
                conn.execute(self.touch, params)
                there.update(part)
        return there


def compress_body(body: bytes) -> bytes:
    """`body` as stored under `ENCODING`."""
    return brotli.compress(body, quality=BROTLI_QUALITY)


def decompress_body(encoding: str, data: bytes) -> bytes:
    """A stored body's bytes, whichever encoding wrote it."""
    if encoding == "br":
        return brotli.decompress(data)
    if encoding == "zlib":
        return zlib.decompress(data)
    return bytes(data)


class PackedBody(bytes):
    """A page body compressed where it was fetched, under `ENCODING`, with its raw size.

    The crawl keeps a portal's bodies until the portal is stored; compressed at once,
    a fleet page holds 12 KB instead of 80 KB while the portal's other pages are fetched
    (14 MB less at eight portals in flight, 340 MB less at 200). `pack_body` hashes and
    compresses the same bytes in one place, so its key is trusted by `store_bodies`.
    """

    size: int

    def unpack(self) -> bytes:
        """The raw body."""
        return decompress_body(ENCODING, bytes(self))


def pack_body(raw: bytes) -> tuple[str, PackedBody]:
    """(sha256 of `raw`, `raw` compressed): the key and value `store_bodies` takes."""
    packed = PackedBody(compress_body(raw))
    packed.size = len(raw)
    return hashlib.sha256(raw).hexdigest(), packed


def raw_body(body: bytes) -> bytes:
    """The raw bytes of a body the crawl kept, packed or not."""
    return body.unpack() if isinstance(body, PackedBody) else body


def prune_cutoff(now: datetime, retention_days: int) -> datetime:
    """The `last_seen_at` before which retention drops bodies and parses, at `now`.

    A sighting at time s leaves `last_seen_at` in [s - TOUCH_SLACK, s] (it is rewritten
    only when older than that), so with the cutoff now - retention - TOUCH_SLACK a row seen
    within the retention is never pruned, and one last seen at s is pruned by the first
    prune after s + retention + TOUCH_SLACK. A retention of 0 days keeps nothing (every
    row not seen after `now` goes), as it always did.
    """
    if retention_days <= 0:
        return now
    return now - timedelta(days=retention_days) - TOUCH_SLACK


_IN_HASHES = (_BLOB.c.sha256.in_(bindparam("hashes", expanding=True)), _BLOB.c.data.is_not(None))
_STALE = _BLOB.c.last_seen_at < bindparam("stale_before")
# Built once and bound per call (SQLAlchemy caches compiled SQL, not statements): building
# them per portal was most of the Python side of a second night's body bookkeeping.
_TOUCH = update(_BLOB).where(*_IN_HASHES, _STALE).values(last_seen_at=bindparam("now"))
_TOUCH_RETURNING = _TOUCH.returning(_BLOB.c.sha256)
_STORED = select(_BLOB.c.sha256, _STALE.label("stale")).where(*_IN_HASHES)


def _blob_upsert(insert: Any) -> Any:
    """Insert a body; a pruned row (data NULL) gets its data back, created_at stays the
    first sighting."""
    stmt = insert(Blob)
    return stmt.on_conflict_do_update(
        index_elements=["sha256"],
        set_={
            "encoding": stmt.excluded.encoding,
            "size": stmt.excluded.size,
            "data": stmt.excluded.data,
            "last_seen_at": stmt.excluded.last_seen_at,
        },
    )


@functools.cache
def _upsert(dialect: str) -> Any:
    """The body upsert of a backend, built once (SQLAlchemy caches its compiled SQL)."""
    return _blob_upsert(dialect_insert(dialect))


# Bodies: `touch_stored(conn, hashes, now)` marks the stored (not pruned) ones as seen.
touch_stored = CoarseTouch("hashes", _STORED, _TOUCH, _TOUCH_RETURNING)


def store_bodies(
    conn: Connection, bodies: Mapping[str, bytes], page_hashes: set[str], now: datetime
) -> None:
    """Insert bodies not yet stored (or pruned), touch the stored hashes this crawl saw
    whose `last_seen_at` is older than `TOUCH_SLACK`.

    `page_hashes` adds the hashes of 304 pages, whose bodies the crawl did not download
    but which are still in use and must not be pruned. A body already stored is neither
    hashed nor compressed again. A `PackedBody` (from `pack_body`) is stored as it is.
    """
    seen = sorted(set(bodies) | page_hashes)
    if not seen:
        return
    if not bodies:  # all 304s (a second night): nothing to insert, so nothing to learn
        stale_before = now - TOUCH_SLACK
        for part in chunks(seen):
            conn.execute(_TOUCH, {"hashes": part, "now": now, "stale_before": stale_before})
        return
    stored = touch_stored(conn, seen, now)
    fresh: dict[str, dict[str, object]] = {}
    for key, body in bodies.items():
        if key in stored:
            continue
        packed = isinstance(body, PackedBody)  # hashed and compressed together by pack_body
        # Any other key is never trusted: a body is kept under the hash of its bytes.
        digest = key if packed else hashlib.sha256(body).hexdigest()
        if digest in stored or digest in fresh:
            continue
        fresh[digest] = {
            "sha256": digest,
            "encoding": ENCODING,
            "size": body.size if packed else len(body),
            "data": bytes(body) if packed else compress_body(body),
            "created_at": now,
            "last_seen_at": now,
        }
    if fresh:
        conn.execute(_upsert(conn.dialect.name), list(fresh.values()))


def load_body(conn: Executor, sha256: str) -> bytes | None:
    """The uncompressed body, or None when unknown or pruned."""
    row = conn.execute(
        select(_BLOB.c.encoding, _BLOB.c.data).where(_BLOB.c.sha256 == sha256)
    ).first()
    if row is None or row.data is None:
        return None
    return decompress_body(row.encoding, row.data)


def prune_bodies(conn: Executor, cutoff: datetime) -> int:
    """Clear the data of blobs last seen before `cutoff` (`prune_cutoff`); return how many."""
    done = conn.execute(
        update(_BLOB)
        .where(_BLOB.c.last_seen_at < cutoff, _BLOB.c.data.is_not(None))
        .values(data=None)
    )
    return int(done.rowcount or 0)
