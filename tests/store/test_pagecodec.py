"""The parse cache's codec: a decoded page equals the parse it was made from, and an
entry that does not fit (other extractor, other base URL, damaged) is refused, not used."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import pytest

from probe.extract import EXTRACT_VERSION, parse_page
from probe.store.pagecodec import decode_page, encode_page, parsed_key

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


def _page() -> object:
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


@pytest.mark.parametrize(
    "damage", [b"", b"not zlib", zlib.compress(b"[1, 2]"), zlib.compress(b"{")]
)
def test_damaged_entry_is_refused(damage: bytes) -> None:
    assert decode_page(damage, base=URL, **_fetch_fields()) is None


def test_other_extractor_version_is_refused() -> None:
    data = zlib.decompress(encode_page(_page())).decode()
    stale = data.replace(f",{EXTRACT_VERSION},", f",{EXTRACT_VERSION + 1},", 1)
    assert stale != data
    assert decode_page(zlib.compress(stale.encode()), base=URL, **_fetch_fields()) is None


def test_key_depends_on_url_body_and_extractor() -> None:
    a = parsed_key(URL, "1" * 64)
    assert a == parsed_key(URL, "1" * 64)
    assert a != parsed_key(URL + "x", "1" * 64)
    assert a != parsed_key(URL, "2" * 64)
    assert len(a) == 64
