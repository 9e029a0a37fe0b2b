"""The fast title scan of the officials' directory finds exactly what the plain scan finds."""

from __future__ import annotations

import re
import sys
from re import _parser as _sre_parse  # type: ignore[attr-defined]

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.common import main_length
from checks.contacts import (
    _EMAIL,
    _PHONE,
    _TITLE,
    SYNC_REACH,
    WINDOW,
    _FarFromBreak,
    _in_step,
    _near_folded,
    _near_folded_in,
    _title_matches,
    _titles_near_at,
    person_row,
)
from checks.text import fold_aligned
from probe.artifacts import Page, TextRuns

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


def _plain_person_row(text: str) -> tuple[int, int] | None:
    """`person_row` as it was before the ``@``-region scan: every title of the page."""
    folded = fold_aligned(text)
    if "@" not in folded:
        return None
    for m in _TITLE.finditer(folded):
        window = folded[max(0, m.start() - WINDOW) : m.end() + WINDOW]
        if _PHONE.search(window) and _EMAIL.search(window):
            return m.start(), m.end()
    return None


_ROW_WORDS = [
    *_WORDS,
    "Phó Giám đốc",
    "CHỦ TỊCH",
    "nguyen van a",
    "lienhe@sotttt.gov.vn",
    "0232.3822.123",
    "(+84) 232 382",
    "ubnd",
    "x" * 90,  # long filler: titles land inside and outside the reach of an '@'
    "tinh quang binh thong tin " * 4,
]
_SEPARATORS = ["", " ", "-", "  ", ", ", ".", "\n", ": "]


@given(st.lists(st.tuples(st.sampled_from(_ROW_WORDS), st.sampled_from(_SEPARATORS)), max_size=120))
def test_person_row_is_the_plain_scan(parts: list[tuple[str, str]]) -> None:
    text = "".join(w + sep for w, sep in parts)
    page = Page(url="http://127.0.0.1/", final_url="http://127.0.0.1/", status=200, main_text=text)
    assert person_row(page) == _plain_person_row(text)
    assert person_row(page, {}) == _plain_person_row(text)


@given(st.lists(st.tuples(st.sampled_from(_ROW_WORDS), st.sampled_from(_SEPARATORS)), max_size=120))
def test_titles_near_at_are_finditer_matches(parts: list[tuple[str, str]]) -> None:
    """A subsequence of the full scan that holds every title within reach of an '@'."""
    folded = fold_aligned("".join(w + sep for w, sep in parts))
    full = [m.span() for m in _TITLE.finditer(folded)]
    near = [m.span() for m in _titles_near_at(folded)]
    assert near == [s for s in full if s in set(near)]
    reachable = [(s, e) for s, e in full if folded.find("@", max(0, s - WINDOW), e + WINDOW) != -1]
    assert set(reachable) <= set(near)


def test_person_row_on_a_long_directory_page() -> None:
    """Rows far apart in a long page: the one next to the e-mail is found, not the first."""
    filler = "Tin tức sự kiện trong tỉnh. " * 40
    text = (
        f"Giám đốc Nguyễn Văn A. {filler}"
        f"Phó Giám đốc Trần Thị B, ĐT: 0232.3822.123, email: ttb@sotttt.quangbinh.gov.vn. {filler}"
    )
    page = Page(url="http://127.0.0.1/", final_url="http://127.0.0.1/", status=200, main_text=text)
    span = person_row(page, {})
    assert span == _plain_person_row(text)
    assert span is not None and text[span[0] : span[1]] == "Phó Giám đốc"


def test_only_at_sign_folds_to_at_sign() -> None:
    """`person_row` tests the published text for '@' before folding: exact over all code points."""
    chars = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    folded = fold_aligned(chars)
    assert len(folded) == len(chars)
    assert [c for c, f in zip(chars, folded, strict=True) if f == "@"] == ["@"]


def test_titles_are_made_of_letters_and_spaces() -> None:
    """`_in_step` re-enters the scan after any other character: no title may hold one."""
    titles = {m.group() for m in _TITLE.finditer(" ".join(_WORDS * 2))}
    assert titles and all(set(t) <= set("abcdefghijklmnopqrstuvwxyz ") for t in titles)
    for op, _ in _sre_parse.parse(_TITLE.pattern):
        assert str(op) in ("AT", "BRANCH", "SUBPATTERN", "LITERAL", "MAX_REPEAT")
    literals = re.findall(r"[^\\()?:|]", _TITLE.pattern.replace(r"\b", ""))
    assert set(literals) <= set("abcdefghijklmnopqrstuvwxyz ")


@given(
    st.lists(st.tuples(st.sampled_from(_ROW_WORDS), st.sampled_from(_SEPARATORS)), max_size=60),
    st.integers(min_value=0, max_value=3000),
    st.integers(min_value=0, max_value=3000),
)
def test_in_step_is_a_point_no_title_spans(
    parts: list[tuple[str, str]], lo: int, floor: int
) -> None:
    """The re-entry point of `_titles_near_at`: at or before `lo`, never inside a title."""
    folded = fold_aligned("".join(w + sep for w, sep in parts))
    lo, floor = min(lo, len(folded)), min(floor, lo, len(folded))
    at = _in_step(folded, lo, floor)
    assert floor <= at <= max(lo, floor)
    assert at == floor or folded[at - 1] not in "abcdefghijklmnopqrstuvwxyz "
    assert not any(m.start() < at < m.end() for m in _TITLE.finditer(folded)) or at == floor


_LONG_WORDS = [*_ROW_WORDS, "thong tin " * 50, "y" * 450]


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(_LONG_WORDS), st.sampled_from(_SEPARATORS)), max_size=60))
def test_person_row_on_long_runs_without_a_break(parts: list[tuple[str, str]]) -> None:
    """Runs of letters longer than `SYNC_REACH` send the scan to the whole-page fold."""
    text = "".join(w + sep for w, sep in parts)
    page = Page(url="http://127.0.0.1/", final_url="http://127.0.0.1/", status=200, main_text=text)
    assert person_row(page, {}) == _plain_person_row(text)


@pytest.mark.parametrize("tail", ["@", "Tin tức " * 300])
def test_near_folded_is_the_fold_near_every_at_sign(tail: str) -> None:
    text = "Giám Đốc " * 200 + "a@b.vn " + "Phó CHỦ TỊCH, ĐT 0232 3822 123 " * 100 + tail
    near, full = _near_folded(text), fold_aligned(text)
    assert all(n in ("\0", f) for n, f in zip(near, full, strict=False))
    for at in (i for i, c in enumerate(text) if c == "@"):
        lo, hi = max(0, at - SYNC_REACH - 2 * WINDOW), min(len(text), at + 2 * WINDOW)
        assert near[lo:hi] == full[lo:hi]
    assert "\0" in near  # and far from them, nothing was folded
    # Past the last window nothing is read, and nothing is written either.
    assert (len(near) == len(full)) == (tail == "@")


def test_a_re_entry_far_back_falls_back_to_the_whole_fold() -> None:
    text = "x" * 50 + ". " + "pho giam doc " + "thong tin " * 60 + "0912 345 678 a@x.gov.vn"
    with pytest.raises(_FarFromBreak):
        list(_titles_near_at(_near_folded(text), near_only=True))
    page = Page(url="http://127.0.0.1/", final_url="http://127.0.0.1/", status=200, main_text=text)
    assert person_row(page) == _plain_person_row(text)


@settings(max_examples=300)
@given(
    st.lists(st.tuples(st.sampled_from(_LONG_WORDS), st.sampled_from(_SEPARATORS)), max_size=60),
    st.lists(st.integers(min_value=0, max_value=6000), max_size=8),
)
def test_person_row_on_main_text_held_as_runs(
    parts: list[tuple[str, str]], cuts: list[int]
) -> None:
    """A crawled page's main text is runs of its text (`TextRuns`): the '@' and windows
    found in the runs give what the joined main text gives, and so does `main_length`."""
    text = "".join(w + sep for w, sep in parts)
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    # Every other piece of the text is main text (nav, footer in between).
    flat = [b for i in range(0, len(bounds) - 1, 2) for b in bounds[i : i + 2]]
    runs = TextRuns(flat if len(flat) % 2 == 0 else [*flat, len(text)])
    page = Page(url="http://127.0.0.1/", final_url="http://127.0.0.1/", status=200, text=text)
    Page.__dict__["main_text"].__set__(page, runs)
    main = runs.join(text)
    assert page.main_text == main
    assert main_length(page) == len(main)
    assert _near_folded_in(text, runs) == _near_folded(main)
    assert person_row(page, {}) == _plain_person_row(main)
    assert person_row(page) == _plain_person_row(main)
