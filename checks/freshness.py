"""Is the portal kept up to date? The newest dated news item and its age.

The law asks for regular updating (NĐ 43/2011 Đ17) without a number, so the thresholds
are run settings (`freshness_warn_days`, `freshness_fail_days`). Dates come from
`Page.dates` (parsed once by extraction). Two things make a raw "newest date" lie, and
both are removed before judging: dates in the future (event announcements, typos) and the
header clock many portals print ("Hôm nay, thứ Hai 25/11/2024"), which would make every
portal look fresh. No dated item at all is `unknown`, never `fail`: the crawler may simply
not have reached the news.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

from checks.base import CheckContext, Evidence, Finding, Status, check
from checks.common import not_checked
from checks.text import fold, match_key
from probe.artifacts import DateMention, Page, PortalArtifacts

DEFAULT_WARN_DAYS = 30
DEFAULT_FAIL_DAYS = 90
FUTURE_TOLERANCE = timedelta(days=1)  # the portal's clock (UTC+7) may be a day ahead
# Regex building block: a snippet that is a clock, not a news date.
_CLOCK_WORDS = ("hom nay", "today", "bay gio", "ngay gio hien tai")
_CLOCK = re.compile(rf"\b(?:{'|'.join(_CLOCK_WORDS)})\b")


def _section_pages(site: PortalArtifacts, ctx: CheckContext) -> list[Page]:
    """Pages that belong to the news-like sections named in `options.sections`.

    A page belongs to a section when a link to it is labelled, or its URL slug is worded,
    like the section in the ruleset. Empty when the ruleset has no such sections.
    """
    wanted = ctx.options.get("sections") or ()
    ruleset = ctx.ruleset
    keys: list[str] = []
    for section_id in wanted:
        try:
            section = ruleset.section(section_id)
        except (AttributeError, KeyError, LookupError):
            continue
        keys.extend(section.label_keys)
        keys.extend(section.slug_keys)
    if not keys:
        return []
    any_key = _any_key(tuple(keys))
    # Only links to crawled pages can make a page a section page, and a URL already
    # known to be one needs no second look: `open_` holds the crawled URLs not yet
    # known (one set lookup a link), and once it is empty no link can add one. Labels
    # repeat across pages (menus), so each distinct (text, title, alt) is tested once.
    crawled = {u for page in site.pages[1:] for u in (page.url, page.final_url)}
    open_ = set(crawled)
    label_hits: dict[tuple[str, str, str], bool] = {}
    for page in site.pages:
        if not open_:
            break
        for link in page.links:
            url = link.url
            if url not in open_:
                continue
            names = (link.text, link.title, link.alt)
            hit = label_hits.get(names)
            if hit is None:
                hit = label_hits[names] = (
                    any_key is not None and any_key.search(match_key(link.label)) is not None
                )
            if hit:
                open_.discard(url)
    targets = crawled - open_
    found = []
    for page in site.pages[1:]:
        if page.url in targets or page.final_url in targets:
            found.append(page)
            continue
        slug = match_key(page.final_url.split("//", 1)[-1].split("/", 1)[-1])
        # `keys` holds no " " (section keys never do), so this is "some key is in slug".
        if any_key is not None and any_key.search(slug) is not None:
            found.append(page)
    return found


def _usable(
    site: PortalArtifacts, pages: Sequence[Page]
) -> tuple[list[tuple[Page, DateMention]], int]:
    """Dated mentions that can stand for a news item, and how many future ones were dropped."""
    today = site.now.date()
    mentions = [(p, m) for p in pages for m in p.dates]
    if not mentions:
        return [], 0
    # A date printed on every fetched page, equal to the fetch day, is the header clock.
    pages_per_value = Counter(v for _, v in {(p.url, m.value) for p, m in mentions})
    on_all = {v for v, n in pages_per_value.items() if len(pages) > 1 and n == len(pages)}
    kept, future = [], 0
    for page, mention in mentions:
        if mention.value > today + FUTURE_TOLERANCE:
            future += 1
            continue
        fetched = page.fetched_at.date() if page.fetched_at else today
        if _is_clock(mention) or (mention.value in on_all and mention.value in (today, fetched)):
            continue
        kept.append((page, mention))
    return kept, future


@lru_cache(maxsize=64)
def _any_key(keys: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of the keys: it finds a key in a label iff some key is a substring
    of it. Built once per ruleset's keys: escaping and joining them again for every
    portal showed on a night of 304s, where this check runs though findings are reused
    (0.4 % of its CPU, py-spy, 200 portals; 0.0217 -> 0.0201 ms a page on the fleet)."""
    wanted = [re.escape(k) for k in keys if k != " "]
    return re.compile("|".join(wanted)) if wanted else None


@lru_cache(maxsize=1024)
def _date_pattern(day: int, month: int, year: int) -> re.Pattern[str]:
    """The written forms of one date; compiled once per date, not once per mention (re's
    own cache of 512 patterns thrashed on a night's thousands of distinct dates)."""
    return re.compile(rf"0?{day}\D{{1,10}}0?{month}\D{{1,10}}{year}")


def _is_clock(mention: DateMention) -> bool:
    """Is the date introduced as "today" ("Hôm nay: Thứ Hai, 25/11/2024")?

    Only the words just before the date count: the snippet also shows neighbouring
    items, and a news date next to the header clock is still a news date.
    """
    folded = fold(mention.text)
    if not any(word in folded for word in _CLOCK_WORDS):
        return False  # a match in any part of the text needs one of its words somewhere
    v = mention.value
    where = _date_pattern(v.day, v.month, v.year).search(folded)
    before = folded[: where.start()] if where else folded
    return _CLOCK.search(before[-30:]) is not None


@check(
    id="freshness",
    title={"vi": "Thông tin được cập nhật thường xuyên", "en": "Content is kept up to date"},
    failure_title={"vi": "Tin bài không được cập nhật", "en": "News is not kept up to date"},
    legal_basis="NĐ 43/2011/NĐ-CP Điều 17",
    volatile=True,  # ages are counted to the run's clock
)
def freshness(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Pass/warn/fail by the age of the newest dated item, against site.now."""
    if (unknown := not_checked(site, "freshness")) is not None:
        return [unknown]
    warn_days = int(ctx.options.get("freshness_warn_days", DEFAULT_WARN_DAYS))
    fail_days = int(ctx.options.get("freshness_fail_days", DEFAULT_FAIL_DAYS))
    section_pages = _section_pages(site, ctx)
    scope = "sections"
    kept, future = _usable(site, section_pages) if section_pages else ([], 0)
    if not kept:
        scope = "all_pages"
        kept, future = _usable(site, site.pages)
    if not kept:
        return [
            Finding(
                "freshness",
                Status.UNKNOWN,
                {
                    "vi": "Không tìm thấy tin bài nào có ghi ngày.",
                    "en": "No dated news item was found.",
                },
                details={"reason": "no_dated_items", "future_ignored": future},
            )
        ]
    page, newest = max(kept, key=lambda pm: pm[1].value)
    age = max(0, (site.now.date() - newest.value).days)
    status = Status.PASS if age <= warn_days else Status.WARN if age <= fail_days else Status.FAIL
    shown = newest.value.strftime("%d/%m/%Y")
    return [
        Finding(
            "freshness",
            status,
            {
                "vi": f"Tin mới nhất ngày {shown}, cách đây {age} ngày.",
                "en": f"Newest item dated {newest.value.isoformat()}, {age} days old.",
            },
            (Evidence(page.final_url or page.url, newest.text),),
            {
                "newest": newest.value.isoformat(),
                "age_days": age,
                "warn_days": warn_days,
                "fail_days": fail_days,
                "dated_items": len(kept),
                "future_ignored": future,
                "scope": scope,
            },
        )
    ]


def newest_date(page: Page, today: date) -> DateMention | None:
    """The newest date on one page not after `today` (the parallel-portal evidence)."""
    dates = [m for m in page.dates if m.value <= today]
    return max(dates, key=lambda m: m.value) if dates else None
