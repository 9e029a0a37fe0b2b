"""The fast title scan of the officials' directory finds exactly what the plain scan finds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from checks.contacts import _TITLE, _title_matches

_WORDS = [
    "pho",
    "giam",
    "doc",
    "chu",
    "tich",
    "truong",
    "phong",
    "ban",
    "chanh",
    "van",
    "thanh",
    "tra",
    "bi",
    "thu",
    "tong",
    "cuc",
    "vu",
    "chuyen",
    "vien",
    "can",
    "bo",
    "dau",
    "moi",
    "phu",
    "trach",
    "nguoi",
    "phat",
    "ngon",
    "x",
    "a",
    "gia",
    "0912",
    "345",
    "678",
    "@",
]


@given(st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(["", " ", "-", "  "]))))
def test_title_matches_are_finditer(parts: list[tuple[str, str]]) -> None:
    text = "".join(w + sep for w, sep in parts)
    expected = [(m.span(), m.group()) for m in _TITLE.finditer(text)]
    assert [(m.span(), m.group()) for m in _title_matches(text)] == expected


def test_title_matches_on_a_directory_line() -> None:
    text = "xpho giam doc: nguyen van a, 0912 345 678, a@x.gov.vn; pho chu tich ubnd"
    spans = [m.group() for m in _title_matches(text)]
    assert spans == [m.group() for m in _TITLE.finditer(text)] == ["giam doc", "pho chu tich"]
