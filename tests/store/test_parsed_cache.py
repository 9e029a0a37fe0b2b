"""The parse cache in the store: written only when asked, read back per page with or
instead of the body, touched when used and pruned with retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from probe.store import Store, parsed
from probe.store.blobs import TOUCH_SLACK
from probe.store.models import PageRecord, ParsedPage
from probe.store.pagecodec import decode_page, parsed_key
from tests.store.conftest import NOW, Clock, body_of, make_site, sha

URL = "http://lethuy.test/"


def _keys(store: Store) -> dict[str, object]:
    with store.session() as s:
        return dict(s.execute(sa.select(ParsedPage.key, ParsedPage.last_seen_at)).all())


def test_parses_written_when_asked_and_read_instead_of_bodies(store: Store) -> None:
    home, about = body_of("Trang chủ " * 50), body_of("Giới thiệu")
    site = make_site(URL, bodies={"": home, "gt": about}, etag='"v1"')
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], 1.0)
    assert _keys(store) == {}  # cached_parses=None: the cache is left alone
    rows = store.validators_with_parses(URL)
    assert {u: (r[3], r[5]) for u, r in rows.items()} == {
        URL: (home, b""),
        URL + "gt": (about, b""),
    }

    run = store.start_run("manual", "nd43-2011", 1, {}, 1)
    store.save_portal(run, site, [], 1.0, cached_parses=set())
    assert set(_keys(store)) == {parsed_key(p.url, p.content_hash) for p in site.pages}
    rows = store.validators_with_parses(URL)
    for page in site.pages:
        etag, _modified, ctype, body, digest, parse = rows[page.url]
        assert (etag, ctype, body, digest) == ('"v1"', page.content_type, b"", sha(body_of(
            "Trang chủ " * 50)) if page.url == URL else sha(about))  # fmt: skip
        fields = {"content_type": page.content_type, "content_hash": page.content_hash}
        back = decode_page(parse, base=page.url, url=page.url, final_url=page.url,
                           status=200, fetched_at=page.fetched_at, elapsed_ms=page.elapsed_ms,
                           depth=page.depth, etag=page.etag,
                           last_modified=page.last_modified, **fields)  # fmt: skip
        assert back == page


def test_used_parses_are_touched_and_unused_ones_pruned(store: Store, clock: Clock) -> None:
    home = body_of("Trang chủ")
    site = make_site(URL, bodies={"": home}, etag='"v1"')
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], 1.0,
                      cached_parses=set())  # fmt: skip
    key = parsed_key(URL, sha(home))
    first_seen = _keys(store)[key]
    clock.advance(TOUCH_SLACK + timedelta(hours=1))
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], 1.0,
                      cached_parses={key})  # fmt: skip
    assert _keys(store)[key] > first_seen
    store.prune_bodies(0, now=NOW + timedelta(days=3650))
    assert _keys(store) == {}
    assert store.validators_with_parses(URL) == {}  # body pruned too: nothing to send


def _reads(store: Store) -> list[str]:
    """Record the SQL statements the store runs from now on."""
    seen: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda _c, _cur, sql, *_a: seen.append(sql.split()[0]))  # fmt: skip
    return seen


def test_second_night_reads_a_portal_in_one_statement(store: Store) -> None:
    pages = {"": body_of("Trang chủ"), "gt": body_of("Giới thiệu"), "lh": body_of("Liên hệ")}
    site = make_site(URL, bodies=pages, etag='"v1"')
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], 1.0,
                      cached_parses=set())  # fmt: skip
    seen = _reads(store)
    rows = store.validators_with_parses(URL)
    assert [s for s in seen if s.upper() not in ("BEGIN", "ROLLBACK")] == ["SELECT"]
    assert {u: (r[3], bool(r[5])) for u, r in rows.items()} == {
        p.url: (b"", True) for p in site.pages
    }


def test_rows_without_a_recorded_key_still_find_their_parse(store: Store) -> None:
    """Pages saved before migration 0003 (parse_key "") or under another codec's key."""
    home, about = body_of("Trang chủ"), body_of("Giới thiệu")
    site = make_site(URL, bodies={"": home, "gt": about}, etag='"v1"')
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], 1.0,
                      cached_parses=set())  # fmt: skip
    with store.write_session() as s:
        s.execute(sa.update(PageRecord).where(PageRecord.url == URL).values(parse_key=""))
        s.execute(sa.update(PageRecord).where(PageRecord.url == URL + "gt")
                  .values(parse_key="0" * 64))  # fmt: skip
    rows = store.validators_with_parses(URL)
    for page in site.pages:
        *_, body, _digest, parse = rows[page.url]
        assert body == b"" and decode_page(parse, base=page.url, url=page.url,
                                           final_url=page.url, status=200) is not None  # fmt: skip
    with store.write_session() as s:  # no parse under tonight's key either: the body instead
        s.execute(sa.delete(ParsedPage).where(ParsedPage.key == parsed_key(URL, sha(home))))
    assert store.validators_with_parses(URL)[URL][3:6:2] == (home, b"")


def test_a_cached_parse_is_not_encoded_again(
    store: Store, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    site = make_site(URL, bodies={"": body_of("Trang chủ"), "gt": body_of("Giới thiệu")})
    encoded: list[str] = []
    real = parsed.encode_page
    monkeypatch.setattr(parsed, "encode_page", lambda p: encoded.append(p.url) or real(p))
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], 1.0,
                      cached_parses=set())  # fmt: skip
    assert sorted(encoded) == [URL, URL + "gt"]
    before = _keys(store)
    # A later night got 200s with the same bodies (no 304): nothing encoded, all touched.
    clock.advance(TOUCH_SLACK + timedelta(hours=1))
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], 1.0,
                      cached_parses=set())  # fmt: skip
    assert sorted(encoded) == [URL, URL + "gt"]
    after = _keys(store)
    assert set(after) == set(before) and all(after[k] > before[k] for k in before)


def test_entries_the_crawl_encoded_are_stored_as_they_are(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`PortalArtifacts.parses` (encoded as the pages came in) is what the cache gets;
    only a page without one is encoded by the store."""
    from dataclasses import replace

    from probe.store.pagecodec import encode_page

    pages = {"": body_of("Trang chủ"), "gt": body_of("Giới thiệu")}
    site = make_site(URL, bodies=pages, etag='"v1"')
    home, about = site.pages
    early = encode_page(replace(home, title="mã hoá lúc tải"))  # told apart by its title
    site = replace(site, parses={parsed_key(home.url, home.content_hash): early})
    encoded: list[str] = []
    real = parsed.encode_page
    monkeypatch.setattr(parsed, "encode_page", lambda p: encoded.append(p.url) or real(p))
    store.save_portal(store.start_run("manual", "nd43-2011", 1, {}, 1), site, [], 1.0,
                      cached_parses=set())  # fmt: skip
    assert encoded == [about.url]
    rows = store.validators_with_parses(URL)
    assert rows[URL][5] == early and rows[URL + "gt"][5] == real(about)
