"""availability, https, tls and domain on crawl outcomes built like the crawler's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from checks.base import CheckContext, Status
from checks.ruleset import load_ruleset
from checks.transport import availability, domain, https, tls
from probe.artifacts import PortalArtifacts, Reason, TlsInfo

RULESET = load_ruleset("nd43-2011")
NOW = datetime(2024, 11, 25, 2, 0, tzinfo=UTC)
HOME = "<html><head><title>UBND huyện Lệ Thủy</title></head><body><p>Trang chủ</p></body></html>"


def ctx(check_id: str, **extra: Any) -> CheckContext:
    return CheckContext(RULESET, {**RULESET.options(check_id), **extra})


def site(
    make_site: Any, url: str = "http://lethuy.quangbinh.gov.vn/", **changes: Any
) -> PortalArtifacts:
    built = make_site([(url, HOME)], now=NOW, province_domain="quangbinh.gov.vn")
    return dataclasses.replace(built, **changes)


AVAILABILITY = [
    ({}, Status.PASS, None),
    (
        {
            "outcome": "unreachable",
            "pages": (),
            "reason": Reason("unreachable", "DNS: no such host"),
        },
        Status.FAIL,
        "unreachable",
    ),
    (
        {"outcome": "timeout", "pages": (), "reason": Reason("timeout", "no answer in 10 s")},
        Status.FAIL,
        "timeout",
    ),
    (
        {"outcome": "tls_error", "pages": (), "reason": Reason("tls_error", "certificate expired")},
        Status.FAIL,
        "tls_error",
    ),
    (
        {"outcome": "blocked", "pages": (), "reason": Reason("robots", "robots.txt disallows /")},
        Status.UNKNOWN,
        "robots",
    ),
    (
        {"outcome": "refused", "pages": (), "reason": Reason("refused", "private address")},
        Status.UNKNOWN,
        "refused",
    ),
]


@pytest.mark.parametrize(("changes", "status", "reason"), AVAILABILITY)
def test_availability(
    make_site: Any, changes: dict[str, Any], status: Status, reason: str | None
) -> None:
    (finding,) = availability(site(make_site, **changes), ctx("availability"))
    assert finding.status == status
    if reason:
        assert finding.details["reason"] == reason


def test_availability_500_is_fail(make_site: Any) -> None:
    built = make_site([("http://x.gov.vn/", HOME, 500)], now=NOW)
    (finding,) = availability(built, ctx("availability"))
    assert finding.status == Status.FAIL
    assert finding.details["status"] == 500 and finding.details["reason"] == "http_status"


HTTPS = [
    ("https://lethuy.quangbinh.gov.vn/", {}, False, Status.PASS),
    (
        "http://lethuy.quangbinh.gov.vn/",
        {
            "final_url": "https://lethuy.quangbinh.gov.vn/",
            "redirect_chain": (("http://lethuy.quangbinh.gov.vn/", 301),),
        },
        False,
        Status.PASS,
    ),
    ("http://lethuy.quangbinh.gov.vn/", {}, False, Status.WARN),
    ("http://lethuy.quangbinh.gov.vn/", {}, True, Status.FAIL),
]


@pytest.mark.parametrize(("url", "changes", "required", "status"), HTTPS)
def test_https(
    make_site: Any, url: str, changes: dict[str, Any], required: bool, status: Status
) -> None:
    (finding,) = https(site(make_site, url, **changes), ctx("https", required=required))
    assert finding.status == status
    if "redirect_chain" in changes:
        assert finding.details["http_redirects"] is True
        assert "→" in finding.evidence[0].text


def _cert(days: int, valid: bool = True, error: str = "") -> TlsInfo:
    return TlsInfo(
        valid=valid, error=error, not_after=NOW + timedelta(days=days), issuer="R11", subject="CN=x"
    )


TLS = [
    ("https://x.gov.vn/", _cert(200), Status.PASS, 200),
    ("https://x.gov.vn/", _cert(12), Status.WARN, 12),
    ("https://x.gov.vn/", _cert(-3), Status.FAIL, -3),
    ("https://x.gov.vn/", _cert(100, False, "self-signed certificate"), Status.FAIL, 100),
    ("http://x.gov.vn/", None, Status.NA, None),
    ("https://x.gov.vn/", None, Status.UNKNOWN, None),
]


@pytest.mark.parametrize(("url", "info", "status", "days"), TLS)
def test_tls(
    make_site: Any, url: str, info: TlsInfo | None, status: Status, days: int | None
) -> None:
    (finding,) = tls(site(make_site, url, tls=info), ctx("tls"))
    assert finding.status == status
    if days is not None:
        assert finding.details["days_left"] == days


def test_tls_naive_expiry_is_read_as_utc(make_site: Any) -> None:
    info = TlsInfo(valid=True, not_after=datetime(2025, 1, 24, 2, 0))
    (finding,) = tls(site(make_site, "https://x.gov.vn/", tls=info), ctx("tls"))
    assert finding.details["days_left"] == 60


DOMAIN = [
    ("http://lethuy.quangbinh.gov.vn/", "district", {}, Status.PASS),
    ("http://lethuy.gov.vn/", "district", {}, Status.FAIL),
    ("http://lethuy.com/", "district", {}, Status.FAIL),
    ("https://www.quangbinh.gov.vn/3cms/", "province", {}, Status.PASS),
    ("http://quangbinh.gov.vn/", "district", {}, Status.FAIL),
    ("http://skhcn.quangbinh.gov.vn/3cms/", "department", {}, Status.PASS),
    ("http://a.b.quangbinh.gov.vn/", "department", {}, Status.FAIL),
    # the registered non-conforming name redirects to a conforming one: readers land right
    (
        "http://lethuy.gov.vn/",
        "district",
        {"final_url": "http://lethuy.quangbinh.gov.vn/"},
        Status.PASS,
    ),
    ("http://lethuy.gov.vn/", "district", {"province_domain": ""}, Status.UNKNOWN),
]


@pytest.mark.parametrize(("url", "level", "changes", "status"), DOMAIN)
def test_domain(
    make_site: Any, url: str, level: str, changes: dict[str, Any], status: Status
) -> None:
    s = site(make_site, url, agency_level=level, **changes)
    (finding,) = domain(s, ctx("domain"))
    assert finding.status == status, finding.message
    assert finding.details["registered_host"] == url.split("//")[1].split("/")[0].removeprefix(
        "www."
    )
