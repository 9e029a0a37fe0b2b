"""The services.level fast path finds exactly the matches a whole-page `re` search finds.

`prefix_starts` + `finditer_at` replace `pattern.finditer` over each page (and its folded
copy). They are only right if (1) folding is idempotent, so candidates found on the
folded copy also stand for matches in it; (2) `ignorecase_variants` is exactly what
`re.IGNORECASE` treats as equal; (3) every configured pattern's prefix letters can only
be matched by characters folding to that letter. (1)–(3) are checked against every code
point; the end-to-end equality is property-tested on random and portal-like text and on
every page of the demo portals.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.common import (
    _item_chars,
    compile_patterns,
    finditer_at,
    fold_aligned,
    folded_prefix,
    prefix_starts,
)
from checks.ruleset import load_ruleset
from checks.services import DEFAULTS
from checks.text import _FAST_ALPHABET, fold_char, ignorecase_variants
from probe.extract import parse_page

ALL = "".join(map(chr, range(0x110000)))
KEYS = ("level_2011_patterns", "level_2022_full_patterns", "level_2022_partial_patterns")


def configured_patterns() -> list[re.Pattern[str]]:
    """Every level pattern the rulesets and the defaults give services.level."""
    sources = [DEFAULTS] + [
        load_ruleset(r).options("services.level") for r in ("nd43-2011", "nd42-2022")
    ]
    found = {p: None for src in sources for key in KEYS for p in compile_patterns(src[key])}
    return list(found)


# Patterns that stress the edges: self-overlapping prefixes, \b before and after,
# classes, ranges, the case twins (i, k, s), a case-sensitive one, one with no prefix.
TRICKY = [
    *configured_patterns(),
    re.compile(r"aa", re.I),
    re.compile(r"level", re.I),
    re.compile(r"\bab\b", re.I),
    re.compile(r"ki[sS]", re.I),
    re.compile(r"[a-c]x\d", re.I),
    re.compile(r"muc(?=\s)", re.I),
    re.compile(r"DVC\s*\d"),
    re.compile(r"(?:x|y)z", re.I),
]


def plain(
    pattern: re.Pattern[str], source: str
) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(source)]


def fast(
    pattern: re.Pattern[str], source: str, folded: str
) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    starts = prefix_starts({}, pattern, folded)
    return [(m.span(), m.groups()) for m in finditer_at(pattern, source, starts)]


def assert_same(text: str) -> None:
    folded = fold_aligned(text)
    for pattern in TRICKY:
        for source in (text, folded):
            assert fast(pattern, source, folded) == plain(pattern, source), (pattern, source)


def test_folding_is_idempotent_on_every_code_point() -> None:
    image = set(fold_aligned(ALL))
    assert len(image) > 100_000
    assert [c for c in image if fold_char(c) != c] == []


def test_ignorecase_variants_are_exactly_what_re_treats_as_equal() -> None:
    for ch in _FAST_ALPHABET:
        variants = ignorecase_variants(ch)
        assert variants is not None
        assert set(re.findall(re.escape(ch), ALL, re.IGNORECASE)) == set(variants), ch
    assert ignorecase_variants("ß") is None  # outside the tested alphabet: not answered


def test_configured_prefixes_hold_for_every_code_point() -> None:
    """Each prefix letter: every character the pattern accepts there folds to it."""
    for pattern in configured_patterns():
        prefix = folded_prefix(pattern)
        assert len(prefix) >= 3, pattern.pattern  # the fast path is really taken
        items = [(op, av) for op, av in sre_parse.parse(pattern.pattern, pattern.flags)]
        while items[0][0] is sre_c.AT:
            items.pop(0)
        for (op, av), letter in zip(items, prefix, strict=False):
            chars = _item_chars(op, av)
            assert chars is not None
            accepted = re.findall(f"[{re.escape(chars)}]", ALL, pattern.flags)
            assert {fold_char(c) for c in accepted} == {letter}, (pattern.pattern, letter)


def test_unprovable_patterns_take_the_plain_path() -> None:
    for raw in (r"(?:x|y)z", r"\w+c", r"ß\s", r"[^a]bc", r"(?=m)muc", r"a"):
        pattern = re.compile(raw, re.I)
        assert prefix_starts({}, pattern, "muc xz abc") is None, raw


WORDS = [
    "Mức độ 3",
    "MỨC ĐỘ 4",
    "muc do 2",
    "Mức 1",
    "mức độ: 4",
    "DVC mức 4",
    "DVCTT 3",
    "dvc2",
    "level 3",
    "LEVEL4",
    "levelevel 2",
    "Toàn trình",
    "TOÀN TRÌNH",
    "toan trinh",
    "Một phần",
    "một  phần",
    "MOT PHAN",
    "danh mục",
    "chuyên mục 1",
    "an toàn",
    "Dịch vụ công",
    "thủ tục",
    "hồ sơ",
    "trực tuyến",
    "aaa",
    "ab",
    "kis",
    "KİS",
    "\u212aı\u017f",
    "bx4",
    "đ",
    " ",
    "\n",
    "\u00a0",
    "mu\u0301c",
    "M\u1ee8C",
    "1",
    "4)",
    "-",
    ":",
]
ALPHABET = "mMuUứỨcCđĐdDvVlLeEtTôoOàaAnNìiIİıkK\u212asSſrhpầộx ab:1234\t\n\u0301"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS) | st.text(ALPHABET, max_size=6), max_size=40).map("".join))
def test_same_matches_on_portal_like_text(text: str) -> None:
    assert_same(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_same_matches_on_random_text(text: str) -> None:
    assert_same(text)


DEMO = Path(__file__).resolve().parents[2] / "probe" / "demo" / "portals"


@pytest.mark.parametrize("portal", sorted(p.name for p in DEMO.iterdir() if p.is_dir()))
def test_same_matches_on_demo_pages(portal: str) -> None:
    files = sorted((DEMO / portal).rglob("*.html"))
    assert files
    for file in files:
        page = parse_page(
            file.read_text(encoding="utf-8"),
            url=f"http://{portal}/{file.name}",
            final_url=f"http://{portal}/{file.name}",
            status=200,
            fetched_at=datetime(2025, 3, 1, tzinfo=UTC),
            depth=1,
        )
        assert_same(page.text)
