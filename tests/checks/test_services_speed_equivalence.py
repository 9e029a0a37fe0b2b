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

from checks import services
from checks.base import CheckContext
from checks.common import (
    _item_chars,
    _shadow_item,
    compile_patterns,
    finditer_at,
    fold_aligned,
    folded_prefix,
    folded_tail,
    prefix_starts,
)
from checks.ruleset import load_ruleset
from checks.services import (
    _CONTEXT,
    _PARTIAL_CONTEXT,
    CONTEXT_RADIUS,
    DEFAULTS,
    _Levels,
    _levels,
    _service_name,
    _Tally,
    services_level,
)
from checks.text import _FAST_ALPHABET, fold_char, ignorecase_variants
from probe.artifacts import Page, PortalArtifacts
from probe.extract import parse_page
from tests.checks.conftest import HOME, build_site

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


# services.level finds every pattern's prefixes with a few shared anchor scans
# (`_Levels.starts`) instead of one scan per prefix; the findings must be those of the
# plain whole-page search, whatever the patterns and the page.

PREFIX_LETTERS = "mucotdvlean"
NESTED = ["mu", "muc", "uc", "mot", "ot", "dvc", "vc", "level", "lev", "eve", "aa", "toan", "oan"]


def slots_match(patterns: tuple[str, ...], text: str, full: tuple[str, ...] = ()) -> None:
    """Each pattern finds, at its slot's starts, what a whole-text search finds (in the
    text and in its folded copy), and the starts are places its prefix is."""
    levels = _levels(patterns, full, ())
    folded = fold_aligned(text)
    found = levels.starts(folded)
    for pattern, slot in levels.level_2011 + levels.full:
        prefixed = prefix_starts({}, pattern, folded)
        if slot < 0:
            assert prefixed is None
            continue
        assert prefixed is not None and set(found[slot]) <= set(prefixed), pattern.pattern
        assert found[slot] == sorted(set(found[slot]))
        for source in (text, folded):
            assert fast_at(pattern, source, found[slot]) == plain(pattern, source), (
                pattern.pattern,
                source,
            )


def fast_at(
    pattern: re.Pattern[str], source: str, starts: list[int]
) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in finditer_at(pattern, source, starts)]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(NESTED) | st.text(PREFIX_LETTERS, min_size=1, max_size=5),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.sampled_from(NESTED) | st.text(PREFIX_LETTERS + "MUỤỨCĐđ \u1e3f")).map("".join),
)
def test_shared_scans_find_every_prefix(prefixes: list[str], text: str) -> None:
    """Overlapping, nested ("mu", "muc") and repeated prefixes, on text dense in them."""
    slots_match(tuple(re.escape(p) + r"\s*([1-4])" for p in prefixes), text)


# What may follow a prefix (`folded_tail`): whitespace runs, classes, optional groups,
# alternatives, lazy repeats, and items that end the tail (\\b, \\w, a case flag).
TAILS = [
    "",
    r"\s*([1-4])",
    r"\s+x",
    r"\s*?[1-4]",
    r"(?:tt)?\s*[1-4]\b",
    r"\s*tr[ìi]nh",
    r"\s*ph[ầa]n",
    r"\s*(?:đ[ộo]|do)?\s*:?\s*([1-4])\b",
    r"(?:a|b\w)c",
    r"\b1",
    r"[^a]c",
    r"(?i:C)1",
    r"(?:\s*c){2,3}",
    r"\s?\s?a",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(NESTED) | st.text(PREFIX_LETTERS, min_size=1, max_size=4),
            st.sampled_from(TAILS),
        ),
        min_size=1,
        max_size=5,
    ),
    st.lists(
        st.sampled_from(NESTED + WORDS)
        | st.text(PREFIX_LETTERS + "MUỤỨCĐđ \u1e3f1234:tTrRìiIıpPhHầxXbB\t", max_size=6)
    ).map("".join),
)
def test_tails_keep_every_match(pairs: list[tuple[str, str]], text: str) -> None:
    """Prefixes with tails (several per prefix, some without): no match is lost."""
    patterns = tuple(re.escape(p) + t for p, t in pairs)
    slots_match(patterns[::2], text, patterns[1::2])


def tail_items(items: list[tuple[object, object]]) -> list[tuple[object, object]]:
    """Every one-character item (literal or class) inside `items`, at any depth."""
    out = []
    for op, av in items:
        if op in (sre_c.LITERAL, sre_c.IN):
            out.append((op, av))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            out.extend(tail_items(av[2]))  # type: ignore[index]
        elif op is sre_c.SUBPATTERN:
            out.extend(tail_items(av[3]))  # type: ignore[index]
        elif op is sre_c.BRANCH:
            for alternative in av[1]:  # type: ignore[index]
                out.extend(tail_items(alternative))
    return out


def test_configured_tails_hold_for_every_code_point() -> None:
    """Each character item a tail carries over: everything it accepts folds into it."""
    for pattern in configured_patterns():
        prefix = folded_prefix(pattern)
        tail = folded_tail(pattern, prefix)
        assert tail, pattern.pattern  # the configured patterns all narrow their prefix
        items = list(sre_parse.parse(pattern.pattern, pattern.flags))
        while items[0][0] is sre_c.AT:
            items.pop(0)
        checked = 0
        for op, av in tail_items(items[len(prefix) :]):
            shadow = _shadow_item(op, av, True)
            if shadow is None or shadow == r"\s":
                continue
            chars = _item_chars(op, av)
            assert chars is not None
            accepted = re.findall(f"[{re.escape(chars)}]", ALL, pattern.flags)
            assert all(re.fullmatch(shadow, fold_char(c)) for c in accepted), (pattern, shadow)
            checked += 1
        assert checked, pattern.pattern


def test_tails_of_the_configured_patterns() -> None:
    tails = {p.pattern: folded_tail(p, folded_prefix(p)) for p in configured_patterns()}
    assert tails[r"to[àa]n\s*tr[ìi]nh"] == r"\s{0,}tr[iı]nh"
    assert tails[r"m[ộo]t\s*ph[ầa]n"] == r"\s{0,}phan"
    for raw in (r"ab\b", r"ab\w", r"ab(?i:c)", r"ab[^c]", r"ab(\w|c)"):
        assert folded_tail(re.compile(raw, re.I), "ab") == "", raw


def test_nested_prefixes_never_share_a_scan() -> None:
    levels = _levels(("mu", "muc", "uc", "level", "eve", "aa"), (), ())
    for _, alternatives in levels.scans:
        slots = [slot for slot, _ in alternatives]
        assert len(slots) == len(set(slots))
    slots_match(("mu", "muc", "uc", "level", "eve", "aa"), "muc mu levelevel aaa eve muuc")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS) | st.text(ALPHABET, max_size=6), max_size=40).map("".join))
def test_shared_scans_of_the_configured_patterns(text: str) -> None:
    for source in [DEFAULTS] + [load_ruleset(r).options("services.level") for r in RULESETS]:
        slots_match(tuple(p for key in KEYS for p in source[key]), text)


RULESETS = ("nd43-2011", "nd42-2022")


def plain_mentions(page: Page, levels: _Levels, tally: _Tally) -> None:
    """`_mentions` by its definition: every pattern searched over the whole page."""
    text, url = page.text, page.final_url or page.url
    folded = fold_aligned(text)
    for pattern, _ in levels.level_2011:
        for source in (text, folded):
            for m in pattern.finditer(source):
                start, end = m.span()
                if _CONTEXT.search(folded[max(0, start - CONTEXT_RADIUS) : end + CONTEXT_RADIUS]):
                    service = _service_name(folded, start)
                    tally.add_mention(int(m.group(1)), url, text, (start, end), service)
    for pattern, _ in levels.full:
        tally.full.extend((url, text, m.start(), m.end()) for m in pattern.finditer(folded))
    for pattern, _ in levels.partial:
        for m in pattern.finditer(folded):
            if _PARTIAL_CONTEXT.search(folded[max(0, m.start() - 30) : m.start()]):
                tally.partial.append((url, text, m.start(), m.end()))


def assert_same_findings(site: PortalArtifacts, monkeypatch: pytest.MonkeyPatch) -> None:
    for rid in RULESETS:
        ruleset = load_ruleset(rid)
        ctx = CheckContext(ruleset, ruleset.options("services.level"))
        fast = services_level(site, ctx)
        with monkeypatch.context() as patched:
            patched.setattr(services, "_mentions", plain_mentions)
            plain = services_level(site, ctx)
        assert fast == plain, rid


@pytest.mark.parametrize("portal", sorted(p.name for p in DEMO.iterdir() if p.is_dir()))
def test_same_findings_on_demo_portals(portal: str, monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted((DEMO / portal).rglob("*.html"))
    home = f"http://{portal}/"
    site = build_site(
        [(home + str(f.relative_to(DEMO / portal)), f.read_text(encoding="utf-8")) for f in files],
        province_domain="quangbinh.gov.vn",
    )
    assert_same_findings(site, monkeypatch)


SERVICE_WORDS = [
    *WORDS,
    "Dịch vụ công trực tuyến",
    "Thủ tục hành chính",
    "nộp hồ sơ",
    "trực tuyến một phần",
    "Mức độ: Một phần",
    "Cấp giấy phép xây dựng",
    "mức 1 triệu đồng",
    ". ",
    " - ",
    "(",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(SERVICE_WORDS) | st.text(ALPHABET, max_size=4), max_size=30),
        min_size=1,
        max_size=3,
    )
)
def test_same_findings_on_portal_like_pages(pages: list[list[str]]) -> None:
    site = build_site(
        [
            Page(
                url=f"{HOME}p{i}", final_url=f"{HOME}p{i}", status=200, text=" ".join(words) or "x"
            )
            for i, words in enumerate(pages)
        ]
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same_findings(site, monkeypatch)
