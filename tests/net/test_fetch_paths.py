"""The fetch path's shortcuts give what the long way gives, on the inputs that take them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.artifacts import Page
from probe.extract import parse_page
from probe.net.canon import same_site
from probe.net.crawl import MAX_LINKS_PER_PAGE, _Crawl
from probe.net.fetch import _PASSED, _check_url
from probe.net.guard import AddressPolicy, RefusedAddress
from probe.net.hosts import HostGate
from probe.settings import Settings

STRICT = AddressPolicy(allow_private=False)
LAX = AddressPolicy(allow_private=True)


def _verdict(fast: bool, policy: AddressPolicy, url: str) -> tuple[str, str] | None:
    """None if `url` passes, else the refusal; through `_check_url` or `check_url` itself."""
    try:
        _check_url(policy, url) if fast else policy.check_url(url)
    except RefusedAddress as exc:
        return exc.code, exc.message
    return None


URLS = [
    "http://127.0.0.1:8080/a",
    "http://127.0.0.1:8080/b?x=1",
    "https://portal.hanoi.gov.vn/tin-tuc/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0x7f.1/",
    "http://2130706433/x",
    "http://[::1]:8080/",
    "http://10.0.0.1:99999/",
    "ftp://example.vn/file",
    "http://example.vn?q=/x",
    "http:///x/y",
    "HTTP://127.0.0.1/",
]


@pytest.mark.parametrize("policy", [STRICT, LAX])
def test_check_url_remembered_per_origin_answers_as_check_url(policy: AddressPolicy) -> None:
    _PASSED.clear()
    for _ in range(2):  # the second round asks the remembered origins
        for url in URLS:
            assert _verdict(True, policy, url) == _verdict(False, policy, url)


def test_a_refusal_is_never_remembered() -> None:
    _PASSED.clear()
    for _ in range(3):
        with pytest.raises(RefusedAddress):
            _check_url(STRICT, "http://127.0.0.1:8080/a")
    assert not _PASSED
    _check_url(LAX, "http://127.0.0.1:8080/a")  # passed under the lax policy only
    with pytest.raises(RefusedAddress):
        _check_url(STRICT, "http://127.0.0.1:8080/b")


@given(st.text(alphabet="abc019.:-/?#[]@%x", max_size=30), st.sampled_from(["http://", "https://"]))
def test_any_spelling_answers_as_check_url(rest: str, scheme: str) -> None:
    url = scheme + rest
    for policy in (STRICT, LAX):
        first = _verdict(True, policy, url)
        assert first == _verdict(False, policy, url)
        assert _verdict(True, policy, url) == first  # once remembered, too


# -- the crawl's link queue ----------------------------------------------------------------


def _enqueue_the_long_way(crawl: _Crawl, page: Page, depth: int) -> None:
    """`_Crawl.enqueue_links` as it was before seen links were dropped first."""
    links = page.links[:MAX_LINKS_PER_PAGE]
    nav = [link for link in links if link.region == "nav"]
    ordered = nav + [link for link in links if link.region != "nav"] if nav else links
    room = crawl.settings.max_pages - crawl.attempted - len(crawl.queue)
    for link in ordered:
        if link.url in crawl.seen:
            continue
        crawl.seen.add(link.url)
        if link.is_document:
            crawl.documents.append(link)
            continue
        if depth >= crawl.settings.max_depth or room <= 0 or not same_site(link.url, crawl.root):
            continue
        if crawl.robots is not None and not crawl.robots.allowed(link.url):
            crawl.disallowed.append(link.url)
            continue
        crawl.order += 1
        crawl.queue.append((crawl.order, link.url, depth + 1))
        room -= 1


def test_links_are_queued_as_before_with_seen_and_repeated_links() -> None:
    """Menus repeat links already seen and a page names a link twice (menu and body)."""
    html = (
        "<html><body><nav><a href='/a'>A</a><a href='/b'>B</a><a href='/x.pdf'>X</a>"
        "<a href='/c'>C</a></nav><main><a href='/c'>C again</a><a href='/d'>D</a>"
        "<a href='/a'>A again</a><a href='http://other.test/'>O</a><a href='/e'>E</a>"
        "<a href='/x.pdf'>X again</a><a href='/f'>F</a></main></body></html>"
    )
    page = parse_page(html, url="http://site.test/", final_url="http://site.test/", status=200)
    assert [link.region for link in page.links].count("nav") == 4
    outcomes = []
    for enqueue in (_enqueue_the_long_way, _Crawl.enqueue_links):
        for max_pages in (60, 4):
            settings = Settings().with_(max_pages=max_pages)
            crawl = _Crawl(None, settings, HostGate(settings), {})  # type: ignore[arg-type]
            crawl.root = "http://site.test/"
            crawl.seen.update({"http://site.test/", "http://site.test/b", "http://site.test/e"})
            crawl.attempted = 1
            enqueue(crawl, page, 0)
            outcomes.append((list(crawl.queue), crawl.documents, sorted(crawl.seen)))
    assert outcomes[:2] == outcomes[2:]
    assert [url for _, url, _ in outcomes[0][0]] == [
        "http://site.test/a", "http://site.test/c", "http://site.test/d", "http://site.test/f"
    ]  # fmt: skip
    assert len(outcomes[1][0]) == 3  # room for 4 pages, one attempted
