"""Whole-portal crawls: outcome and reason say what happened, and every crawl is bounded."""

from __future__ import annotations

import asyncio
import tracemalloc
from dataclasses import replace
from typing import Any

import pytest

from probe.artifacts import PortalArtifacts
from probe.net.client import build_client
from probe.net.crawl import Validator, _Crawl, crawl_portal
from probe.settings import ConnectTo, Settings
from probe.store.blobs import raw_body
from probe.store.pagecodec import encode_page, parsed_key
from tests.net.net_faults import NOW, FaultServer, run_crawl


def test_normal_portal(server: FaultServer, settings: Settings) -> None:
    site = run_crawl(settings, "http://Site.test:80/#top")
    assert site.outcome == "checked" and site.reason is None
    urls = [p.url for p in site.pages]
    assert urls[0] == "http://site.test/"
    assert len(urls) == len(set(urls))  # fragment and session id variants fetched once
    assert "http://site.test/tin-tuc" in urls and "http://site.test/gioi-thieu" in urls
    assert not any("other.test" in u for u in urls)  # off-site never followed
    assert [d.url for d in site.document_links] == ["http://site.test/van-ban.pdf"]
    assert server.hits[("site.test", "/van-ban.pdf")] == 0  # documents are never fetched
    assert all(p.depth <= settings.max_depth for p in site.pages)
    moved = site.page_for("http://site.test/moved")
    assert moved is not None and moved.redirects == (("http://site.test/moved", 301),)
    home = site.home
    assert home is not None and home.content_hash in site.bodies
    assert home.charset == "utf-8" and home.size == len(raw_body(site.bodies[home.content_hash]))


def test_robots_disallow_recorded_not_fetched(server: FaultServer, settings: Settings) -> None:
    site = run_crawl(settings, "http://site.test/")
    assert site.robots is not None and site.robots.status == "ok"
    assert site.robots.disallowed == ("http://site.test/private/x",)
    failure = site.failure_for("http://site.test/private/x")
    assert failure is not None and failure.code == "robots"
    assert server.hits[("site.test", "/private/x")] == 0


def test_robots_disallowing_home_blocks(server: FaultServer, settings: Settings) -> None:
    site = run_crawl(settings, "http://blocked.test/")
    assert site.outcome == "blocked" and site.reason is not None
    assert site.reason.code == "robots_disallow"
    assert server.hits[("blocked.test", "/")] == 0


@pytest.mark.parametrize(
    ("host", "status", "pages"),
    [
        ("robots-hang", "error", 1),  # timeout: home page only
        ("robots-huge", "error", 1),
        ("robots-500", "error", 1),
        ("robots-html", "missing", 3),  # HTML is no robots.txt: allow all
        ("site", "ok", 7),
    ],
)
def test_robots_faults(settings: Settings, host: str, status: str, pages: int) -> None:
    site = run_crawl(settings, f"http://{host}.test/")
    assert site.outcome == "checked"
    assert site.robots is not None and site.robots.status == status, site.robots.message
    assert len(site.pages) == pages
    if status == "error":
        assert "home page only" in site.robots.message or "larger" in site.robots.message


def test_crawl_delay_clamped(settings: Settings) -> None:
    site = run_crawl(settings, "http://robots-delay.test/")
    assert site.robots is not None and site.robots.crawl_delay == settings.max_crawl_delay
    assert "clamped" in site.robots.message


@pytest.mark.parametrize(
    ("host", "outcome", "code"),
    [
        ("hang", "timeout", "read_timeout"),
        ("trickle", "timeout", "slow_response"),
        ("endless", "error", "too_large"),
        ("huge", "error", "too_large"),
        ("gzip-bomb", "error", "decompression_bomb"),
        ("br-bomb", "error", "decompression_bomb"),
        ("reset", "unreachable", "connection_reset"),
        ("garbage", "error", "invalid_response"),
        ("badlength", "error", "incomplete_body"),
        ("loop", "error", "redirect_loop"),
        ("chain", "error", "too_many_redirects"),
        ("e500", "error", "http_500"),
        ("image", "error", "not_html"),
        ("botwall", "blocked", "bot_wall"),
        ("redirect-metadata", "refused", "address_refused"),
    ],
)
def test_home_page_faults(settings: Settings, host: str, outcome: str, code: str) -> None:
    tracemalloc.start()
    try:
        site = run_crawl(settings, f"http://{host}.test/")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (site.outcome, site.reason and site.reason.code) == (outcome, code), site.reason
    assert site.reason is not None and site.reason.message
    assert site.failure_for(f"http://{host}.test/") is not None
    assert not site.pages
    assert peak < 4 * settings.max_body_bytes


def test_unreachable_portal(settings: Settings) -> None:
    """Nothing listens on port 9 of loopback: robots fails to connect, home is not retried."""
    closed = settings.with_(connect_to=(ConnectTo("", None, "127.0.0.1", 9),))
    site = run_crawl(closed, "http://down.test/")
    assert site.outcome == "unreachable" and site.reason is not None
    assert site.reason.code == "connect_error"


def test_redirected_home_records_chain(settings: Settings) -> None:
    site = run_crawl(settings, "http://chain3.test/")
    assert site.outcome == "checked"
    assert site.final_url == "http://chain3.test/3"
    assert [s for _, s in site.redirect_chain] == [301, 302, 301]


def test_windows_1258_page(settings: Settings) -> None:
    site = run_crawl(settings, "http://cp1258.test/")
    assert site.home is not None and site.home.title == "Giới thiệu"
    assert "Cơ cấu tổ chức" in site.home.text and site.home.charset == "cp1258"


def test_invalid_bytes_page(settings: Settings) -> None:
    site = run_crawl(settings, "http://invalid-bytes.test/")
    assert site.home is not None and site.home.title == "Tin tức"


def test_non_html_subpage_recorded_as_document(settings: Settings) -> None:
    site = run_crawl(settings, "http://robots-html.test/")  # a normal page linking /a, /b
    assert site.outcome == "checked"
    assert not site.document_links
    image = run_crawl(settings, "http://image.test/")
    assert image.outcome == "error" and image.reason is not None
    assert "image/png" in image.reason.message


def test_hundred_thousand_links_bounded(server: FaultServer, settings: Settings) -> None:
    big = settings.with_(max_body_bytes=8 * 1024 * 1024, max_pages=20)
    site = run_crawl(big, "http://many-links.test/")
    assert site.outcome == "checked"
    assert len(site.pages) == 20
    assert sum(n for (h, _), n in server.hits.items() if h == "many-links.test") == 21


def test_link_trap_bounded_by_max_pages(server: FaultServer, settings: Settings) -> None:
    deep = settings.with_(max_pages=15, max_depth=1000)
    site = run_crawl(deep, "http://trap.test/")
    assert site.outcome == "checked" and len(site.pages) == 15
    assert server.hits[("trap.test", "/robots.txt")] == 1
    assert sum(n for (h, _), n in server.hits.items() if h == "trap.test") == 16


def test_slow_server_hits_portal_deadline(settings: Settings) -> None:
    slow = settings.with_(portal_deadline=1.0, max_pages=60, max_depth=5)
    site = run_crawl(slow, "http://slow.test/")
    assert site.outcome == "checked"  # the home page came in time
    assert site.reason is not None and site.reason.code == "deadline"
    assert 1 <= len(site.pages) < 60
    assert any(f.code == "deadline" for f in site.failures)


def test_deadline_before_home_page_is_timeout(settings: Settings) -> None:
    site = run_crawl(settings.with_(portal_deadline=0.3), "http://hang.test/")
    assert site.outcome == "timeout" and site.reason is not None
    assert site.reason.code in ("deadline", "read_timeout")


def test_retry_then_success_portal(settings: Settings) -> None:
    site = run_crawl(settings, "http://retry503.test/")
    assert site.outcome == "checked" and site.home is not None
    assert site.home.title == "Đã hồi phục"


def test_not_modified_uses_stored_body(server: FaultServer, settings: Settings) -> None:
    first = run_crawl(settings, "http://notmod.test/")
    home = first.home
    assert home is not None and home.etag == '"v1"' and not home.not_modified
    stored = Validator(home.etag, "", raw_body(first.bodies[home.content_hash]), home.content_type)
    again = run_crawl(settings, "http://notmod.test/", validators={"http://notmod.test/": stored})
    assert again.home is not None and again.home.not_modified
    assert again.home.title == home.title and again.home.ok


def test_not_modified_uses_cached_parse(server: FaultServer, settings: Settings) -> None:
    """A 304 with a cached parse takes the page from the cache (here marked by its
    title); a cache entry for another base URL is ignored and the body parsed instead."""
    first = run_crawl(settings, "http://notmod.test/")
    home = first.home
    assert home is not None
    body = raw_body(first.bodies[home.content_hash])
    marked = encode_page(replace(home, title="từ bộ nhớ đệm"))
    cached = Validator(home.etag, "", body, home.content_type, home.content_hash, marked)
    again = run_crawl(settings, "http://notmod.test/", validators={"http://notmod.test/": cached})
    assert again.home is not None and again.home.not_modified
    assert again.home.title == "từ bộ nhớ đệm"
    assert again.home.content_hash == home.content_hash and again.home.links == home.links
    assert home.content_hash not in again.bodies  # stored already: not kept again

    elsewhere = encode_page(replace(home, title="x", final_url="http://other.test/"))
    stale = Validator(home.etag, "", body, home.content_type, home.content_hash, elsewhere)
    third = run_crawl(settings, "http://notmod.test/", validators={"http://notmod.test/": stale})
    assert third.home is not None and third.home.not_modified and third.home.title == home.title


def test_cached_parse_that_does_not_fit_fetches_the_body(
    server: FaultServer, settings: Settings
) -> None:
    """Sent with a parse and no body, a 304 whose parse is for another base URL is
    fetched again unconditionally, so the page is parsed from a real body."""
    first = run_crawl(settings, "http://notmod.test/")
    home = first.home
    assert home is not None
    elsewhere = encode_page(replace(home, title="x", final_url="http://other.test/"))
    stale = Validator(home.etag, "", b"", home.content_type, home.content_hash, elsewhere)
    again = run_crawl(settings, "http://notmod.test/", validators={"http://notmod.test/": stale})
    assert again.outcome == "checked" and again.home is not None
    assert not again.home.not_modified and again.home.title == home.title
    assert again.home.content_hash == home.content_hash and home.content_hash in again.bodies


def test_a_fetched_page_frees_its_slot_before_it_is_parsed(
    server: FaultServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one request at a time per portal, the next queued URL is already being
    fetched when a page is parsed: a slow server's round trip overlaps the parsing
    instead of waiting for it (with many portals in flight, for every page that came in
    at the same time)."""
    page, fetch_queued = _Crawl.page, _Crawl.fetch_queued
    fetching: list[str] = []  # URLs whose fetch has begun and not ended
    begun: dict[str, list[str]] = {}

    async def fetch(self: _Crawl, order: int, url: str, depth: int) -> Any:
        fetching.append(url)
        try:
            return await fetch_queued(self, order, url, depth)
        finally:
            fetching.remove(url)

    def parse(self: _Crawl, url: str, result: Any, depth: int) -> Any:
        begun[url] = list(fetching)
        return page(self, url, result, depth)

    monkeypatch.setattr(_Crawl, "fetch_queued", fetch)
    monkeypatch.setattr(_Crawl, "page", parse)
    site = run_crawl(settings.with_(per_host_concurrency=1), "http://site.test/")
    assert site.outcome == "checked"
    assert begun["http://site.test/"] == []  # the home page is parsed before any other
    # Home queues /gioi-thieu, /tin-tuc, /moved; /gioi-thieu queues /co-cau after them.
    assert begun["http://site.test/gioi-thieu"] == ["http://site.test/tin-tuc"]
    assert begun["http://site.test/tin-tuc"] == ["http://site.test/moved"]
    last = [p.url for p in site.pages][-1]
    assert begun[last] == []  # nothing left to fetch


def test_new_pages_come_with_their_parse_cache_entries(
    server: FaultServer, settings: Settings
) -> None:
    """Each page parsed from a new body carries its parse-cache entry, encoded as it came
    in; a body the store already had (the same hash tonight) is left to the store, which
    most likely has its parse cached."""
    site = run_crawl(settings, "http://site.test/")
    assert site.pages and set(site.parses) == {
        parsed_key(p.url, p.content_hash) for p in site.pages
    }
    for page in site.pages:
        assert site.parses[parsed_key(page.url, page.content_hash)] == encode_page(page)

    home = site.home
    assert home is not None
    body = raw_body(site.bodies[home.content_hash])
    # Validators with no ETag: the server answers 200 with the same body.
    same = Validator("", "", body, home.content_type, home.content_hash)
    again = run_crawl(settings, "http://site.test/", validators={home.url: same})
    assert again.home is not None and again.home.content_hash == home.content_hash
    assert parsed_key(home.url, home.content_hash) not in again.parses
    assert len(again.parses) == len(again.pages) - 1


def test_crawl_does_not_depend_on_which_response_comes_first(
    server: FaultServer, settings: Settings
) -> None:
    """Pages are taken in the order their links were queued, whatever order the server
    answers in: a portal gives the same pages at the same depths every night, so its
    findings and their evidence do not change with the network's timing (and a night with
    nothing changed can reuse them). Here "/cham", linked first, answers last; "/x" is
    linked from it (depth 2) and from "/nhanh/2" (depth 3, past the bound). Taken as they
    came, "/x" was first seen on "/nhanh/2" and never fetched."""
    bounded = settings.with_(max_depth=2, per_host_concurrency=4, max_pages=8)
    runs = [run_crawl(bounded, "http://order.test/") for _ in range(2)]
    for site in runs:
        assert site.outcome == "checked"
        depths = {p.url.removeprefix("http://order.test"): p.depth for p in site.pages}
        assert depths["/x"] == 2 and depths["/cham"] == 1
        assert "/nhanh/3" not in depths  # depth 3
    # max_pages (8) cuts the same queue at the same place every time.
    assert [p.url for p in runs[0].pages] == [p.url for p in runs[1].pages]
    assert len(runs[0].pages) == 8


def test_pages_in_flight_at_the_hard_timeout_are_cancelled(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the portal's hard timeout (deadline + 1 s) cuts the crawl, the pages still
    being visited stop with it: none goes on fetching or adds to the artifacts after the
    portal is finished."""
    fetch_queued = _Crawl.fetch_queued
    started: list[str] = []
    cancelled: list[str] = []

    async def stuck(self: _Crawl, order: int, url: str, depth: int) -> Any:
        started.append(url)
        try:
            await asyncio.sleep(30)  # a fetch that ignores the portal deadline
        except asyncio.CancelledError:
            cancelled.append(url)
            raise
        return await fetch_queued(self, order, url, depth)

    monkeypatch.setattr(_Crawl, "fetch_queued", stuck)

    async def go() -> tuple[PortalArtifacts, list[str], list[asyncio.Task[Any]]]:
        async with build_client(settings, engine="aiohttp") as client:
            site = await crawl_portal(
                client, "http://site.test/", agency_id="a", agency_level="district",
                settings=settings.with_(portal_deadline=0.3), now=NOW,
            )  # fmt: skip
            stopped = list(cancelled)  # asyncio.run cancels what is left only at its end
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            return site, stopped, others

    site, stopped, others = asyncio.run(go())
    assert site.outcome == "checked" and site.reason is not None
    assert site.reason.code == "deadline" and [p.url for p in site.pages] == ["http://site.test/"]
    assert started and sorted(stopped) == sorted(started)
    assert not [t for t in others if "stuck" in repr(t.get_coro())]
