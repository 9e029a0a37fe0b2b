"""Charset handling for pages that declare one thing and send another."""

from __future__ import annotations

import unicodedata

from probe.net.decode import charset_from_content_type, decode_body
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
