"""Parallel portals: one agency running more than one live portal (agency scope).

The 2015 Quảng Bình inspection found Lệ Thủy publishing on both lethuy.gov.vn and
lethuy.quangbinh.gov.vn, neither pointing to the other, so citizens could not tell which
was authoritative. Two registry URLs that end, after redirects, on the same host are one
portal; two live portals on different hosts are parallel. The evidence gives both
addresses, news titles they share (one is often a copy of the other) and each one's
newest dated item (usually one of them has been abandoned).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from checks.base import CheckContext, Evidence, Finding, Status, check
from checks.freshness import newest_date
from checks.text import match_key
from probe.artifacts import AgencyArtifacts, PortalArtifacts

MIN_TITLE_CHARS = 25  # shorter link texts are menu items, not news titles
MAX_SHARED = 5


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _live(site: PortalArtifacts) -> bool:
    return site.outcome == "checked" and site.home is not None and site.home.ok


def _landing(site: PortalArtifacts) -> str:
    home = site.home
    return site.final_url or (home.final_url if home else "") or site.url


def _titles(site: PortalArtifacts) -> dict[str, str]:
    """Long link texts of the home page (news titles), by match key."""
    home = site.home
    if home is None:
        return {}
    return {
        match_key(link.text): link.text
        for link in home.links
        if len(link.text) >= MIN_TITLE_CHARS and link.region in ("body", "aside")
    }


@check(
    id="portal.parallel",
    title={"vi": "Mỗi cơ quan một cổng thông tin", "en": "One portal per agency"},
    failure_title={
        "vi": "Cơ quan duy trì song song nhiều cổng thông tin",
        "en": "The agency runs parallel portals",
    },
    legal_basis="NĐ 43/2011/NĐ-CP Điều 6",
    scope="agency",
)
def parallel(agency: AgencyArtifacts, ctx: CheckContext) -> list[Finding]:
    """Fail when live portals end on more than one host; pass when one (or all redirect)."""
    portals = agency.portals
    live = [p for p in portals if _live(p)]
    by_host: dict[str, PortalArtifacts] = {}
    for site in live:
        by_host.setdefault(_host(_landing(site)), site)
    details = {
        "portals": [
            {"url": p.url, "final_url": _landing(p), "outcome": p.outcome} for p in portals
        ],
        "live_hosts": sorted(by_host),
    }
    if len(by_host) <= 1:
        if not live and any(p.outcome != "checked" for p in portals) and len(portals) > 1:
            return [
                Finding(
                    "portal.parallel",
                    Status.UNKNOWN,
                    {
                        "vi": "Không tải được các cổng để so sánh.",
                        "en": "The portals could not be fetched to compare them.",
                    },
                    details={**details, "reason": "not_reachable"},
                )
            ]
        only = next(iter(by_host), "")
        return [
            Finding(
                "portal.parallel",
                Status.PASS,
                {
                    "vi": f"Một cổng duy nhất{f' ({only})' if only else ''}.",
                    "en": f"A single portal{f' ({only})' if only else ''}.",
                },
                details=details,
            )
        ]
    sites = list(by_host.values())
    today = agency.now.date()
    evidence: list[Evidence] = []
    newest: dict[str, str] = {}
    for site in sites:
        home = site.home
        assert home is not None  # _live
        mention = newest_date(home, today)
        newest[_host(_landing(site))] = mention.value.isoformat() if mention else ""
        text = f"{home.title}" + (f" — tin mới nhất: {mention.text}" if mention else "")
        evidence.append(Evidence(_landing(site), text))
    first, *others = (_titles(s) for s in sites)
    shared_keys = [k for k in first if all(k in o for o in others)]
    shared = [first[k] for k in shared_keys[:MAX_SHARED]]
    for title in shared:
        evidence.append(Evidence(_landing(sites[0]), title))
    hosts = ", ".join(sorted(by_host))
    n = len(by_host)
    details.update(shared_titles=shared, newest=newest)
    return [
        Finding(
            "portal.parallel",
            Status.FAIL,
            {
                "vi": f"Có {n} cổng cùng hoạt động, không chuyển hướng về nhau: {hosts}.",
                "en": f"{n} live portals, neither redirecting to the other: {hosts}.",
            },
            tuple(evidence),
            details,
        )
    ]
