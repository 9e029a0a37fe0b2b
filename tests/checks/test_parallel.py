"""portal.parallel: several live portals of one agency, redirects, shared news, newest items."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from checks.base import CheckContext, Status
from checks.parallel import parallel
from checks.ruleset import load_ruleset
from probe.artifacts import AgencyArtifacts, PortalArtifacts
from probe.textparse import find_dates

RULESET = load_ruleset("nd43-2011")
NOW = datetime(2024, 11, 25, 2, 0, tzinfo=UTC)
SHARED = "Huyện Lệ Thủy tổ chức hội nghị tổng kết công tác năm 2015"


def home(title: str, *news: str) -> str:
    items = "".join(f"<li><a href='/tin/{i}'>{t}</a></li>" for i, t in enumerate(news))
    return f"<html><head><title>{title}</title></head><body><main><ul>{items}</ul></main></body></html>"


def portal(make_site: Any, url: str, html: str, **changes: Any) -> PortalArtifacts:
    built = make_site([(url, html)], now=NOW)
    page = built.pages[0]
    if not page.dates:
        page = dataclasses.replace(page, dates=tuple(find_dates(page.text)))
    return dataclasses.replace(built, **{"pages": (page,), **changes})


def agency(*portals: PortalArtifacts) -> AgencyArtifacts:
    return AgencyArtifacts("huyen-le-thuy", "district", tuple(portals), NOW)


def test_two_live_portals_fail_with_shared_titles_and_newest(make_site: Any) -> None:
    a = portal(
        make_site,
        "http://lethuy.quangbinh.gov.vn/",
        home("Lệ Thủy", f"{SHARED} (12/10/2015)", "Tin riêng 20/11/2024"),
    )
    b = portal(make_site, "http://lethuy.gov.vn/", home("Lệ Thủy cũ", f"{SHARED} (12/10/2015)"))
    (finding,) = parallel(agency(a, b), CheckContext(RULESET, {}))
    assert finding.status == Status.FAIL
    assert finding.details["live_hosts"] == ["lethuy.gov.vn", "lethuy.quangbinh.gov.vn"]
    assert finding.details["newest"] == {
        "lethuy.quangbinh.gov.vn": "2024-11-20",
        "lethuy.gov.vn": "2015-10-12",
    }
    assert any(SHARED in t for t in finding.details["shared_titles"])
    urls = {e.url for e in finding.evidence}
    assert {"http://lethuy.quangbinh.gov.vn/", "http://lethuy.gov.vn/"} <= urls


def test_redirect_to_the_same_host_is_one_portal(make_site: Any) -> None:
    a = portal(make_site, "http://lethuy.quangbinh.gov.vn/", home("Lệ Thủy", SHARED))
    b = portal(
        make_site,
        "http://lethuy.gov.vn/",
        home("Lệ Thủy", SHARED),
        final_url="https://www.lethuy.quangbinh.gov.vn/",
        redirect_chain=(("http://lethuy.gov.vn/", 301),),
    )
    (finding,) = parallel(agency(a, b), CheckContext(RULESET, {}))
    assert finding.status == Status.PASS
    assert finding.details["live_hosts"] == ["lethuy.quangbinh.gov.vn"]


def test_dead_second_portal_is_not_parallel(make_site: Any) -> None:
    a = portal(make_site, "http://lethuy.quangbinh.gov.vn/", home("Lệ Thủy", SHARED))
    b = portal(make_site, "http://lethuy.gov.vn/", home("x"), outcome="unreachable", pages=())
    (finding,) = parallel(agency(a, b), CheckContext(RULESET, {}))
    assert finding.status == Status.PASS


def test_single_portal_passes(make_site: Any) -> None:
    a = portal(make_site, "http://lethuy.quangbinh.gov.vn/", home("Lệ Thủy", SHARED))
    (finding,) = parallel(agency(a), CheckContext(RULESET, {}))
    assert finding.status == Status.PASS


def test_nothing_reachable_is_unknown(make_site: Any) -> None:
    a = portal(make_site, "http://lethuy.quangbinh.gov.vn/", home("x"), outcome="timeout", pages=())
    b = portal(make_site, "http://lethuy.gov.vn/", home("x"), outcome="unreachable", pages=())
    (finding,) = parallel(agency(a, b), CheckContext(RULESET, {}))
    assert finding.status == Status.UNKNOWN
