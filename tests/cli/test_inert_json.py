"""`inert_json`'s character class is exactly the invisible characters of this Python."""

from __future__ import annotations

import json
import sys
import unicodedata

from probe.output import _INVISIBLE, inert_json


def test_class_matches_every_invisible_code_point_and_nothing_else() -> None:
    wrong = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if code != 10
        and (unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp"))
        != (_INVISIBLE.fullmatch(chr(code)) is not None)
    ]
    assert not wrong, f"update probe.output._INVISIBLE (unicodedata {unicodedata.unidata_version})"


def test_escapes_bidi_and_keeps_vietnamese() -> None:
    data = {"text": "Sở Tư pháp \u202etxt.exe\u2028\x85 tỉnh Quảng Bình"}
    out = inert_json(data)
    assert "\u202e" not in out and "\u2028" not in out and "\x85" not in out
    assert "\\u202e" in out and "Quảng Bình" in out
    assert json.loads(out) == data


def test_same_text_as_the_stdlib_and_non_string_keys_still_work() -> None:
    data = {
        "agency": "so-tu-phap",
        "score": 0.6296,
        "findings": [{"check": "licence", "details": {"n": 3, "ok": True, "x": None}}],
        "empty": [],
        "nested": {},
    }
    assert inert_json(data) == json.dumps(data, ensure_ascii=False, indent=2)
    assert json.loads(inert_json({1: "một"})) == {"1": "một"}
