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
from typing import Any
from urllib.parse import urlsplit

from checks.base import CheckContext, Evidence, Finding, Status, check
from checks.common import (
    compile_patterns,
    excerpt,
    finditer_at,
    fold_aligned,
    not_checked,
    prefix_starts,
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


def _mentions(page: Page, ctx: CheckContext, tally: _Tally) -> None:
    text = page.text
    # Not kept in the run memo: no other check reads a whole page folded, and 25 pages'
    # copies would only hold memory until the portal is done.
    folded = fold_aligned(text)
    url = page.final_url or page.url
    memo = ctx.memo
    # Each pattern is only tried where the folded page holds its opening letters
    # (`prefix_starts`): the same matches as a whole-page search, at a fraction of the cost.
    for pattern in compile_patterns(_opt(ctx, "level_2011_patterns")):
        starts = prefix_starts(memo, pattern, folded)
        for source in (text, folded):
            for m in finditer_at(pattern, source, starts):
                start, end = m.span()
                around = folded[max(0, start - CONTEXT_RADIUS) : end + CONTEXT_RADIUS]
                if _CONTEXT.search(around):
                    service = _service_name(folded, start)
                    tally.add_mention(int(m.group(1)), url, text, (start, end), service)
    full = tally.full
    for pattern in compile_patterns(_opt(ctx, "level_2022_full_patterns")):
        for m in finditer_at(pattern, folded, prefix_starts(memo, pattern, folded)):
            full.append((url, text, m.start(), m.end()))
    for pattern in compile_patterns(_opt(ctx, "level_2022_partial_patterns")):
        for m in finditer_at(pattern, folded, prefix_starts(memo, pattern, folded)):
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


def _dvc_links(site: PortalArtifacts, ctx: CheckContext, tally: _Tally) -> set[str]:
    patterns = compile_patterns(_opt(ctx, "dvc_host_patterns"))
    national = str(_opt(ctx, "national_portal")).lower()
    province = site.province_domain.lower().removeprefix("www.")
    levels = compile_patterns(_opt(ctx, "level_2011_patterns"))
    own = {_host_path(u).split("/", 1)[0] for u in (site.url, site.final_url) if u}
    hosts: set[str] = set()
    # Menus repeat the same links on every page: judge each distinct URL once.
    judged: dict[str, str | None] = {}
    for page in site.pages:
        for link in page.links:
            if link.url in judged:
                host = judged[link.url]
            else:
                host = judged[link.url] = _service_host(link.url, own, national, province, patterns)
            if host is None:
                continue
            hosts.add(host)
            level = 3
            for p in levels:
                m = p.search(fold(link.label))
                if m:
                    level = max(level, int(m.group(1)))
            ev = Evidence(page.final_url or page.url, f"{link.label or host} → {link.url}")
            tally.add(level, "service_portal", ev, "url:" + link.url)
    return hosts


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
    for page in site.pages:
        _mentions(page, ctx, tally)
        _documents(page, tally)
        _forms(page, tally)
    hosts = _dvc_links(site, ctx, tally)
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
