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
from collections.abc import Iterator
from typing import Any

from checks.common import excerpt, folded_text
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


def person_row(page: Page, memo: dict[Any, Any] | None = None) -> tuple[int, int] | None:
    """The span of the first position title with a phone and an e-mail next to it.

    Without an ``@`` nowhere can an e-mail sit next to a title, so such a page is
    answered before the (slow, word-boundary) title scan.
    """
    text = page.main_text
    folded = folded_text(memo, text)
    if "@" not in folded:
        return None
    for m in _title_matches(folded):
        window = folded[max(0, m.start() - WINDOW) : m.end() + WINDOW]
        if _PHONE.search(window) and _EMAIL.search(window):
            return m.start(), m.end()
    return None


def _title_matches(folded: str) -> Iterator[re.Match[str]]:
    """`_TITLE.finditer(folded)`, found by testing `_TITLE` only where a candidate starts.

    finditer yields the leftmost match at or after the end of the previous one; the
    candidate regex matches wherever `_TITLE` can, so no position it skips could have
    matched and the sequence is the same.
    """
    pos = 0
    while (cand := _TITLE_CANDIDATE.search(folded, pos)) is not None:
        m = _TITLE.match(folded, cand.start())
        if m is None or m.end() == m.start():
            pos = cand.start() + 1
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
