"""Helpers every text-reading check shares: aligned folding, matching, excerpts, `unknown`.

They were born in the footer check; services, e-mail and freshness need the same ones, so
they live here rather than making every family import the footer module. Keeping one copy
is what keeps the evidence rule uniform: matches are made on the NFC text *and* on a
diacritic-stripped copy of the same length, and the excerpt is always cut from the text
as published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from re import _constants as _sre_c  # type: ignore[attr-defined]
from re import _parser as _sre_parse  # type: ignore[attr-defined]
from typing import Any

from checks.base import Evidence, Finding, Status
from checks.text import fold_aligned as fold_aligned  # re-exported: families import it here
from checks.text import fold_char, ignorecase_variants
from probe.artifacts import Page, PortalArtifacts, TextRuns, main_text_as_held

EXCERPT_RADIUS = 60
NOT_FOUND = "(không tìm thấy / not found)"
MIN_PREFIX = 2  # shorter folded prefixes find too many candidates to beat a plain search
MAX_RANGE = 64  # widest [a-z] class member expanded when proving a prefix


def folded_text(memo: dict[Any, Any] | None, text: str) -> str:
    """`fold_aligned(text)`, computed once per check run when a run memo is given.

    The footer, licence and services checks fold the same footer and page texts; the
    memo (`CheckContext.memo`) lets the second reader reuse the first one's work.
    """
    if memo is None:
        return fold_aligned(text)
    key = ("fold_aligned", text)
    found = memo.get(key)
    if found is None:
        found = memo[key] = fold_aligned(text)
    return found


def main_runs(page: Page) -> tuple[str, Sequence[int]]:
    """`page.main_text` as flat (start, end …) runs of a string, without building it.

    A crawled page holds its main text as runs of its text (`TextRuns`), and each read
    of `page.main_text` copies ~46,000 characters (25 µs on a fleet page): a check that
    only looks for something in it, or needs its length, reads the runs instead.
    """
    held = main_text_as_held(page)
    if isinstance(held, TextRuns):
        return page.text, held
    return held, (0, len(held))


def main_length(page: Page) -> int:
    """`len(page.main_text)`, without building the string (see `main_runs`)."""
    _, runs = main_runs(page)
    return sum(runs[i + 1] - runs[i] for i in range(0, len(runs), 2))


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Ruleset patterns, case-insensitive (footers are often all capitals)."""
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def search_both(
    pattern: re.Pattern[str], text: str, folded: str, pos: int = 0
) -> re.Match[str] | None:
    """The earliest match of `pattern` in the NFC text or its folded copy, from `pos`."""
    found = [m for m in (pattern.search(text, pos), pattern.search(folded, pos)) if m]
    return min(found, key=lambda m: m.start()) if found else None


def excerpt(text: str, start: int, end: int, radius: int = EXCERPT_RADIUS) -> str:
    """The matched words with some context, cut at spaces."""
    left, right = max(0, start - radius), min(len(text), end + radius)
    if left > 0 and (space := text.find(" ", left, start)) != -1:
        left = space + 1
    if right < len(text) and (space := text.rfind(" ", end, right)) != -1:
        right = space
    return text[left:right].strip()


def not_checked(site: PortalArtifacts, check_id: str) -> Finding | None:
    """`unknown` when there is no home page to read: never `fail` what was not seen."""
    if site.home is not None and site.home.ok:
        return None
    reason = site.reason.code if site.reason else (site.outcome or "no_home_page")
    return Finding(
        check_id,
        Status.UNKNOWN,
        {
            "vi": "Không kiểm tra được: không tải được trang chủ.",
            "en": "Could not be checked: the home page was not fetched.",
        },
        details={"reason": reason},
    )


def searched_evidence(site: PortalArtifacts, what: str = NOT_FOUND) -> tuple[Evidence, ...]:
    """Evidence for an absence: the page that was read and what was not on it.

    An inspector acting on a `fail` needs to know where we looked, even when there is
    nothing to quote.
    """
    home = site.home
    url = (home.final_url or home.url) if home is not None else site.url
    return (Evidence(url, what),)


def folded_prefix(pattern: re.Pattern[str]) -> str:
    """The text every match's `fold_aligned` copy starts with, or "" when none is proven.

    Case-insensitive patterns, and ones opening with ``\\b``, keep Python's regex engine
    from skipping ahead, so a search over a whole page costs up to a millisecond. If each
    of the pattern's first characters (``m``, ``[ứu]``, ``c``) can only be matched by
    characters that all fold to one same letter, every match starts where the folded
    page holds those letters (``muc``), and a plain substring scan finds all candidates.
    Leading zero-width assertions are skipped: the pattern itself checks them later.
    Anything not proven (other constructs, characters outside the tested alphabet)
    ends the prefix; too short a prefix gives "" (search the plain way).
    """
    try:
        items = _sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, TypeError, ValueError):
        return ""
    ignorecase = bool(pattern.flags & re.IGNORECASE)
    prefix: list[str] = []
    for op, av in items:
        if op is _sre_c.AT and not prefix:
            continue
        chars = _item_chars(op, av)
        if chars is None:
            break
        folds: set[str] = set()
        for ch in chars:
            variants = ignorecase_variants(ch) if ignorecase else ch
            if variants is None:
                return "".join(prefix) if len(prefix) >= MIN_PREFIX else ""
            folds.update(fold_char(v) for v in variants)
        if len(folds) != 1:
            break
        prefix.append(folds.pop())
    return "".join(prefix) if len(prefix) >= MIN_PREFIX else ""


def folded_tail(pattern: re.Pattern[str], prefix: str) -> str:
    """A regex every match's `fold_aligned` copy satisfies right after its `folded_prefix`.

    Prefixes of everyday words (``toan`` in "an toàn", ``mot`` in "một") find dozens of
    places a page where the pattern then fails; what follows the prefix narrows them to
    the few where it can match. Each later item is carried over to the folded text while
    it is proven, as `folded_prefix` proves its letters: a character class becomes the
    class of the folds of every character it accepts (``[1-4]``, ``[ìi]`` → ``i``), ``\\s``
    stays ``\\s`` (whitespace folds to a space), and repeats, groups and alternatives of
    proven items stay what they were. The first item not proven (``\\b``, ``\\w``, a
    back-reference) ends the tail, so the tail only ever asks for less than the pattern:
    a match of the pattern in the text or in its folded copy leaves its folded copy
    matching prefix and tail. "" when nothing after the prefix is proven.
    """
    if not prefix:
        return ""
    try:
        items = list(_sre_parse.parse(pattern.pattern, pattern.flags))
    except (re.error, TypeError, ValueError):
        return ""
    lead = 0
    while lead < len(items) and items[lead][0] is _sre_c.AT:
        lead += 1
    ignorecase = bool(pattern.flags & re.IGNORECASE)
    return _shadow(items[lead + len(prefix) :], ignorecase)[0]


def _shadow(items: Any, ignorecase: bool) -> tuple[str, bool]:
    """The proven leading part of `items` as a folded-text regex, and whether it is all."""
    out: list[str] = []
    for op, av in items:
        piece = _shadow_item(op, av, ignorecase)
        if piece is None:
            return "".join(out), False
        out.append(piece)
    return "".join(out), True


def _shadow_item(op: Any, av: Any, ignorecase: bool) -> str | None:
    """One parsed item as `folded_tail` carries it over, or None if it is not proven."""
    if op is _sre_c.IN and list(av) == [(_sre_c.CATEGORY, _sre_c.CATEGORY_SPACE)]:
        return r"\s"
    chars = _item_chars(op, av)
    if chars is not None:
        folds: set[str] = set()
        for ch in chars:
            variants = ignorecase_variants(ch) if ignorecase else ch
            if variants is None:
                return None
            folds.update(fold_char(v) for v in variants)
        if len(folds) == 1:
            return re.escape(folds.pop())
        return "[" + "".join(re.escape(c) for c in sorted(folds)) + "]"
    bodies: list[Any]
    if op is _sre_c.MAX_REPEAT or op is _sre_c.MIN_REPEAT:
        low, high, body = av
        bodies = [body]
    elif op is _sre_c.SUBPATTERN:
        _, add_flags, del_flags, body = av
        if add_flags or del_flags:
            return None  # (?i:...) and the like change what the items accept
        bodies = [body]
    elif op is _sre_c.BRANCH:
        bodies = list(av[1])
    else:
        return None
    shadows: list[str] = []
    for body in bodies:
        shadow, complete = _shadow(body, ignorecase)
        if not complete:
            return None
        shadows.append(shadow)
    alternatives = list(dict.fromkeys(shadows))
    single = len(bodies) == 1 and len(bodies[0]) == 1 and bodies[0][0][0] in _ONE_CHAR
    inner = alternatives[0] if single else "(?:" + "|".join(alternatives) + ")"
    if op is _sre_c.MAX_REPEAT or op is _sre_c.MIN_REPEAT:
        # Greedy or lazy alike: a look-ahead asks only whether some repeat count fits.
        return f"{inner}{{{low},{'' if high == _sre_c.MAXREPEAT else high}}}"
    return inner


_ONE_CHAR = (_sre_c.LITERAL, _sre_c.IN)


def _item_chars(op: Any, av: Any) -> str | None:
    """The characters one parsed regex item matches (before case), if it is one of a set."""
    if op is _sre_c.LITERAL:
        return chr(av)
    if op is not _sre_c.IN:
        return None
    chars: list[str] = []
    for member_op, member in av:
        if member_op is _sre_c.LITERAL:
            chars.append(chr(member))
        elif member_op is _sre_c.RANGE and member[1] - member[0] < MAX_RANGE:
            chars.extend(map(chr, range(member[0], member[1] + 1)))
        else:
            return None  # negation, categories (\\w), wide ranges
    return "".join(chars)


def prefix_starts(
    memo: dict[Any, Any] | None, pattern: re.Pattern[str], folded: str
) -> list[int] | None:
    """Where matches of `pattern` may start in a text whose `fold_aligned` copy is `folded`.

    None when the pattern has no proven `folded_prefix` (search the plain way). The same
    positions serve a search of the text and one of `folded` itself (folding is
    idempotent). The prefix analysis is kept in the run memo: patterns repeat per page.
    """
    key = ("prefix_finder", pattern)
    finder = memo.get(key, False) if memo is not None else False
    if finder is False:
        finder = _prefix_finder(folded_prefix(pattern))
        if memo is not None:
            memo[key] = finder
    if finder is None:
        return None
    return [m.start() for m in finder.finditer(folded)]


def _prefix_finder(prefix: str) -> re.Pattern[str] | None:
    """A search for every place `prefix` starts (None for no prefix)."""
    if not prefix:
        return None
    # A prefix that can overlap itself ("level") must not lose the later of two
    # overlapping candidates: consume one letter, look ahead for the rest.
    overlapping = any(prefix.endswith(prefix[:k]) for k in range(1, len(prefix)))
    head, rest = re.escape(prefix[0]), re.escape(prefix[1:])
    return re.compile(f"{head}(?={rest})" if overlapping else head + rest)


def finditer_at(
    pattern: re.Pattern[str], source: str, starts: list[int] | None
) -> Iterator[re.Match[str]]:
    """`pattern.finditer(source)`, trying only the candidate `starts` (all when None).

    The same matches in the same order: each is the pattern's own match at the leftmost
    candidate at or after the previous match's end, as `finditer` would find it (a
    match anchored at a position sees the text before it, so ``\\b`` is judged alike).
    """
    if starts is None:
        yield from pattern.finditer(source)
        return
    match = pattern.match
    end = 0
    for start in starts:
        if start >= end and (m := match(source, start)) is not None:
            yield m
            end = m.end()
