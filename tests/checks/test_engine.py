"""Engine: na by level/date, ruleset weights, crashes and uncrawled portals become unknown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from checks.base import REGISTRY, CheckContext, Finding, Status, check
from checks.engine import CheckOptions, run_portal_checks
from checks.ruleset import load_ruleset
from checks.scoring import score, score_breakdown
from probe.artifacts import PortalArtifacts, Reason

R43 = load_ruleset("nd43-2011")
HOME = "http://portal.test/"
PAGE = "<html><body><nav><a href='/tthc'>Thủ tục hành chính</a></nav><p>Trang chủ</p></body></html>"


@pytest.fixture
def exploding_licence() -> Iterator[None]:
    """Temporarily replace the licence check with one that raises."""
    saved = REGISTRY.pop("licence", None)

    @check(
        id="licence",
        title={"vi": "x", "en": "x"},
        failure_title={"vi": "x", "en": "x"},
        legal_basis="test",
    )
    def boom(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
        raise ValueError("bad footer")

    try:
        yield
    finally:
        REGISTRY.pop("licence", None)
        if saved is not None:
            REGISTRY["licence"] = saved


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def test_every_ruleset_id_gets_exactly_one_finding(make_site: Any) -> None:
    found = run_portal_checks(make_site([(HOME, PAGE)]), R43, CheckOptions())
    ids = [f.check for f in found]
    assert sorted(ids) == sorted(i for i in R43.check_ids() if i != "portal.parallel")
    assert len(ids) == len(set(ids))


def test_na_for_level_with_reason(make_site: Any) -> None:
    found = by_id(run_portal_checks(make_site([(HOME, PAGE)], level="district"), R43))
    gazette = found["section.e_gazette"]
    assert gazette.status is Status.NA
    assert "tỉnh" in gazette.message["vi"]
    commune = by_id(run_portal_checks(make_site([(HOME, PAGE)], level="commune"), R43))
    # ND 43 Đ10 a-c, Đ15, Đ18-19 and TT 32 layout are not commune rules ...
    for cid in ("section.news", "section.sitemap", "services.level", "domain"):
        assert commune[cid].status is Status.NA, cid
    # ... but TT 09/2014 Đ2.3 identity and Luật CNTT Đ28 content are rules for every site.
    for cid in ("footer.owner", "footer.phone", "section.legal_documents", "availability"):
        assert commune[cid].status is not Status.NA, cid


def test_na_before_effective_date(make_site: Any) -> None:
    site = make_site([(HOME, PAGE)], now=datetime(2015, 11, 1, tzinfo=UTC))
    found = by_id(run_portal_checks(site, R43))
    assert found["section.sitemap"].status is Status.NA
    assert found["section.admin_procedures"].status is not Status.NA


def test_crashing_check_is_unknown_not_fail(exploding_licence: None, make_site: Any) -> None:
    found = by_id(run_portal_checks(make_site([(HOME, PAGE)]), R43))
    f = found["licence"]
    assert f.status is Status.UNKNOWN
    assert f.details["reason"] == "check_error"
    assert "bad footer" in f.details["message"]


def test_uncrawled_portal_content_checks_unknown_with_reason(make_site: Any) -> None:
    site = make_site([], outcome="timeout", reason=Reason("timeout", "no answer within 10 s"))
    found = by_id(run_portal_checks(site, R43))
    f = found["section.news"]
    assert f.status is Status.UNKNOWN
    assert f.details["reason"] == "timeout"
    assert "10 s" in f.details["message"]
    assert all(
        x.status is not Status.FAIL for x in found.values() if x.check.startswith("section.")
    )


def test_weights_come_from_ruleset(make_site: Any) -> None:
    r42 = load_ruleset("nd42-2022")
    found = run_portal_checks(make_site([(HOME, PAGE)]), r42)
    for f in found:
        assert f.weight == r42.weight(f.check)
    assert by_id(found)["section.news"].weight == 0.5


def test_scoring_weighted_excluding_na_unknown() -> None:
    msg = {"vi": "", "en": ""}
    fs = [
        Finding("a", Status.PASS, msg, weight=2),
        Finding("b", Status.WARN, msg, weight=2),
        Finding("c", Status.FAIL, msg, weight=1),
        Finding("d", Status.NA, msg, weight=5),
        Finding("e", Status.UNKNOWN, msg, weight=5),
    ]
    assert score(fs) == pytest.approx((2 + 1) / 5)
    b = score_breakdown(fs)
    assert b.counts == {"pass": 1, "warn": 1, "fail": 1, "na": 1, "unknown": 1}
    assert b.excluded_weight == 10
    assert score([Finding("d", Status.NA, msg)]) is None


def test_engine_weighting_keeps_every_finding_field() -> None:
    """The engine rebuilds each finding with the ruleset's weight; no other field may change.

    It spells the fields out (cheaper than `dataclasses.replace`), so a field added to
    `Finding` must be added there too: this fails until it is.
    """
    import dataclasses

    from checks.base import Evidence, Finding, Status

    names = [f.name for f in dataclasses.fields(Finding)]
    assert names == ["check", "status", "message", "evidence", "details", "weight"]
    f = Finding(
        "licence", Status.WARN, {"vi": "a", "en": "b"}, (Evidence("u", "t"),), {"x": 1}, 3.0
    )
    rebuilt = Finding(f.check, f.status, f.message, f.evidence, f.details, 0.5)
    assert rebuilt == dataclasses.replace(f, weight=0.5)


def _marked(findings: list[Finding]) -> list[Finding]:
    return [
        Finding(f.check, f.status, {"vi": "cũ", "en": "earlier"}, f.evidence, f.details, f.weight)
        for f in findings
    ]


def _site() -> PortalArtifacts:
    from tests.checks.conftest import build_site

    return build_site([(HOME, PAGE)])


def test_reuse_takes_earlier_findings_of_non_volatile_families() -> None:
    site = _site()
    fresh = run_portal_checks(site, R43)
    again = run_portal_checks(site, R43, reuse=_marked(fresh))
    assert [f.check for f in again] == [f.check for f in fresh]
    volatile = {c.meta.id for c in REGISTRY.values() if c.meta.volatile}
    assert volatile >= {"freshness", "availability", "tls"}
    for f in again:
        family = next(
            c
            for c in REGISTRY.values()
            if f.check == c.meta.id or f.check.startswith(c.meta.id + ".")
        )
        applies = R43.applies(f.check, site.agency_level, site.now.date())
        reused = f.message["en"] == "earlier"
        assert reused == (applies and not family.meta.volatile), f.check


def test_reuse_needs_one_earlier_finding_per_applicable_id() -> None:
    site = _site()
    fresh = run_portal_checks(site, R43)
    earlier = [f for f in _marked(fresh) if f.check != "footer.owner"]
    earlier += [f for f in _marked(fresh) if f.check == "licence"]  # twice: not trusted
    again = {f.check: f for f in run_portal_checks(site, R43, reuse=earlier)}
    assert again["footer.owner"].message["en"] != "earlier"
    assert again["licence"].message["en"] != "earlier"
    assert again["footer.phone"].message["en"] == "earlier"
