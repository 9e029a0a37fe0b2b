"""services.level: level mentions, downloadable forms, online forms and service-portal links."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from checks.base import CheckContext, Evidence, Status
from checks.ruleset import load_ruleset
from checks.services import services_level
from probe.artifacts import Form

RULESET = load_ruleset("nd43-2011")
URL = "http://lethuy.quangbinh.gov.vn/"


def ctx(**extra: Any) -> CheckContext:
    return CheckContext(RULESET, {**RULESET.options("services.level"), **extra})


def body(inner: str, title: str = "UBND huyện Lệ Thủy") -> str:
    return f"<html><head><title>{title}</title></head><body><main>{inner}</main></body></html>"


CASES = [
    # (html, expected max_level, status)
    ("<p>Cấp giấy phép xây dựng - Dịch vụ công mức độ 3</p>", 3, Status.PASS),
    ("<p>Dang ky khai sinh - DVC muc do 4</p>", 4, Status.PASS),
    ("<table><tr><td>Thủ tục chứng thực bản sao</td><td>DVCTT 2</td></tr></table>", 2, Status.PASS),
    ("<p>Thủ tục hành chính: Mức 1</p>", 1, Status.WARN),
    # service portal of the province: level 3 at least
    ("<a href='https://dichvucong.quangbinh.gov.vn/'>Dịch vụ công trực tuyến</a>", 3, Status.PASS),
    ("<a href='https://dichvucong.gov.vn/p/home'>Cổng DVC quốc gia mức độ 4</a>", 4, Status.PASS),
    # decoys: a level-like phrase outside any service context, another province, a non-gov host
    ("<p>Hỗ trợ hộ nghèo mức 1 triệu đồng mỗi tháng.</p>", 0, Status.FAIL),
    ("<a href='https://dichvucong.hatinh.gov.vn/'>DVC Hà Tĩnh</a>", 0, Status.FAIL),
    ("<a href='https://dichvucong.example.com/'>Dịch vụ công</a>", 0, Status.FAIL),
    ("<p>Giới thiệu chung về huyện</p>", 0, Status.FAIL),
]


@pytest.mark.parametrize(("html", "level", "status"), CASES)
def test_levels(make_site: Any, html: str, level: int, status: Status) -> None:
    site = make_site([(URL, body(html))], province_domain="quangbinh.gov.vn")
    (finding,) = services_level(site, ctx())
    assert finding.details["max_level"] == level
    assert finding.status == status
    if level:
        assert finding.evidence and finding.evidence[0].url == URL
        assert finding.details["counts"][str(level)] >= 1


def test_downloadable_form_on_procedure_page_is_level_2(make_site: Any) -> None:
    html = body(
        "<h1>Thủ tục đăng ký kết hôn</h1><a href='/files/to-khai-dang-ky-ket-hon.doc'>Tờ khai</a>"
        "<a href='/files/bao-cao-2015.pdf'>Báo cáo năm</a>",
        title="Thủ tục hành chính - Hộ tịch",
    )
    site = make_site([(URL, body("<p>Trang chủ</p>")), (URL + "thu-tuc-hanh-chinh/ket-hon", html)])
    (finding,) = services_level(site, ctx())
    assert finding.details["max_level"] == 2
    assert finding.details["counts"]["2"] == 2  # both documents sit on a procedure page
    assert "to-khai-dang-ky-ket-hon.doc" in finding.evidence[0].text


def test_online_form_with_file_input_is_level_3(make_site: Any) -> None:
    site = make_site([(URL, body("<p>Đăng ký hộ kinh doanh</p>"))])
    form = Form(
        action=URL + "nop",
        method="post",
        fields=("ten", "tep"),
        has_file_input=True,
        text="Gửi kèm hồ sơ",
    )
    home = dataclasses.replace(site.pages[0], forms=(form,))
    (finding,) = services_level(dataclasses.replace(site, pages=(home,)), ctx())
    assert finding.details["max_level"] == 3
    assert finding.status == Status.PASS


def test_search_form_is_not_a_service(make_site: Any) -> None:
    site = make_site([(URL, body("<p>Trang chủ</p>"))])
    form = Form(action=URL + "tim-kiem", fields=("q",), text="Tìm kiếm")
    home = dataclasses.replace(site.pages[0], forms=(form,))
    (finding,) = services_level(dataclasses.replace(site, pages=(home,)), ctx())
    assert finding.details["max_level"] == 0


@pytest.mark.parametrize(
    ("html", "level_2022", "source", "status"),
    [
        (
            "<p>Đăng ký khai sinh - Dịch vụ công trực tuyến toàn trình</p>",
            "full",
            "stated",
            Status.PASS,
        ),
        ("<p>Cấp phép xây dựng - DVC trực tuyến một phần</p>", "partial", "stated", Status.WARN),
        ("<p>Thu tuc A - Muc do: Mot phan</p>", "partial", "stated", Status.WARN),
        ("<p>Hỗ trợ một phần kinh phí</p>", "none", "heuristic", Status.FAIL),
        ("<p>Cấp giấy phép - Dịch vụ công mức độ 4</p>", "full", "heuristic", Status.PASS),
    ],
)
def test_2022_scheme(
    make_site: Any, html: str, level_2022: str, source: str, status: Status
) -> None:
    site = make_site([(URL, body(html))])
    (finding,) = services_level(site, ctx(scheme="2022"))
    assert finding.details["level_2022"] == level_2022
    assert finding.details["level_2022_source"] == source
    assert finding.status == status


def test_pass_level_from_options(make_site: Any) -> None:
    site = make_site([(URL, body("<p>Thủ tục A - Dịch vụ công mức độ 3</p>"))])
    (finding,) = services_level(site, ctx(pass_level=4))
    assert finding.status == Status.WARN


def test_statements_counted_and_first_two_quoted(make_site: Any) -> None:
    """Every 2022 statement is counted; the evidence quotes the first two, in page order."""
    items = "".join(f"<p>Thủ tục số {n}: dịch vụ công trực tuyến toàn trình.</p>" for n in range(7))
    site = make_site([(URL, body(items)), (URL + "b", body("<p>Thủ tục X toàn trình</p>"))])
    (finding,) = services_level(site, ctx(scheme="2022"))
    assert finding.details["counts_2022"] == {"full": 8, "partial": 0}
    quoted = [e.text for e in finding.evidence if "toàn trình" in e.text]
    assert len(quoted) == 2
    assert "Thủ tục số 0" in quoted[0] and "Thủ tục số 1" in quoted[1]


def test_repeated_service_keeps_its_first_evidence_and_highest_level(make_site: Any) -> None:
    """A service named on several pages is one service: first quote, best level."""
    pages = [
        (URL, body("<p>Cấp giấy phép xây dựng - Dịch vụ công mức độ 3</p>")),
        (URL + "a", body("<p>Cấp giấy phép xây dựng - Dịch vụ công mức độ 3</p>")),
        (URL + "b", body("<p>Cấp giấy phép xây dựng - Dịch vụ công mức độ 4</p>")),
    ]
    (finding,) = services_level(make_site(pages), ctx())
    assert finding.details["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1}
    assert finding.evidence[0].url == URL + "b"


def test_service_portal_link_repeated_in_menus(make_site: Any) -> None:
    """One link on every page is one service: quoted where its label first claims the most."""
    dvc = "https://dichvucong.quangbinh.gov.vn/"
    pages = [
        (URL, body(f"<nav><a href='{dvc}'>Cổng</a></nav>")),
        (URL + "a", body(f"<nav><a href='{dvc}' title='DVC mức độ 4'>Cổng</a></nav>")),
        (URL + "b", body(f"<nav><a href='{dvc}' title='DVC mức độ 4'>Cổng</a></nav>")),
        (URL + "c", body(f"<nav><a href='{dvc}'>Cổng</a></nav>")),
    ]
    (finding,) = services_level(make_site(pages, province_domain="quangbinh.gov.vn"), ctx())
    assert finding.details["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1}
    assert finding.details["service_portals"] == ["dichvucong.quangbinh.gov.vn"]
    assert finding.evidence == (Evidence(URL + "a", f"Cổng DVC mức độ 4 → {dvc}"),)
