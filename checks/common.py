"""Helpers every text-reading check shares: aligned folding, matching, excerpts, `unknown`.

They were born in the footer check; services, e-mail and freshness need the same ones, so
they live here rather than making every family import the footer module. Keeping one copy
is what keeps the evidence rule uniform: matches are made on the NFC text *and* on a
diacritic-stripped copy of the same length, and the excerpt is always cut from the text
as published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from checks.base import Evidence, Finding, Status
from checks.text import fold_aligned as fold_aligned  # re-exported: families import it here
from probe.artifacts import PortalArtifacts

EXCERPT_RADIUS = 60
NOT_FOUND = "(không tìm thấy / not found)"


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
