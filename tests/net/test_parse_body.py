"""`parse_body`: a body that declares UTF-8 is parsed as sent and decoded the careful way
only when its page shows replacement characters; the page is the one the careful way
gives, whatever the body holds."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probe.extract import parse_page
from probe.net.crawl import parse_body
from probe.net.decode import declares_utf8, decode_html
from tests.net.net_faults import to_cp1258

URL = "http://so.example.gov.vn/"
UTF8 = "text/html; charset=utf-8"


def _careful(body: bytes, content_type: str):  # type: ignore[no-untyped-def]
    markup, charset = decode_html(body, content_type)
    return parse_page(markup, url=URL, final_url=URL, status=200, content_type=content_type,
                      charset=charset)  # fmt: skip


def _fast(body: bytes, content_type: str):  # type: ignore[no-untyped-def]
    return parse_body(body, url=URL, final_url=URL, status=200, content_type=content_type)


def _html(title: str, body: str, href: str = "/gioi-thieu") -> str:
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>'
        f'<nav><a href="{href}" title="Giới thiệu chung">Giới thiệu</a></nav>'
        f"<main><p>{body}</p></main><footer>© Sở Thông tin và Truyền thông</footer>"
        "</body></html>"
    )


@pytest.mark.parametrize(
    ("content_type", "head", "expected"),
    [
        (UTF8, b"<html>", True),
        ("text/html", b'<html><head><meta charset="UTF-8">', True),
        ("text/html", b'<meta http-equiv="Content-Type" content="text/html; charset=utf8">', True),
        ("text/html; charset=windows-1258", b'<meta charset="utf-8">', False),
        ("text/html", b"<html>", False),  # nothing declared: detection decides
        (UTF8, b"\xef\xbb\xbf<html>", False),  # a BOM: the careful way strips it
        ("text/html; charset=nonsense", b'<meta charset="utf-8">', True),
    ],
)
def test_declares_utf8(content_type: str, head: bytes, expected: bool) -> None:
    assert declares_utf8(head + b"<body>x</body>", content_type) is expected


BODIES = {
    "utf-8": _html("Tin tức", "Thủ tục hành chính mức độ 4").encode(),
    "decomposed": unicodedata.normalize("NFD", _html("Tin tức", "Cơ cấu tổ chức")).encode(),
    "cp1258 said to be utf-8": to_cp1258(_html("Giới thiệu", "Cơ cấu tổ chức của Sở")),
    "a stray byte in the text": _html("Tin tức", "Thông báo " * 50)
    .encode()
    .replace(b"Th", b"\xffTh", 1),
    "a stray byte in the title": _html("Tin tức", "Thông báo")
    .encode()
    .replace(b"Tin", b"T\xffin", 1),
    "a stray byte in a link": _html("Tin", "Thông báo")
    .encode()
    .replace(b"/gioi-thieu", b"/gi\xffoi-thieu"),
    "a real U+FFFD": _html("Tin tức", "Ký tự \ufffd lạ").encode(),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_the_fast_way_gives_the_careful_page(name: str) -> None:
    body = BODIES[name]
    assert _fast(body, UTF8) == _careful(body, UTF8)


def test_a_windows_1258_page_said_to_be_utf8_is_read_as_windows_1258() -> None:
    page = _fast(BODIES["cp1258 said to be utf-8"], UTF8)
    assert page.charset == "cp1258" and page.title == "Giới thiệu"
    assert "Cơ cấu tổ chức của Sở" in page.text


_PIECES = st.sampled_from(
    ["Sở ", "Thông tin ", "Truyền thông ", "tin tức ", "\u0301", "&amp; ", "<b>đậm</b> ", "\xa0",
     "\ufffd", "TTHC ", "<a href='/tthc'>TTHC</a> ", "é", "😀"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    title=st.lists(_PIECES, max_size=4).map("".join),
    text=st.lists(_PIECES, max_size=30).map("".join),
    junk=st.lists(st.sampled_from([b"\xff", b"\xc3", b"\xe1\xbb", b"\x80"]), max_size=3),
    at=st.integers(min_value=0, max_value=400),
)
def test_any_body_said_to_be_utf8_gives_the_careful_page(
    title: str, text: str, junk: list[bytes], at: int
) -> None:
    body = _html(title, text).encode()
    for piece in junk:  # bytes that are not UTF-8, anywhere (tags, attributes, text)
        cut = min(at, len(body))
        body = body[:cut] + piece + body[cut:]
    assert _fast(body, UTF8) == _careful(body, UTF8)


def test_bad_bytes_only_in_markup_keep_the_declared_utf8() -> None:
    """Where the bytes that are not UTF-8 sit only in markup (here a link target) and are
    too many for the careful way (more than 1 in 200 characters), that way gives up the
    declaration and reads the page as windows-1258, garbling every Vietnamese word; the
    text says the declaration was right, so the page is kept as UTF-8."""
    body = (
        _html("Tin tức", "Thông báo")
        .encode()
        .replace(b"/gioi-thieu", b"/gi" + b"\xff" * 40 + b"oi")
    )
    careful = _careful(body, UTF8)
    assert careful.charset == "cp1258" and careful.title != "Tin tức"
    page = _fast(body, UTF8)
    assert page.charset == "utf-8" and page.title == "Tin tức" and "Thông báo" in page.text
    assert page.links[0].url.startswith("http://so.example.gov.vn/gi\ufffd")


def test_a_real_replacement_character_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A UTF-8 page that really holds U+FFFD (common where a portal once mangled its own
    content) is decoded the careful way to find it is UTF-8 after all, and the page
    already parsed is kept rather than parsed again; bad bytes are parsed twice."""
    import probe.net.crawl as crawl

    calls: list[object] = []

    def counted(html: str | bytes, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(html)
        return parse_page(html, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(crawl, "parse_page", counted)
    real = BODIES["a real U+FFFD"]
    assert _fast(real, UTF8) == _careful(real, UTF8) and calls == [real]
    calls.clear()
    stray = BODIES["a stray byte in the text"]
    assert _fast(stray, UTF8) == _careful(stray, UTF8) and len(calls) == 2
