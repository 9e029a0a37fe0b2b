"""Recognise a page that *is* a directory of officials, whatever its menu calls it.

ND 43/2011 Đ10.1.k (and Luật CNTT Đ28.2.đ) ask for the name, position, unit, phone and
official e-mail of competent officials. Portals often publish them on the page they call
"Lãnh đạo Sở" or "Liên hệ" rather than under a "Danh bạ" item, so the section check
also accepts a menu page whose main text pairs a position with a phone number and an
e-mail address. The agency's own contact block (address, switchboard, one mailbox) has
no position title and so does not count; nor does a leaders page without phones or
e-mails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from re import _parser as _sre_parse  # type: ignore[attr-defined]
from typing import Any

from checks.common import excerpt, fold_aligned, folded_text, main_runs
from probe.artifacts import Link, Page, PortalArtifacts

# Regex building blocks on folded text: position titles, phone numbers, e-mail addresses.
_TITLE = re.compile(
    r"\b(?:pho )?(?:giam doc|chu tich|truong phong|truong ban|chanh van phong|"
    r"chanh thanh tra|bi thu|tong giam doc|cuc truong|vu truong)\b|\bchuyen vien\b|"
    r"\bcan bo (?:dau moi|phu trach)\b|\bnguoi phat ngon\b"
)
# Every position `_TITLE` can match at is one where this matches (the same words without
# the word-boundary tests, which keep the regex engine from skipping ahead quickly): it
# finds candidates fast and `_TITLE` decides, so the matches are exactly `_TITLE`'s.
_TITLE_CANDIDATE = re.compile(
    r"pho |giam doc|chu tich|truong phong|truong ban|chanh van phong|chanh thanh tra|bi thu|"
    r"tong giam doc|cuc truong|vu truong|chuyen vien|can bo |nguoi phat ngon"
)
_PHONE = re.compile(r"(?:\(?\+?84[\.\s]?\d{2,3}\)?|\(?0\d{2,3}\)?)[\d\s\.\-]{5,14}\d")
_EMAIL = re.compile(r"[\w.\-]+@[\w\-]+(?:\.[\w\-]+)+")
WINDOW = 160  # characters around a position title where its phone and e-mail must be
_TITLE_WIDTH = _sre_parse.parse(_TITLE.pattern).getwidth()[1]  # longest title match
_CANDIDATE_WIDTH = _sre_parse.parse(_TITLE_CANDIDATE.pattern).getwidth()[1]
# The last character before a point that cannot be part of a title (see `_in_step`).
_LAST_BREAK = re.compile(r".*[^a-z ]", re.DOTALL)
SYNC_REACH = 400  # how far back `_in_step` looks before settling for the last known point


def person_row(page: Page, memo: dict[Any, Any] | None = None) -> tuple[int, int] | None:
    """The span of the first position title with a phone and an e-mail next to it.

    An e-mail needs an ``@``, and only ``@`` folds to ``@`` (tested over every code
    point), so a page without one is answered before folding, and only titles within
    reach of an ``@`` are looked for (`_titles_near_at`): directory pages are long, and
    their ``@`` are few. So only the text around the ``@`` is folded (`_near_folded`),
    unless a re-entry point lies too far back; then the whole page is.
    """
    source, runs = main_runs(page)
    if all(source.find("@", runs[i], runs[i + 1]) == -1 for i in range(0, len(runs), 2)):
        return None
    try:
        return _first_row(_near_folded_in(source, runs), near_only=True)
    except _FarFromBreak:
        return _first_row(folded_text(memo, page.main_text), near_only=False)


class _FarFromBreak(Exception):
    """`_in_step` had to re-enter the scan outside what `_near_folded` folded."""


def _first_row(folded: str, *, near_only: bool) -> tuple[int, int] | None:
    for m in _titles_near_at(folded, near_only=near_only):
        lo, hi = max(0, m.start() - WINDOW), m.end() + WINDOW
        if folded.find("@", lo, hi) == -1:
            continue  # no e-mail can match in this window
        window = folded[lo:hi]
        if _PHONE.search(window) and _EMAIL.search(window):
            return m.start(), m.end()
    return None


def _near_folded(text: str) -> str:
    """`fold_aligned(text)` wherever `_titles_near_at` may read it, NUL elsewhere before
    the last place it may read (the rest is left out: nothing reads it)."""
    return _near_folded_in(text, (0, len(text)))


def _near_folded_in(source: str, runs: Sequence[int]) -> str:
    """`_near_folded` of the text that `runs` (flat start, end offsets) cut from `source`.

    Folding is per character, so a folded slice is the slice of the folded text. Around
    an ``@`` the scan reads back to `SYNC_REACH` before a title's reach and a window
    before that, and forward a title's reach, its window and a candidate's width.

    A crawled page holds its main text as runs of its text (`TextRuns`): reading
    `page.main_text` builds the ~46,000-character string, 25 µs on a fleet page, for
    the few hundred characters folded here. The ``@`` are found and the windows cut
    in the runs instead.
    """
    before = 2 * WINDOW + _TITLE_WIDTH + SYNC_REACH + 2
    after = 2 * WINDOW + _TITLE_WIDTH + _CANDIDATE_WIDTH + 2
    total = sum(runs[i + 1] - runs[i] for i in range(0, len(runs), 2))
    pieces: list[str] = []
    done = 0
    offset = 0  # where the current run starts in the text the runs stand for
    for i in range(0, len(runs), 2):
        lo, hi = runs[i], runs[i + 1]
        found = source.find("@", lo, hi)
        while found != -1:
            at = offset + found - lo
            start, end = max(done, at - before), min(total, at + after)
            if start > done:
                pieces.append("\0" * (start - done))
            if end > start:
                pieces.append(fold_aligned(_cut(source, runs, start, end)))
                done = end
            found = source.find("@", found + 1, hi)
        offset += hi - lo
    # No NUL after the last window: what `_titles_near_at` and `_first_row` read ends
    # `after` past an ``@``, and padding a fleet page to its length cost a fifth of the
    # scan (the join, and a search for the next ``@`` through it).
    return "".join(pieces)


def _cut(source: str, runs: Sequence[int], start: int, end: int) -> str:
    """Characters `start` to `end` of the text that `runs` cut from `source`."""
    out: list[str] = []
    offset = 0
    for i in range(0, len(runs), 2):
        lo, hi = runs[i], runs[i + 1]
        a, b = max(start - offset, 0), min(end - offset, hi - lo)
        if a < b:
            out.append(source[lo + a : lo + b])
        offset += hi - lo
        if offset >= end:
            break
    return "".join(out)


def _titles_near_at(folded: str, *, near_only: bool = False) -> Iterator[re.Match[str]]:
    """Matches of `_TITLE.finditer(folded)`, in order: at least all close enough to an ``@``.

    A title whose window (`WINDOW` either side) holds an ``@`` starts at most
    ``WINDOW + _TITLE_WIDTH`` before it and at most ``WINDOW`` after it. Around each
    ``@`` the finditer sequence is re-entered at a point no match can span (`_in_step`),
    so what is found there is exactly the full scan's matches. `near_only`: `folded`
    is only true near each ``@`` (`_near_folded`); a re-entry further back raises.
    """
    pos = 0  # the full scan is in step here: no match of its sequence spans `pos`
    at = folded.find("@")
    while at != -1:
        lo, hi = max(0, at - WINDOW - _TITLE_WIDTH), at + WINDOW + 1
        if hi > pos:
            end = _in_step(folded, lo, pos)
            if near_only and end < lo - SYNC_REACH:
                raise _FarFromBreak
            for m in _title_matches(folded, end, hi):
                yield m
                end = m.end()
            # No match starts in [end, hi), so none spans max(end, hi).
            pos = max(end, hi)
        at = folded.find("@", at + 1)


def _in_step(folded: str, lo: int, floor: int) -> int:
    """A position at or before `lo` (not before `floor`) that no `_TITLE` match spans.

    Titles are made of ``[a-z ]`` only, so just after any other character (or at 0)
    a scan is in step with the full one; `floor` is known to be in step already.
    """
    if lo <= floor:
        return floor
    found = _LAST_BREAK.match(folded, max(floor, lo - SYNC_REACH), lo)
    return found.end() if found is not None else floor


def _title_matches(folded: str, pos: int = 0, stop: int | None = None) -> Iterator[re.Match[str]]:
    """`_TITLE.finditer(folded, pos)` up to matches starting before `stop`.

    Found by testing `_TITLE` only where a candidate starts: finditer yields the
    leftmost match at or after the end of the previous one; the candidate regex matches
    wherever `_TITLE` can, so no position it skips could have matched and the sequence
    is the same. Candidates are searched no further than they can reach from `stop`.
    """
    endpos = len(folded) if stop is None else min(len(folded), stop + _CANDIDATE_WIDTH)
    limit = endpos if stop is None else stop
    while (cand := _TITLE_CANDIDATE.search(folded, pos, endpos)) is not None:
        start = cand.start()
        if start >= limit:
            return
        m = _TITLE.match(folded, start)
        if m is None or m.end() == start:
            pos = start + 1
            continue
        yield m
        pos = m.end()


def contact_pages(
    site: PortalArtifacts, places: list[tuple[Link, Page]], memo: dict[Any, Any] | None = None
) -> list[tuple[Link, Page, str]]:
    """(link, page the link is on, excerpt) for every linked page that lists officials."""
    out: list[tuple[Link, Page, str]] = []
    seen: set[str] = set()
    for link, page in places:
        target = site.page_for(link.url)
        if target is None or not target.ok or target.url in seen:
            continue
        seen.add(target.url)
        span = person_row(target, memo)
        if span is not None:
            out.append((link, page, excerpt(target.main_text, *span, radius=WINDOW // 2)))
    return out
