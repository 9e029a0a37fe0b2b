"""Freshness: the newest dated item, its age, future dates and header clocks ignored."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from checks.base import CheckContext, Status
from checks.freshness import freshness
from checks.ruleset import load_ruleset
from probe.artifacts import Page
from probe.textparse import find_dates

RULESET = load_ruleset("nd43-2011")
NOW = datetime(2024, 11, 25, 2, 0, tzinfo=UTC)


def ctx(**extra: Any) -> CheckContext:
    return CheckContext(RULESET, {**RULESET.options("freshness"), **extra})


def dated(page: Page) -> Page:
    """Dates as extraction stores them (filled here if extract does not yet)."""
    if page.dates:
        return page
    return dataclasses.replace(page, dates=tuple(find_dates(page.text)))


def news(*items: str, header: str = "") -> str:
    lis = "".join(f"<li><a href='/tin/{i}'>{t}</a></li>" for i, t in enumerate(items))
    return f"<html><body><header>{header}</header><main><ul>{lis}</ul></main></body></html>"


CASES = [
    # (items, expected status, newest ISO, age)
    (["Hội nghị tổng kết (20/11/2024)", "Tin cũ (01/10/2024)"], Status.PASS, "2024-11-20", 5),
    (["Tiếp công dân định kỳ - ngày 10 tháng 10 năm 2024"], Status.WARN, "2024-10-10", 46),
    (["Ra quân làm sạch môi trường 12/10/2015 08:30"], Status.FAIL, "2015-10-12", 3332),
    (["Le hoi - ngay 1 thang 5 nam 2024"], Status.FAIL, "2024-05-01", 208),
    # a future announcement does not make the portal fresh
    (["Lịch tiếp dân 15/12/2024", "Tin đã đăng 01/06/2024"], Status.FAIL, "2024-06-01", 177),
]


@pytest.mark.parametrize(("items", "status", "newest", "age"), CASES)
def test_freshness(make_site: Any, items: list[str], status: Status, newest: str, age: int) -> None:
    site = make_site([dated(_page(make_site, news(*items)))], now=NOW)
    (finding,) = freshness(site, ctx())
    assert finding.status == status
    assert finding.details["newest"] == newest
    assert finding.details["age_days"] == age
    assert newest[:4] in finding.evidence[0].text


def _page(make_site: Any, html: str, url: str = "http://x.gov.vn/") -> Page:
    return make_site([(url, html)]).pages[0]


def test_thresholds_come_from_options(make_site: Any) -> None:
    site = make_site([dated(_page(make_site, news("Tin 20/11/2024")))], now=NOW)
    (finding,) = freshness(site, ctx(freshness_warn_days=2, freshness_fail_days=4))
    assert finding.status == Status.FAIL
    assert finding.details["warn_days"] == 2


def test_no_dated_item_is_unknown_not_fail(make_site: Any) -> None:
    site = make_site([dated(_page(make_site, news("Giới thiệu chung", "Liên hệ")))], now=NOW)
    (finding,) = freshness(site, ctx())
    assert finding.status == Status.UNKNOWN
    assert finding.details["reason"] == "no_dated_items"


def test_header_clock_is_not_news(make_site: Any) -> None:
    html = news("Tin cũ 01/01/2024", header="Hôm nay: Thứ Hai, 25/11/2024")
    site = make_site([dated(_page(make_site, html))], now=NOW)
    (finding,) = freshness(site, ctx())
    assert finding.details["newest"] == "2024-01-01"
    assert finding.status == Status.FAIL


def test_date_on_every_page_on_fetch_day_is_a_clock(make_site: Any) -> None:
    pages = [
        dated(_page(make_site, news("Thứ Hai 25/11/2024", "Tin 02/11/2024"), "http://x.gov.vn/")),
        dated(_page(make_site, news("Thứ Hai 25/11/2024", "Khác 03/11/2024"), "http://x.gov.vn/a")),
    ]
    site = make_site(pages, now=NOW)
    (finding,) = freshness(site, ctx())
    assert finding.details["newest"] == "2024-11-03"


def test_down_portal_is_unknown(make_site: Any) -> None:
    site = make_site([], outcome="timeout", now=NOW)
    (finding,) = freshness(site, ctx())
    assert finding.status == Status.UNKNOWN
