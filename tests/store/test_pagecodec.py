"""The parse cache's codec: a decoded page equals the parse it was made from, and an
entry that does not fit (other extractor, other base URL, damaged) is refused, not used."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import fields, replace
from datetime import UTC, date, datetime

import brotli
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.artifacts import DateMention, Link, Page
from probe.extract import EXTRACT_VERSION, parse_page
from probe.store import pagecodec
from probe.store.pagecodec import decode_page, encode_page, join_slices, parsed_key, slices_of

URL = "http://127.0.0.1/tin-tuc/"
HTML = """<html><head><title>Cổng  thông tin điện tử</title>
<meta name="DC.title" content="Sở Tư pháp"><base href="/goc/"></head><body>
<nav><a href="gioi-thieu">Giới thiệu</a><a href="/van-ban.pdf">Văn bản</a></nav>
<main><h1>Tin tức</h1><p>Cập nhật ngày 03/11/2026, liên hệ so.tp@example.gov.vn.</p>
<time datetime="2026-11-02">2/11</time><a href="mailto:a@b.vn">thư</a>
<a href="x"><img alt="Hỏi đáp"></a>
<form action="/tim" method="post"><input name="q" placeholder="Tìm kiếm">
<input type="file" name="f"><button>Gửi</button></form></main>
<footer>Bản quyền © Sở Tư pháp. Chịu trách nhiệm: Giám đốc.</footer></body></html>"""


def _fetch_fields() -> dict[str, object]:
    return {
        "url": URL,
        "final_url": URL,
        "status": 200,
        "content_type": "text/html; charset=utf-8",
        "fetched_at": datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
        "elapsed_ms": 12.5,
        "depth": 1,
        "redirects": (("http://127.0.0.1/tin-tuc", 301),),
        "etag": '"abc"',
        "last_modified": "",
        "content_hash": "0" * 64,
        "not_modified": True,
    }


def _page() -> Page:
    fields = _fetch_fields()
    url, final_url, status = fields.pop("url"), fields.pop("final_url"), fields.pop("status")
    return parse_page(
        HTML, url=url, final_url=final_url, status=status, charset="utf-8", size=len(HTML),
        **fields,
    )  # fmt: skip


def test_decoded_page_equals_the_parse() -> None:
    page = _page()
    assert page.links and page.forms and page.dates and page.emails and page.meta
    decoded = decode_page(encode_page(page), base=URL, **_fetch_fields())
    assert decoded == page


def test_fetch_fields_come_from_tonight() -> None:
    page = _page()
    tonight = {**_fetch_fields(), "etag": '"new"', "elapsed_ms": 1.0, "depth": 2}
    decoded = decode_page(encode_page(page), base=URL, **tonight)
    assert decoded is not None
    assert (decoded.etag, decoded.elapsed_ms, decoded.depth) == ('"new"', 1.0, 2)
    assert decoded.links == page.links and decoded.text == page.text


def test_other_base_is_refused() -> None:
    assert decode_page(encode_page(_page()), base=URL + "khac", **_fetch_fields()) is None


def _format1(page: Page) -> bytes:
    """An entry as the first codec wrote it (JSON of dicts' values, zlib)."""
    doc = [1, EXTRACT_VERSION, page.final_url or page.url, page.charset, page.size, page.title,
           page.text, page.main_text, page.footer_text, [], [], [], [], [], []]  # fmt: skip
    return zlib.compress(json.dumps(doc, ensure_ascii=False).encode(), 1)


@pytest.mark.parametrize(
    "damage",
    [b"", b"not brotli", brotli.compress(b"[1, 2]"), brotli.compress(b"\x05\x00\x00\x00[1,2]")],
)
def test_damaged_entry_is_refused(damage: bytes) -> None:
    assert decode_page(damage, base=URL, **_fetch_fields()) is None


def test_truncated_entry_is_refused() -> None:
    data = encode_page(_page())
    assert decode_page(data[: len(data) // 2], base=URL, **_fetch_fields()) is None


def test_first_format_entry_is_refused_not_misread() -> None:
    assert decode_page(_format1(_page()), base=URL, **_fetch_fields()) is None


def test_other_extractor_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    key = parsed_key(URL, "1" * 64)
    monkeypatch.setattr(pagecodec, "EXTRACT_VERSION", EXTRACT_VERSION + 1)
    stale = encode_page(_page())
    assert parsed_key(URL, "1" * 64) != key
    monkeypatch.setattr(pagecodec, "EXTRACT_VERSION", EXTRACT_VERSION)
    assert decode_page(stale, base=URL, **_fetch_fields()) is None


def test_key_depends_on_url_body_and_extractor() -> None:
    a = parsed_key(URL, "1" * 64)
    assert a == parsed_key(URL, "1" * 64)
    assert a != parsed_key(URL + "x", "1" * 64)
    assert a != parsed_key(URL, "2" * 64)
    assert len(a) == 64


def test_link_layout_is_the_one_the_fast_builder_knows() -> None:
    """A new `Link` field still round-trips (through the constructor), but the fast path
    and this test should be updated with it."""
    assert tuple(f.name for f in fields(Link)) == (
        "url", "text", "title", "alt", "region", "is_document",
    )  # fmt: skip


def test_odd_pages_round_trip() -> None:
    """Lone surrogates (orjson refuses them), astral characters, texts not made of the
    page text, empty texts and a document link all come back as they were."""
    page = replace(
        _page(),
        title="Tiêu đề \udcff lẻ",
        text="😀 Trang chủ \ud800 Giới thiệu",
        main_text="Giới thiệu 😀",
        footer_text="chân trang ngoài văn bản",
        links=(Link("http://127.0.0.1/a.pdf", "", "t\udcff", "", "footer", True),),
        headings=(),
        dates=(DateMention(date(2026, 11, 3), "03/11/2026", "text"),),
    )
    assert decode_page(encode_page(page), base=URL, **_fetch_fields()) == page
    empty = replace(page, text="", main_text="", footer_text="", links=(), dates=(), meta=())
    assert decode_page(encode_page(empty), base=URL, **_fetch_fields()) == empty


def test_long_texts_round_trip_as_slices_of_the_text() -> None:
    words = [f"từ{i}" for i in range(3000)]
    page = replace(
        _page(),
        text=" ".join(words),
        main_text=" ".join(words[200:2500] + words[2600:2900]),
        footer_text=" ".join(words[2900:]),
    )
    data = encode_page(page)
    raw = brotli.decompress(data)
    (size,) = struct.unpack_from("<I", raw)
    main, footer = orjson.loads(raw[4 : 4 + size])[7:9]
    assert len(main) == 2 and all(isinstance(s, list) for s in main)
    assert isinstance(footer, str)  # short: stored as it is
    assert decode_page(data, base=URL, **_fetch_fields()) == page


_TEXTS = st.text(alphabet="ab đ😀\n", max_size=60)


@given(whole=_TEXTS, part=_TEXTS)
def test_slices_rebuild_any_part(whole: str, part: str) -> None:
    assert join_slices(whole, slices_of(whole, part)) == part


@given(runs=st.lists(st.tuples(st.integers(5, 40), st.integers(0, 20)), max_size=8))
def test_region_words_left_out_give_few_slices(runs: list[tuple[int, int]]) -> None:
    """`main_text` is the page's words with region runs left out: a slice or two per run
    kept (a run's end may share a prefix with the word left out after it), no literals."""
    words: list[str] = []
    kept: list[str] = []
    for keep, drop in runs:
        run = [f"từ-ngữ-{len(words) + k:04d}" for k in range(keep + drop)]
        words += run
        kept += run[:keep]
    whole, part = " ".join(words), " ".join(kept)
    slices = slices_of(whole, part)
    assert join_slices(whole, slices) == part
    assert all(not isinstance(s, str) for s in slices)
    assert len(slices) <= max(1, 2 * len(runs))
