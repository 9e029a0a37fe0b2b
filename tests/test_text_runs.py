"""`Page.main_text` held as runs of `text`: every reader sees the same string as before.

parse_page hands the main text over as `TextRuns` (offsets into `text`) so a portal in
flight does not hold its words twice; a check, equality, hashing, repr, `replace`,
pickling and the parse cache must not be able to tell the difference.
"""

from __future__ import annotations

import pickle
from dataclasses import replace

from probe.artifacts import Page, TextRuns, main_text_as_held
from probe.store.pagecodec import decode_page, encode_page

TEXT = "Trang chủ Giới thiệu Tin tức Khai mạc hội nghị tổng kết Bản quyền © Sở Tư pháp"
MAIN = "Tin tức Khai mạc hội nghị tổng kết "  # two runs of TEXT, the space kept in the first
RUNS = TextRuns((TEXT.index("Tin tức"), TEXT.index("Khai"), TEXT.index("Khai"), TEXT.index("Bản")))


def _page(main: str | TextRuns) -> Page:
    return Page(
        url="http://127.0.0.1/",
        final_url="http://127.0.0.1/",
        status=200,
        text=TEXT,
        main_text=main,
    )


def test_runs_read_as_the_string_they_stand_for() -> None:
    assert RUNS.join(TEXT) == MAIN
    page = _page(RUNS)
    assert page.main_text == MAIN and type(page.main_text) is str
    assert main_text_as_held(page) is RUNS  # held as offsets, not as a second copy


def test_a_page_of_runs_is_the_page_of_its_string() -> None:
    held, plain = _page(RUNS), _page(MAIN)
    assert held == plain and hash(held) == hash(plain)
    assert repr(held) == repr(plain)
    assert replace(held, title="Sở Tư pháp").main_text == MAIN
    assert pickle.loads(pickle.dumps(held)) == plain
    assert main_text_as_held(plain) == MAIN


def test_one_run_and_no_run() -> None:
    assert TextRuns((0, 10)).join(TEXT) == TEXT[:10]
    assert TextRuns(()).join(TEXT) == ""
    assert _page(TextRuns(())).main_text == ""


def test_the_parse_cache_keeps_runs_as_runs() -> None:
    page = _page(RUNS)
    cached = decode_page(encode_page(page), base=page.url, url=page.url, final_url=page.url,
                         status=200)  # fmt: skip
    assert cached is not None
    assert cached.main_text == MAIN  # filled on first read
    assert main_text_as_held(cached) == RUNS and type(main_text_as_held(cached)) is TextRuns
    assert cached == page


def test_the_parse_cache_keeps_a_string_that_is_no_runs() -> None:
    page = _page("Nội dung không có trong trang " * 200)  # not made of TEXT's runs
    cached = decode_page(encode_page(page), base=page.url, url=page.url, final_url=page.url,
                         status=200)  # fmt: skip
    assert cached is not None and cached == page
    assert type(main_text_as_held(cached)) is str
