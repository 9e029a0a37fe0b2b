"""Online public services: which are offered, and at what level.

The 2015 Quảng Bình report asked for services at level 3–4 of the 2011 scheme (NĐ 43/2011
Đ3.4); NĐ 42/2022 Đ11 replaced the four levels by "toàn trình" / "một phần". A portal
shows its level in four ways, each kept as evidence naming the service and the page:

- it prints it ("Mức độ 3", "Muc do 4", "DVC mức 4", "DVCTT 3", "toàn trình");
- level 2: downloadable forms (.doc/.pdf) on a procedure page or named as forms;
- level 3: an online submission form (a file input, or "nộp hồ sơ" in the form);
- level 3 (4 when the link says so): a link into the province's service portal
  (`dichvucong.<tinh>.gov.vn`, the national `dichvucong.gov.vn`), which is how district
  portals usually offer services.

Level mentions only count near service words, so "mức 1 triệu đồng" in a news article is
not a level-1 service. Level words are ruleset options (`level_2011_patterns` …).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from checks.base import CheckContext, Evidence, Finding, Status, check
from checks.common import (
    compile_patterns,
    excerpt,
    finditer_at,
    fold_aligned,
    folded_prefix,
    folded_tail,
    not_checked,
    searched_evidence,
)
from checks.text import fold
from probe.artifacts import Page, PortalArtifacts

DEFAULTS: Mapping[str, Any] = {
    "scheme": "2011",
    "pass_level": 2,
    "level_2011_patterns": [
        r"m[ứu]c\s*(?:đ[ộo]|do)?\s*:?\s*([1-4])\b",
        r"\bDVC(?:TT)?\s*(?:m[ứu]c\s*(?:đ[ộo]|do)?\s*)?([1-4])\b",
        r"\blevel\s*([1-4])\b",
    ],
    "level_2022_full_patterns": [r"to[àa]n\s*tr[ìi]nh"],
    "level_2022_partial_patterns": [r"m[ộo]t\s*ph[ầa]n"],
    "section_patterns": [r"d[ịi]ch\s*v[ụu]\s*c[ôo]ng(?:\s*tr[ựu]c\s*tuy[ếe]n)?"],
    "dvc_host_patterns": [r"^dichvucong\.", r"^dvc\.", r"^dvctt\.", r"^motcua", r"\.gov\.vn/dvc"],
    "national_portal": "dichvucong.gov.vn",
}
# Regex building blocks (folded text): words that put a level mention in a service context,
# name a downloadable form, or make a form an application rather than a search or login.
_CONTEXT = re.compile(r"dich vu cong|dvc|thu tuc|tthc|ho so|truc tuyen|online service")
_FORM_WORDS = re.compile(r"\b(?:mau|bieu mau|to khai|don de nghi|don xin|giay de nghi|form)\b")
_SUBMIT_WORDS = re.compile(r"nop ho so|gui ho so|nop truc tuyen|dang ky truc tuyen|gui kem")
_PARTIAL_CONTEXT = re.compile(r"(?:truc tuyen|dvc(?:tt)?|muc do|hinh thuc)\s*:?\s*$")
_NAME_STOP = re.compile(r"muc do\s*:?\s*[1-4]|[.;|()\[\]]|\s[-–:]\s")
NAME_CHARS = 80  # how far back a service name is read
NAME_WORDS = 8
CONTEXT_RADIUS = 150
MAX_EVIDENCE = 6


def _opt(ctx: CheckContext, key: str) -> Any:
    value = ctx.options.get(key)
    return DEFAULTS[key] if value in (None, "", [], ()) else value


def _host_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}{parts.path.lower()}"


class _Tally:
    """The best level seen per distinct service, and the evidence for it.

    A service is named by what identifies it on the page: the words before its "Mức độ N"
    (so the same procedure listed on the home page and on the procedures page is one), the
    URL of its form, or the target of its link. Counting links instead would let one
    service linked from every page's menu outweigh twenty listed once.
    """

    def __init__(self) -> None:
        self.services: dict[str, tuple[int, str, Evidence]] = {}
        # 2022 statements as (url, page text, start, end): a page may say "toàn trình" a
        # hundred times, and only the count and the first two excerpts are reported.
        self.full: list[tuple[str, str, int, int]] = []
        self.partial: list[tuple[str, str, int, int]] = []

    def add(self, level: int, how: str, ev: Evidence, service: str = "") -> None:
        key = service or f"{ev.url} {ev.text}"
        known = self.services.get(key)
        if known is None or level > known[0]:
            self.services[key] = (level, how, ev)

    def add_mention(
        self, level: int, url: str, text: str, span: tuple[int, int], service: str
    ) -> None:
        """`add` of a level printed at `span` of `text`, its excerpt cut only if it counts."""
        if service and (known := self.services.get(service)) is not None and level <= known[0]:
            return
        self.add(level, "mention", Evidence(url, excerpt(text, *span)), service)

    def statements(self) -> tuple[Evidence, ...]:
        """The first two 2022 statements (full ones if any) as evidence."""
        return tuple(
            Evidence(url, excerpt(text, start, end))
            for url, text, start, end in (self.full or self.partial)[:2]
        )

    @property
    def counts(self) -> dict[int, int]:
        counts = {1: 0, 2: 0, 3: 0, 4: 0}
        for level, _, _ in self.services.values():
            counts[level] += 1
        return counts

    @property
    def max_level(self) -> int:
        return max((lvl for lvl, _, _ in self.services.values()), default=0)

    def evidence(self) -> tuple[Evidence, ...]:
        ranked = sorted(self.services.values(), key=lambda item: -item[0])
        return tuple(ev for _, _, ev in ranked[:MAX_EVIDENCE])


_LEVEL_KEYS = ("level_2011_patterns", "level_2022_full_patterns", "level_2022_partial_patterns")
# How often each letter occurs in 50,000 characters of folded portal text (the bench
# fleet; real pages rank them alike), and what one pass over a page costs in such
# occurrences: a scan for an anchor letter costs a pass plus a little per occurrence.
_LETTER_COUNT = {
    "x": 109, "l": 183, "q": 297, "s": 434, "m": 441, "k": 457, "b": 515, "v": 525,
    "r": 594, "y": 671, "p": 792, "d": 1480, "e": 1610, "g": 2175, "c": 2194, "u": 2440,
    "i": 2583, "t": 2650, "o": 3248, "h": 3653, "a": 3682, "n": 4724,
}  # fmt: skip
_OTHER_COUNT = 1000
_PASS_COST = 3400


@dataclass(frozen=True)
class _Levels:
    """One ruleset's level patterns, and the scans that find where each may match.

    Every pattern with a proven `folded_prefix` can only match where the folded page
    holds that prefix. One scan per prefix costs a pass over the page each, and a page
    is ~50,000 characters: prefixes are found instead by a few scans for one rare
    anchor letter each, shared by several prefixes (``m`` for ``muc`` and ``mot``, ``v``
    for ``dvc`` and ``level``), whose look-arounds check the rest of each prefix.

    The look-aheads also check each pattern's `folded_tail`: ``toan`` and ``mot`` open
    everyday words ("an toàn", "một"), and a fleet page held ~85 prefixes where ~1
    pattern matched, each a `re` call. With the tails a page's scans cost the same
    passes and leave only the places a pattern may match (services.level 0.235 -> 0.213
    ms a page on the fleet).
    """

    level_2011: tuple[tuple[re.Pattern[str], int], ...]  # (pattern, prefix slot or -1)
    full: tuple[tuple[re.Pattern[str], int], ...]
    partial: tuple[tuple[re.Pattern[str], int], ...]
    slots: int
    # (scan, (prefix slot, anchor offset) per alternative: `lastindex` names it)
    scans: tuple[tuple[re.Pattern[str], tuple[tuple[int, int], ...]], ...]

    def starts(self, folded: str) -> list[list[int]]:
        """Per prefix slot, every position of `folded` where that prefix starts followed by
        one of its patterns' tails, in order."""
        found: list[list[int]] = [[] for _ in range(self.slots)]
        for scan, alternatives in self.scans:
            if len(alternatives) == 1:
                slot, offset = alternatives[0]
                found[slot] = [m.start() - offset for m in scan.finditer(folded)]
                continue
            for m in scan.finditer(folded):
                slot, offset = alternatives[m.lastindex - 1]  # type: ignore[operator]
                found[slot].append(m.start() - offset)
        return found


@lru_cache(maxsize=16)
def _levels(
    level_2011: tuple[str, ...], full: tuple[str, ...], partial: tuple[str, ...]
) -> _Levels:
    tails: dict[str, list[str]] = {}  # prefix -> the tails of its patterns, in order

    def slotted(patterns: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], int], ...]:
        out = []
        for pattern in compile_patterns(patterns):
            prefix = folded_prefix(pattern)
            if prefix:
                tails.setdefault(prefix, []).append(folded_tail(pattern, prefix))
            out.append((pattern, list(tails).index(prefix) if prefix else -1))
        return tuple(out)

    compiled = slotted(level_2011), slotted(full), slotted(partial)
    prefixes = list(tails)
    # A slot serves every pattern with its prefix: it asks for any of their tails, and
    # for none when one of them has no tail.
    ahead = ["" if "" in t else "(?:" + "|".join(dict.fromkeys(t)) + ")" for t in tails.values()]
    scans = tuple(_scan(prefixes, ahead, group) for group in _anchor_groups(prefixes))
    return _Levels(*compiled, slots=len(prefixes), scans=scans)


def _anchor_groups(prefixes: list[str]) -> list[list[tuple[int, int]]]:
    """Prefixes grouped by a shared anchor letter, as (slot, offset of the anchor) lists.

    Greedy: the letter with the least cost per prefix it anchors goes first. Two prefixes
    that can occur at once around one anchor (``mu`` and ``muc``) never share a scan,
    because an alternation reports only the first that holds.
    """
    left = list(range(len(prefixes)))
    groups: list[list[tuple[int, int]]] = []
    while left:
        best: tuple[float, str, list[tuple[int, int]]] | None = None
        for letter in sorted({ch for i in left for ch in prefixes[i]}):
            members: list[tuple[int, int]] = []
            for i in left:
                offset = prefixes[i].find(letter)
                if offset >= 0 and not any(
                    _coincide(prefixes[i], offset, prefixes[k], o) for k, o in members
                ):
                    members.append((i, offset))
            cost = (_PASS_COST + _LETTER_COUNT.get(letter, _OTHER_COUNT)) / len(members)
            if best is None or cost < best[0]:
                best = (cost, letter, members)
        assert best is not None
        groups.append(best[2])
        left = [i for i in left if all(i != k for k, _ in best[2])]
    return groups


def _coincide(a: str, at_a: int, b: str, at_b: int) -> bool:
    """Can `a` and `b` both occur with their anchors (`at_a`, `at_b`) at one position?"""
    lo, hi = max(-at_a, -at_b), min(len(a) - at_a, len(b) - at_b)
    return all(a[at_a + i] == b[at_b + i] for i in range(lo, hi))


def _scan(
    prefixes: list[str], tails: list[str], group: list[tuple[int, int]]
) -> tuple[re.Pattern[str], tuple[tuple[int, int], ...]]:
    """The regex that finds every anchor of `group` (case-sensitive: the page is folded),
    where its prefix is followed by its tail (a look-ahead: scans consume the prefix
    alone, so a later prefix inside a tail is still found)."""
    if len(group) == 1:
        slot, offset = group[0]
        prefix = prefixes[slot]
        if offset == 0 and not any(prefix.endswith(prefix[:k]) for k in range(1, len(prefix))):
            tail = f"(?={tails[slot]})" if tails[slot] else ""
            # Occurrences of the prefix cannot overlap.
            return re.compile(re.escape(prefix) + tail), ((slot, 0),)
    letter = prefixes[group[0][0]][group[0][1]]
    alternatives = []
    for slot, offset in group:
        before, after = prefixes[slot][: offset + 1], prefixes[slot][offset + 1 :]
        behind = f"(?<={re.escape(before)})" if offset else ""
        rest = re.escape(after) + tails[slot]
        ahead = f"(?={rest})" if rest else ""
        alternatives.append(f"{behind}{ahead}" + ("()" if len(group) > 1 else ""))
    return re.compile(re.escape(letter) + "(?:" + "|".join(alternatives) + ")"), tuple(group)


def _mentions(page: Page, levels: _Levels, tally: _Tally) -> None:
    text = page.text
    # Not kept in the run memo: no other check reads a whole page folded, and 25 pages'
    # copies would only hold memory until the portal is done. Folding only windows around
    # candidates found in the unfolded page does not pay: each prefix letter also folds
    # from letters outside the Vietnamese alphabet (``ṃ`` is ``m``, 15 letters are ``t``).
    # One character-class scan for an anchor costs what the fold costs (3.2-4.4 ns a
    # character against 3.2) and three are needed; literal scans for both cases plus `in`
    # tests for those letters cost 0.33 ms a fleet page, where the fold and `starts` cost
    # 0.26 (0.16 + 0.10), before any window is folded. Nor would a test that a page holds
    # no mention skip a fold on the fleet: each of its pages says "toàn trình" ~20 times.
    folded = fold_aligned(text)
    url = page.final_url or page.url
    # Each pattern is only tried where the folded page holds its opening letters: the
    # same matches as a whole-page search, at a fraction of the cost.
    starts = levels.starts(folded)
    for pattern, slot in levels.level_2011:
        at = starts[slot] if slot >= 0 else None
        if at == []:
            continue
        for source in (text, folded):
            for m in finditer_at(pattern, source, at):
                start, end = m.span()
                around = folded[max(0, start - CONTEXT_RADIUS) : end + CONTEXT_RADIUS]
                if _CONTEXT.search(around):
                    service = _service_name(folded, start)
                    tally.add_mention(int(m.group(1)), url, text, (start, end), service)
    full = tally.full
    for pattern, slot in levels.full:
        for m in finditer_at(pattern, folded, starts[slot] if slot >= 0 else None):
            full.append((url, text, m.start(), m.end()))
    for pattern, slot in levels.partial:
        for m in finditer_at(pattern, folded, starts[slot] if slot >= 0 else None):
            # "một phần" is everyday Vietnamese: only "trực tuyến một phần", "Mức độ: Một phần".
            if _PARTIAL_CONTEXT.search(folded[max(0, m.start() - 30) : m.start()]):
                tally.partial.append((url, text, m.start(), m.end()))


def _service_name(folded: str, at: int) -> str:
    """The last words before a level mention: the service's name, as a counting key."""
    chunk = folded[max(0, at - NAME_CHARS) : at].rstrip(" -–:")
    before = _NAME_STOP.split(chunk)[-1]
    words = re.findall(r"[a-z0-9]+", before)[-NAME_WORDS:]
    return "name:" + " ".join(words) if words else ""


def _documents(page: Page, tally: _Tally) -> None:
    url = page.final_url or page.url
    procedure_page = bool(re.search(r"thu tuc|tthc|bieu mau", fold(f"{page.title} {url}")))
    for link in page.links:
        if link.is_document and (
            procedure_page or _FORM_WORDS.search(fold(f"{link.label} {link.url}"))
        ):
            name = link.label or link.url.rsplit("/", 1)[-1]
            tally.add(2, "download", Evidence(url, f"{name} ({link.url})"), "url:" + link.url)


def _forms(page: Page, tally: _Tally) -> None:
    url = page.final_url or page.url
    for form in page.forms:
        words = fold(form.text)
        if form.has_file_input or _SUBMIT_WORDS.search(words):
            name = page.title or form.action
            ev = Evidence(url, f"{name}: {form.text[:120]}".strip(": "))
            tally.add(3, "form", ev, f"form:{url} {form.action}")


_UNSEEN: Any = object()


def _dvc_links(
    site: PortalArtifacts, ctx: CheckContext, levels: _Levels, tally: _Tally
) -> set[str]:
    patterns = compile_patterns(_opt(ctx, "dvc_host_patterns"))
    national = str(_opt(ctx, "national_portal")).lower()
    province = site.province_domain.lower().removeprefix("www.")
    own = {_host_path(u).split("/", 1)[0] for u in (site.url, site.final_url) if u}
    hosts: set[str] = set()
    # Menus repeat the same links on every page: judge each distinct URL and label once,
    # and cut evidence only for a link that raises its service's level.
    judged: dict[str, str | None] = {}
    label_levels: dict[str, int] = {}
    known = tally.services
    for page in site.pages:
        for link in page.links:
            url = link.url
            host = judged.get(url, _UNSEEN)
            if host is _UNSEEN:
                host = judged[url] = _service_host(url, own, national, province, patterns)
            if host is None:
                continue
            hosts.add(host)
            label = link.label
            level = label_levels.get(label)
            if level is None:
                level = label_levels[label] = _label_level(label, levels)
            key = "url:" + url
            if (seen := known.get(key)) is not None and level <= seen[0]:
                continue
            ev = Evidence(page.final_url or page.url, f"{label or host} → {url}")
            tally.add(level, "service_portal", ev, key)
    return hosts


def _label_level(label: str, levels: _Levels) -> int:
    """The level a service-portal link's own words claim (3, the least such a link offers)."""
    level = 3
    folded = fold(label)
    for pattern, _ in levels.level_2011:
        m = pattern.search(folded)
        if m:
            level = max(level, int(m.group(1)))
    return level


def _service_host(
    url: str, own: set[str], national: str, province: str, patterns: list[re.Pattern[str]]
) -> str | None:
    """The host of a service portal `url` leads to, or None if it is not one."""
    host_path = _host_path(url)
    host = host_path.split("/", 1)[0]
    if host in own:
        return None  # the portal's own /dvc page is judged by what it says, not as a portal
    official = host == national or host.endswith(".gov.vn")
    in_scope = host == national or not province or host.endswith("." + province)
    if not (official and in_scope and any(p.search(host_path) for p in patterns)):
        return None
    return host


def _level_2022(tally: _Tally) -> tuple[str, str]:
    if tally.full:
        return "full", "stated"
    if tally.partial:
        return "partial", "stated"
    # §4.3 of the reference: a heuristic, not a legal equivalence (4→full, 3→partial).
    mapped = {4: "full", 3: "partial"}.get(tally.max_level, "none")
    return mapped, "heuristic"


@check(
    id="services.level",
    title={
        "vi": "Dịch vụ công trực tuyến và mức độ",
        "en": "Online public services and their level",
    },
    failure_title={
        "vi": "Không thấy dịch vụ công trực tuyến (hoặc chỉ ở mức độ 1)",
        "en": "No online public services found (or only at level 1)",
    },
    legal_basis="NĐ 43/2011/NĐ-CP Điều 3 khoản 4, Điều 18 khoản 2, Điều 19 khoản 1",
)
def services_level(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Max level (0–4), the 2022 class and counts per level, judged by the ruleset scheme."""
    if (unknown := not_checked(site, "services.level")) is not None:
        return [unknown]
    tally = _Tally()
    levels = _levels(*(tuple(_opt(ctx, key)) for key in _LEVEL_KEYS))
    for page in site.pages:
        _mentions(page, levels, tally)
        _documents(page, tally)
        _forms(page, tally)
    hosts = _dvc_links(site, ctx, levels, tally)
    level_2022, source_2022 = _level_2022(tally)
    max_level = tally.max_level
    details: dict[str, Any] = {
        "max_level": max_level,
        "level_2022": level_2022,
        "level_2022_source": source_2022,
        "counts": {str(k): v for k, v in tally.counts.items()},
        "counts_2022": {"full": len(tally.full), "partial": len(tally.partial)},
        "service_portals": sorted(hosts),
        "scheme": str(_opt(ctx, "scheme")),
    }
    evidence = tally.evidence() + tally.statements()
    if not evidence:
        evidence = searched_evidence(
            site, f"(không thấy dịch vụ / no service on {len(site.pages)} pages)"
        )
    if details["scheme"] == "2022":
        status = {"full": Status.PASS, "partial": Status.WARN}.get(level_2022, Status.FAIL)
        vi = {"full": "toàn trình", "partial": "một phần", "none": "không có"}[level_2022]
        message = {
            "vi": f"Dịch vụ công trực tuyến: {vi}.",
            "en": f"Online public services: {level_2022}.",
        }
    else:
        pass_level = int(_opt(ctx, "pass_level"))
        status = (
            Status.PASS if max_level >= pass_level else Status.WARN if max_level else Status.FAIL
        )
        message = {
            "vi": f"Mức độ dịch vụ công trực tuyến cao nhất: {max_level}.",
            "en": f"Highest online public service level: {max_level}.",
        }
        if not max_level:
            message = {
                "vi": "Không thấy dịch vụ công trực tuyến nào.",
                "en": "No online public service was found.",
            }
    return [Finding("services.level", status, message, evidence, details)]
