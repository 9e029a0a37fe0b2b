"""The parse cache's codec: a decoded page equals the parse it was made from, and an
entry that does not fit (other extractor, other base URL, damaged) is refused, not used."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import struct
import zlib
from dataclasses import FrozenInstanceError, asdict, astuple, fields, replace
from datetime import UTC, date, datetime
from typing import Any

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


_PREFIX = struct.Struct("<BII")  # format 4: format, head length, head CRC-32


def _head(data: bytes) -> list[Any]:
    (_, size, _) = _PREFIX.unpack_from(data)
    return orjson.loads(data[_PREFIX.size : _PREFIX.size + size])


def _text_part(data: bytes) -> bytes:
    (_, size, _) = _PREFIX.unpack_from(data)
    return data[_PREFIX.size + size :]


def _entry(doc: list[Any], part: bytes) -> bytes:
    head = orjson.dumps(doc)
    return _PREFIX.pack(4, len(head), zlib.crc32(head)) + head + part


def _with_text_part(data: bytes, part: bytes) -> bytes:
    """`data` with its text part replaced and the head's checksum made to match it."""
    doc = _head(data)
    doc[8] = zlib.crc32(part)
    return _entry(doc, part)


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


def _format2(page: Page) -> bytes:
    """An entry as format 2 wrote it: one brotli stream of the head's length, the head
    and the text."""
    doc = [2, pagecodec._LAYOUT, EXTRACT_VERSION, page.final_url, page.charset, page.size,
           page.title, page.main_text, page.footer_text, [], [], [], [], [], []]  # fmt: skip
    head = orjson.dumps(doc)
    raw = struct.pack("<I", len(head)) + head + page.text.encode("utf-16-le")
    return brotli.compress(raw, quality=1)


def test_second_format_entry_misses_and_is_refused() -> None:
    """Format 2 rows sit under other keys (never looked up), and are refused if they were."""
    page = _page()
    key2 = f"2:{pagecodec._LAYOUT}:{EXTRACT_VERSION}\0{URL}\0{'1' * 64}"
    assert parsed_key(URL, "1" * 64) != hashlib.sha256(key2.encode()).hexdigest()
    assert decode_page(_format2(page), base=URL, **_fetch_fields()) is None


def _format3(page: Page) -> bytes:
    """An entry as format 3 wrote it: the head (links as rows) its own brotli stream."""
    part = _text_part(encode_page(page))
    doc = [3, pagecodec._LAYOUT, EXTRACT_VERSION, page.final_url, page.charset, page.size,
           page.title, False, zlib.crc32(part), [list(astuple(x)) for x in page.links],
           [], [], [], [], []]  # fmt: skip
    head = brotli.compress(orjson.dumps(doc), quality=1)
    return struct.pack("<BI", 3, len(head)) + head + part


def test_third_format_entry_misses_and_is_refused() -> None:
    """Format 3 rows sit under other keys (never looked up), and are refused if they were."""
    key3 = f"3:{pagecodec._LAYOUT}:{EXTRACT_VERSION}\0{URL}\0{'1' * 64}"
    assert parsed_key(URL, "1" * 64) != hashlib.sha256(key3.encode()).hexdigest()
    assert decode_page(_format3(_page()), base=URL, **_fetch_fields()) is None


def test_damaged_head_is_a_miss() -> None:
    """The head is not compressed, so nothing but its CRC would notice a changed byte in
    a link's URL: any change to it is a miss, not a page with another link."""
    data = encode_page(_page())
    at = data.index(b"gioi-thieu")
    for i in (at, at + 3, _PREFIX.size, len(data) - len(_text_part(data)) - 1):
        damaged = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]
        assert decode_page(damaged, base=URL, **_fetch_fields()) is None


def test_links_share_their_values_in_the_table() -> None:
    """A URL, text or flag used by several links is stored once; every link comes back
    with its own values, in order."""
    links = (
        Link("http://127.0.0.1/a/", "Giới thiệu", "Giới thiệu", "", "nav", False),
        Link("http://127.0.0.1/a/", "Lịch công tác", "", "", "nav", False),
        Link("http://127.0.0.1/b.pdf", "", "", "Giới thiệu", "footer", True),
        Link("http://127.0.0.1/a/", "Giới thiệu", "Giới thiệu", "", "nav", False),
    )
    page = replace(_page(), links=links)
    values, rows = _head(encode_page(page))[9:11]
    assert len(values) == len(set(map(repr, values))) == 9 and len(rows) == 6 * len(links)
    assert decode_page(encode_page(page), base=URL, **_fetch_fields()) == page


def test_links_come_back_through_the_constructor_for_another_layout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The builder for fields it was not written for makes the same links (the same
    names as a list: not the tuple the fast path is written for, one value per field)."""
    page = _page()
    values, rows = _head(encode_page(page))[9:11]
    monkeypatch.setattr(pagecodec, "_LINK_FIELDS", list(pagecodec._LINK_FIELDS))
    assert pagecodec._link_builder()(values, rows) == page.links


@given(data=st.binary(max_size=80))
def test_any_bytes_are_refused_not_raised(data: bytes) -> None:
    for entry in (data, b"\x03" + data, b"\x04" + data, encode_page(_page())[:12] + data):
        assert decode_page(entry, base=URL, **_fetch_fields()) is None


_TEXT_FIELDS = ("text", "main_text", "footer_text")


def _no_fill(page: Page) -> None:
    raise AssertionError("the text part was decompressed")


def test_texts_are_decompressed_only_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    page = _page()
    decoded = decode_page(encode_page(page), base=URL, **_fetch_fields())
    assert isinstance(decoded, Page)
    monkeypatch.setattr(pagecodec, "_fill", _no_fill)
    others = [f.name for f in fields(Page) if f.name not in _TEXT_FIELDS]
    assert [getattr(decoded, n) for n in others] == [getattr(page, n) for n in others]
    assert decoded.ok and decoded.nav_links == page.nav_links
    monkeypatch.undo()
    assert decoded.footer_text == page.footer_text  # any text field fills all three
    monkeypatch.setattr(pagecodec, "_fill", _no_fill)
    assert (decoded.text, decoded.main_text) == (page.text, page.main_text)
    assert decoded == page


@pytest.mark.parametrize(
    ("text", "status", "ok"),
    [("Trang chủ", 200, True), ("", 200, False), (" \n ", 200, False), ("Lỗi", 500, False)],
)
def test_ok_is_answered_without_decompressing_the_text(
    monkeypatch: pytest.MonkeyPatch, text: str, status: int, ok: bool
) -> None:
    page = replace(_page(), text=text, status=status)
    assert page.ok is ok
    decoded = decode_page(encode_page(page), base=URL, **{**_fetch_fields(), "status": status})
    assert decoded is not None
    monkeypatch.setattr(pagecodec, "_fill", _no_fill)
    assert decoded.ok is ok


def test_a_cached_page_behaves_as_the_page_it_stands_for() -> None:
    page = _page()

    def cached() -> Page:
        decoded = decode_page(encode_page(page), base=URL, **_fetch_fields())
        assert decoded is not None
        return decoded

    assert cached() == page and page == cached() and cached() == cached()
    assert (cached() != page) is False and (page != cached()) is False
    other = replace(page, main_text="khác")
    assert cached() != other and other != cached()
    assert hash(cached()) == hash(page) and {cached(), page} == {page}
    assert repr(cached()) == repr(page)
    assert (back := pickle.loads(pickle.dumps(cached()))) == page and type(back) is Page
    assert copy.copy(cached()) == page and copy.deepcopy(cached()) == page
    assert asdict(cached()) == asdict(page)
    assert orjson.dumps(cached()) == orjson.dumps(page)
    changed = replace(cached(), text=" ", depth=3)
    assert changed == replace(page, text=" ", depth=3) and not changed.ok
    assert replace(cached(), depth=3).ok
    with pytest.raises(FrozenInstanceError):
        cached().text = "x"  # type: ignore[misc]


def test_damaged_text_part_is_a_miss() -> None:
    data = encode_page(_page())
    part = _text_part(data)
    head = data[: len(data) - len(part)]
    flipped = part[:-3] + bytes([part[-3] ^ 0x10]) + part[-2:]
    for damaged in (head, head + part[:-1], head + flipped, head + part + b"\0"):
        assert decode_page(damaged, base=URL, **_fetch_fields()) is None


@pytest.mark.parametrize(
    "part",
    [
        b"not brotli",
        brotli.compress(b"\x02\x00\x00\x00[]"),  # no main/footer
        brotli.compress(b"\x05\x00\x00\x00[1,2]"),  # slices that are not slices
        brotli.compress(b'\x07\x00\x00\x00["",""]x'),  # half a UTF-16 character
    ],
)
def test_text_part_that_does_not_decode_raises_a_clear_error(part: bytes) -> None:
    """Only a codec defect gets past the checksum; reading a text then raises, naming the
    page, instead of handing a check a wrong text."""
    page = _page()
    decoded = decode_page(_with_text_part(encode_page(page), part), base=URL, **_fetch_fields())
    assert decoded is not None and decoded.links == page.links
    with pytest.raises(pagecodec.DamagedEntry, match=f"{URL}: the text part"):
        _ = decoded.main_text


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
    raw = brotli.decompress(_text_part(data))
    (size,) = struct.unpack_from("<I", raw)
    main, footer = orjson.loads(raw[4 : 4 + size])
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


def test_a_text_with_a_lone_surrogate_is_kept_as_it_was() -> None:
    """The text part is the text's UTF-16-LE code units, a lone surrogate (which a broken
    page can carry through the parser) included, and decodes to the same text."""
    text = "".join(f"Trang chủ {i} \ud800 Giới thiệu. " for i in range(300))
    page = replace(_page(), text=text, main_text=text[100:5000], footer_text=text[-50:])
    data = encode_page(page)
    raw = brotli.decompress(_text_part(data))
    assert raw.endswith(text.encode("utf-16-le", "surrogatepass"))
    assert decode_page(data, base=URL, **_fetch_fields()) == page


def test_a_link_seen_before_is_handed_out_again() -> None:
    """Pages of a portal repeat their menus: a link decoded before comes back as the same
    (frozen) object, and every page still equals its parse."""
    first = _page()
    second = replace(first, links=(*first.links[1:], Link("http://127.0.0.1/moi", "Mới")))
    one = decode_page(encode_page(first), base=URL, **_fetch_fields())
    two = decode_page(encode_page(second), base=URL, **_fetch_fields())
    assert one == first and two == second
    assert all(a is b for a, b in zip(one.links[1:], two.links, strict=False))


def test_links_kept_for_reuse_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `_SHARED_MAX` the links kept are dropped, and links are still built right."""
    monkeypatch.setattr(pagecodec, "_SHARED_MAX", 3)
    pages = [
        replace(_page(), links=tuple(Link(f"http://127.0.0.1/{i}/{k}", "Trang") for k in range(4)))
        for i in range(5)
    ]
    for page in pages * 2:
        assert decode_page(encode_page(page), base=URL, **_fetch_fields()) == page
        assert len(pagecodec._SHARED) <= 3


def _text_part_in_two_calls(page: Page) -> bytes:
    """The text part as format 4 first compressed it: the JSON of main/footer and the text
    fed to brotli in two calls (two meta-blocks), the same bytes once decompressed."""
    raw = brotli.decompress(_text_part(encode_page(page)))
    (size,) = struct.unpack_from("<I", raw)
    packer = brotli.Compressor(quality=pagecodec.TEXT_QUALITY)
    part = packer.process(raw[: 4 + size]) + packer.process(raw[4 + size :])
    return part + packer.finish()


def test_a_text_part_compressed_in_two_calls_reads_the_same() -> None:
    """Entries cached before the text part was compressed in one call stay valid (same
    format, same key): they decode to the same page, texts included."""
    words = " ".join(f"Giới thiệu {i}" for i in range(800))
    page = replace(_page(), text=words, main_text=words[50:6000], footer_text=words[-300:])
    old = _with_text_part(encode_page(page), _text_part_in_two_calls(page))
    assert old != encode_page(page)
    decoded = decode_page(old, base=URL, **_fetch_fields())
    assert decoded is not None
    assert (decoded.text, decoded.main_text, decoded.footer_text) == (
        page.text,
        page.main_text,
        page.footer_text,
    )
    assert decoded == page
