"""Canonical URLs: one spelling per page, nothing crawlable lost, nothing else kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.net.canon import canonical, is_document, same_site

BASE = "http://So.QuangBinh.gov.vn:80/a/b/page.html?x=1"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("HTTP://Example.GOV.vn:80/x#frag", "http://example.gov.vn/x"),
        ("https://example.gov.vn:443", "https://example.gov.vn/"),
        ("https://example.gov.vn:8443/x", "https://example.gov.vn:8443/x"),
        ("/tin-tuc?id=3", "http://so.quangbinh.gov.vn/tin-tuc?id=3"),
        ("//cdn.gov.vn/x", "http://cdn.gov.vn/x"),
        ("c.html", "http://so.quangbinh.gov.vn/a/b/c.html"),
        ("../c.html", "http://so.quangbinh.gov.vn/a/c.html"),
        ("/a/./b/../c", "http://so.quangbinh.gov.vn/a/c"),
        ("?page=2", "http://so.quangbinh.gov.vn/a/b/page.html?page=2"),
        ("/x;jsessionid=ABC123?y=1", "http://so.quangbinh.gov.vn/x?y=1"),
        ("/x?PHPSESSID=abc&id=7&sid=9", "http://so.quangbinh.gov.vn/x?id=7"),
        ("/x?id=7&b=2&a=1", "http://so.quangbinh.gov.vn/x?id=7&b=2&a=1"),  # order kept
        ("  /x\n/y\t ", "http://so.quangbinh.gov.vn/x/y"),
        ("http://example.gov.vn./x", "http://example.gov.vn/x"),
    ],
)
def test_canonical_forms(href: str, expected: str) -> None:
    assert canonical(href, BASE) == expected


@pytest.mark.parametrize(
    "href",
    ["mailto:a@b.vn", "javascript:void(0)", "tel:0232", "ftp://x/y", "data:text/html,x",
     "file:///etc/passwd", "http://host:99999/", "http://host:abc/", "http:///x"],
)  # fmt: skip
def test_not_crawlable(href: str) -> None:
    assert canonical(href, BASE) is None


def test_relative_without_base_is_none() -> None:
    assert canonical("/x") is None
    assert canonical("http://a.vn/x") == "http://a.vn/x"


def test_documents_and_sites() -> None:
    assert is_document("http://a.vn/files/QD-123.PDF?download=1")
    assert is_document("http://a.vn/x.docx#p2")
    assert not is_document("http://a.vn/tin-tuc.aspx?file=a.pdf")
    assert not is_document("http://a.vn/v1.2/trang")
    assert same_site("https://www.a.gov.vn/x", "http://a.gov.vn/")
    assert not same_site("http://lethuy.quangbinh.gov.vn/", "http://quangbinh.gov.vn/")


@given(st.text(max_size=200), st.sampled_from([BASE, "https://x.vn", "http://[::1]:8080/a"]))
def test_canonical_never_crashes_and_is_idempotent(href: str, base: str) -> None:
    url = canonical(href, base)
    if url is not None:
        assert url.startswith(("http://", "https://"))
        assert "#" not in url
        assert canonical(url) == url


@given(
    st.from_regex(r"https?://[a-zA-Z0-9.-]{1,20}(:[0-9]{1,5})?(/[a-z0-9/._~%-]*)?(\?[a-z=&0-9]*)?")
)
def test_canonical_of_absolute_urls_is_stable(url: str) -> None:
    first = canonical(url)
    if first is not None:
        assert canonical(first) == first
        assert canonical(url.upper()[:4] + url[4:]) == first  # scheme case ignored


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("0 #", "http://so.quangbinh.gov.vn/a/b/0%20"),
        ("x.html #top", "http://so.quangbinh.gov.vn/a/b/x.html%20"),
        ("/x?a= &sid=1", "http://so.quangbinh.gov.vn/x?a=%20"),
        ("/x?\u3000#", "http://so.quangbinh.gov.vn/x?%E3%80%80"),
        ("/a b/c", "http://so.quangbinh.gov.vn/a b/c"),  # inner spaces stay as they were
    ],
)
def test_whitespace_left_at_the_end_is_percent_encoded(href: str, expected: str) -> None:
    """Whitespace before a fragment (or a dropped session id) ends the URL: written raw,
    canonical() of the result would strip it, and one page would have two spellings."""
    url = canonical(href, BASE)
    assert url == expected
    assert canonical(url) == url


def test_origins_are_normalised_per_scheme() -> None:
    """The cached origin part depends on the scheme: 443 is the default port of https only."""
    assert canonical("https://A.vn:443/x") == "https://a.vn/x"
    assert canonical("http://A.vn:443/x") == "http://a.vn:443/x"
    assert canonical("http://u@A.vn:80/x") == "http://u@a.vn/x"
    assert canonical("http://A.vn:99999/x") is None
