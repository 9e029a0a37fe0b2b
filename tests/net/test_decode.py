"""Charset handling for pages that declare one thing and send another."""

from __future__ import annotations

import codecs
import unicodedata

from probe.net.decode import charset_from_content_type, decode_body, decode_html
from tests.net.net_faults import to_cp1258

TEXT = "Giới thiệu chung về Sở Thông tin và Truyền thông tỉnh Quảng Bình"


def test_header_charset_used_when_it_fits() -> None:
    assert decode_body(TEXT.encode(), "text/html; charset=UTF-8") == (TEXT, "utf-8")
    assert charset_from_content_type('text/html; Charset="windows-1258"') == "windows-1258"


def test_meta_charset_used_without_header() -> None:
    body = b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">'
    text, charset = decode_body(body + to_cp1258(TEXT), "text/html")
    assert charset == "cp1258"
    assert TEXT in text


def test_windows_1258_declared_utf8_is_detected_and_nfc() -> None:
    raw = to_cp1258(TEXT)
    assert raw.decode("cp1258") != TEXT  # combining tone marks before NFC
    text, charset = decode_body(raw, "text/html; charset=utf-8")
    assert charset == "cp1258"
    assert text == TEXT
    assert unicodedata.is_normalized("NFC", text)


def test_invalid_bytes_in_utf8_keep_the_declared_charset() -> None:
    body = (TEXT * 20).encode() + b"\xff\xfe" + TEXT.encode()
    text, charset = decode_body(body, "text/html; charset=utf-8")
    assert charset == "utf-8"
    assert text.count("\ufffd") == 2 and TEXT in text


def test_unknown_declared_charset_falls_back() -> None:
    text, charset = decode_body(TEXT.encode(), "text/html; charset=x-no-such")
    assert (text, charset) == (TEXT, "utf-8")


def test_decode_html_hands_over_the_body_only_when_it_is_the_texts_utf8() -> None:
    """The parser may read the body itself only if that is what it would be given after
    decoding, but for NFC (the parse makes what it reads NFC): UTF-8, nothing replaced,
    no byte-order mark."""
    page = f"<html><body><p>{TEXT}</p></body></html>"
    body = page.encode()
    nfd = unicodedata.normalize("NFD", page).encode()  # decomposed: the text is NFC
    for as_sent in (body, nfd):
        for content_type in ("text/html; charset=utf-8", "text/html"):
            assert decode_html(as_sent, content_type) == (as_sent, "utf-8")
    assert decode_body(nfd, "text/html") == (page, "utf-8")
    broken = (page * 20).encode() + b"\xff" + body
    for other, content_type in (
        (codecs.BOM_UTF8 + body, "text/html"),
        (broken, "text/html; charset=utf-8"),  # one byte replaced
        (to_cp1258(page), "text/html"),
        (page.encode("utf-16"), "text/html; charset=utf-16"),
    ):
        text, charset = decode_body(other, content_type)
        assert decode_html(other, content_type) == (text, charset)
        assert isinstance(text, str)
