"""Bodies shared across runs, conditional-request validators, retention, and leases."""

from __future__ import annotations

import threading
import zlib
from dataclasses import replace
from datetime import timedelta

import brotli
import sqlalchemy as sa

from checks.base import Status
from probe.store import Store
from probe.store.blobs import TOUCH_SLACK
from probe.store.models import Blob
from tests.store.conftest import NOW, Clock, body_of, make_finding, make_site, sha

URL = "http://lethuy.test/"


def _blobs(store: Store) -> dict[str, tuple]:
    with store.session() as s:
        rows = s.execute(sa.select(Blob.sha256, Blob.created_at, Blob.last_seen_at, Blob.size))
        return {r.sha256: (r.created_at, r.last_seen_at, r.size) for r in rows}


def test_bodies_are_shared_across_runs_and_validators_come_from_the_latest(
    store: Store, clock: Clock
) -> None:
    home, about = body_of("Trang chủ " * 200), body_of("Giới thiệu")
    first = store.start_run("scheduled", "nd43-2011", 1, {}, 1)
    store.save_portal(first, make_site(URL, bodies={"": home, "gt": about}, etag='"v1"'), [], 1.0)
    before = _blobs(store)
    assert set(before) == {sha(home), sha(about)}
    assert before[sha(home)][2] == len(home)
    assert store.load_body(sha(home)) == home
    assert store.validators_for(URL) == {
        URL: ('"v1"', "Tue, 24 Nov 2026 10:00:00 GMT", sha(home)),
        URL + "gt": ('"v1"', "Tue, 24 Nov 2026 10:00:00 GMT", sha(about)),
    }
    clock.advance(TOUCH_SLACK + timedelta(hours=1))  # seen again once the slack is over
    second = store.start_run("scheduled", "nd43-2011", 1, {}, 1)
    changed = body_of("Giới thiệu (sửa)")
    store.save_portal(
        second, make_site(URL, bodies={"": home, "gt": changed}, etag='"v2"'), [], 1.0
    )
    after = _blobs(store)
    assert set(after) == {sha(home), sha(about), sha(changed)}  # home stored once
    assert after[sha(home)][0] == before[sha(home)][0]  # same row, not re-created
    assert after[sha(home)][1] > before[sha(home)][1]  # but seen again
    assert after[sha(about)][1] == before[sha(about)][1]
    assert {v[0] for v in store.validators_for(URL).values()} == {'"v2"'}
    # A failed night does not erase the validators of the last good one.
    third = store.start_run("scheduled", "nd43-2011", 1, {}, 1)
    store.save_portal(third, make_site(URL, outcome="timeout"), [], None)
    assert {v[0] for v in store.validators_for(URL).values()} == {'"v2"'}
    assert store.validators_for("http://never.test/") == {}


def test_a_body_under_a_wrong_key_is_stored_under_its_real_hash(store: Store) -> None:
    body = body_of("x")
    site = make_site(URL, bodies={"": body})
    object.__setattr__(site, "bodies", {"0" * 64: body})
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], None)
    assert set(_blobs(store)) == {sha(body)}


def test_a_night_of_304s_touches_the_kept_bodies_and_revives_no_pruned_one(
    store: Store, clock: Clock
) -> None:
    kept, pruned = body_of("giữ"), body_of("đã xoá")
    first = make_site(URL, bodies={"": kept, "cu": pruned}, etag='"v1"')
    store.save_portal(store.start_run("scheduled", "nd43-2011", 1, {}, 1), first, [], 1.0)
    with store.write_session() as s:
        s.execute(
            sa.update(Blob).where(Blob.sha256 == sha(pruned)).values(last_seen_at=NOW - timedelta(days=30))
        )  # fmt: skip
    assert store.prune_bodies(7) == 1
    before = _blobs(store)
    # A night after the slack: both pages answered 304, so the crawl kept no body at all.
    clock.advance(TOUCH_SLACK + timedelta(hours=1))
    pages = tuple(replace(p, not_modified=True) for p in first.pages)
    second = replace(first, pages=pages, bodies={})
    store.save_portal(store.start_run("scheduled", "nd43-2011", 1, {}, 1), second, [], 1.0)
    after = _blobs(store)
    assert after[sha(kept)][1] > before[sha(kept)][1]  # seen again, so not pruned next
    assert after[sha(pruned)] == before[sha(pruned)]  # still pruned, not seen
    assert store.load_body(sha(kept)) == kept and store.load_body(sha(pruned)) is None
    assert store.validators_for(URL) == {URL: ('"v1"', "Tue, 24 Nov 2026 10:00:00 GMT", sha(kept))}


def test_prune_drops_old_bodies_but_keeps_findings(store: Store) -> None:
    old, fresh = body_of("cũ"), body_of("mới")
    run_id = store.start_run("scheduled", "nd43-2011", 1, {}, 2)
    finding = make_finding("footer.owner", Status.PASS, URL, "Cơ quan chủ quản: UBND huyện")
    store.save_portal(run_id, make_site(URL, bodies={"": old}, etag='"a"'), [finding], 1.0)
    last_seen = _blobs(store)[sha(old)][1]
    store.save_portal(run_id, make_site("http://b.test/", bodies={"": fresh}), [], 1.0)
    later = last_seen + timedelta(days=7) + TOUCH_SLACK + timedelta(days=3)
    with store.write_session() as s:  # `fresh` was seen 17 days after `old`
        s.execute(sa.update(Blob).where(Blob.sha256 == sha(fresh)).values(last_seen_at=later))
    assert store.prune_bodies(7, now=later) == 1
    assert store.load_body(sha(old)) is None
    assert store.load_body(sha(fresh)) == fresh
    assert store.validators_for(URL) == {}  # a 304 would leave nothing to check
    [result] = [r for r in store.run_results(run_id) if r.portal_url == URL]
    assert result.findings[0].evidence[0].text == "Cơ quan chủ quản: UBND huyện"
    assert result.pages[0].content_hash == sha(old)
    assert store.prune_bodies(7, now=later) == 0
    # Seen again after pruning: the body comes back.
    store.save_portal(
        store.start_run("manual", "nd43-2011", 1, {}, 1), make_site(URL, bodies={"": old}), [], 1.0
    )
    assert store.load_body(sha(old)) == old


def _encodings(store: Store) -> dict[str, tuple[str, bytes | None]]:
    with store.session() as s:
        rows = s.execute(sa.select(Blob.sha256, Blob.encoding, Blob.data))
        return {r.sha256: (r.encoding, r.data) for r in rows}


def _legacy_zlib_blob(store: Store, body: bytes) -> None:
    """A body as stores before brotli wrote it: zlib level 6."""
    with store.write_session() as s:
        s.add(Blob(sha256=sha(body), encoding="zlib", size=len(body),
                   data=zlib.compress(body, 6), created_at=NOW, last_seen_at=NOW))  # fmt: skip


def test_new_bodies_are_brotli_and_old_zlib_ones_still_read(store: Store) -> None:
    old, new = body_of("cũ " * 100), body_of("mới " * 100)
    _legacy_zlib_blob(store, old)
    store.save_portal(
        store.start_run("manual", "nd43-2011", 1, {}, 1),
        make_site(URL, bodies={"": new, "cu": old}, etag='"v1"'), [], 1.0,
    )  # fmt: skip
    encodings = _encodings(store)
    assert encodings[sha(new)][0] == "br"
    assert encodings[sha(old)] == ("zlib", zlib.compress(old, 6))  # not compressed again
    assert store.load_body(sha(old)) == old and store.load_body(sha(new)) == new
    rows = store.validators_with_parses(URL)
    assert {u: r[3] for u, r in rows.items()} == {URL: new, URL + "cu": old}


def test_bodies_brotli_wrote_at_another_quality_still_read(store: Store) -> None:
    old, new = body_of("cũ " * 300), body_of("mới " * 300)
    with store.write_session() as s:  # as stores before quality 0 wrote it
        s.add(Blob(sha256=sha(old), encoding="br", size=len(old),
                   data=brotli.compress(old, quality=1), created_at=NOW, last_seen_at=NOW))  # fmt: skip
    site = make_site(URL, bodies={"": new, "cu": old}, etag='"v1"')
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], 1.0)
    encodings = _encodings(store)
    assert encodings[sha(old)] == ("br", brotli.compress(old, quality=1))  # kept as it was
    assert encodings[sha(new)][0] == "br" and len(encodings[sha(new)][1] or b"") < len(new)
    assert store.load_body(sha(old)) == old and store.load_body(sha(new)) == new
    rows = store.validators_with_parses(URL)
    assert {u: r[3] for u, r in rows.items()} == {URL: new, URL + "cu": old}


def test_a_pruned_body_comes_back_in_the_new_encoding(store: Store) -> None:
    body = body_of("x " * 100)
    _legacy_zlib_blob(store, body)
    store.prune_bodies(1, now=NOW + timedelta(days=2) + TOUCH_SLACK)
    assert _encodings(store)[sha(body)] == ("zlib", None)
    store.save_portal(
        store.start_run("manual", "nd43-2011", 1, {}, 1), make_site(URL, bodies={"": body}),
        [], 1.0,
    )  # fmt: skip
    assert _encodings(store)[sha(body)][0] == "br"
    assert store.load_body(sha(body)) == body
    assert _blobs(store)[sha(body)][0] == NOW  # created_at is the first sighting


def test_lease_is_exclusive_renewable_and_taken_over_when_expired(store: Store) -> None:
    hour = timedelta(hours=1)
    assert store.acquire_lease("nightly", "host-a:1", hour)
    assert not store.acquire_lease("nightly", "host-b:2", hour)
    assert store.acquire_lease("nightly", "host-a:1", hour)  # ours already: renewed
    assert store.renew_lease("nightly", "host-a:1", hour)
    assert not store.renew_lease("nightly", "host-b:2", hour)
    assert not store.release_lease("nightly", "host-b:2")
    assert store.acquire_lease("other", "host-b:2", hour)  # names are independent
    # host-a's lease runs out (a TTL in the past stands for a crashed holder) …
    assert store.acquire_lease("nightly", "host-a:1", timedelta(seconds=-1))
    assert store.acquire_lease("nightly", "host-b:2", hour)  # … and host-b takes over
    assert not store.renew_lease("nightly", "host-a:1", hour)
    assert store.release_lease("nightly", "host-b:2")
    assert store.acquire_lease("nightly", "host-a:1", hour)


def test_racing_for_a_lease_has_exactly_one_winner(store: Store) -> None:
    holders = [f"worker-{i}" for i in range(8)]
    start = threading.Barrier(len(holders))
    won: dict[str, bool] = {}

    def contend(holder: str) -> None:
        start.wait()
        won[holder] = store.acquire_lease("nightly", holder, timedelta(hours=1))

    threads = [threading.Thread(target=contend, args=(h,)) for h in holders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == holders
    assert sum(won.values()) == 1


def test_a_body_packed_at_the_crawl_is_stored_as_it_is(store: Store) -> None:
    from probe.store.blobs import PackedBody, pack_body, raw_body

    body = body_of("Trang chủ " * 300)
    key, packed = pack_body(body)
    assert key == sha(body) and isinstance(packed, PackedBody)
    assert packed.size == len(body) and len(packed) < len(body) // 3
    assert raw_body(packed) == body and raw_body(body) == body
    site = make_site(URL, bodies={"": body})
    object.__setattr__(site, "bodies", {key: packed})
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], None)
    assert _blobs(store)[key][2] == len(body)
    assert store.load_body(key) == body
