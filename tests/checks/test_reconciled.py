"""Regressions from reconciling the checks with the demo expectations and real pages.

Each case is a small page of our own, modelled on a pattern seen on a real portal (no
copied text): a failure the fetcher records as ``http_500``, a SharePoint entry page, a
Q&A page that is only a question form, officials listed on a leaders page, an office
named as "responsible", an unlabelled agency name, a service portal that is really the
portal's own page, the same service listed twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks.base import CheckContext, Finding, Status
from checks.email import email_public_provider
from checks.footer import footer_owner, footer_phone, footer_responsible_person
from checks.ruleset import load_ruleset
from checks.sections import check_sections
from checks.services import services_level
from checks.transport import domain, https
from probe.artifacts import FetchFailure, PortalArtifacts

R43 = load_ruleset("nd43-2011")
R42 = load_ruleset("nd42-2022")
HOME = "http://huyen-mau.tinh.gov.vn/"
FILLER = "<p>Cổng thông tin điện tử của huyện mẫu, cập nhật thông tin hoạt động hằng ngày.</p>"


def html(menu: str = "", body: str = "", footer: str = "", title: str = "Huyện mẫu") -> str:
    return (
        f"<html><head><title>{title}</title></head><body><nav><ul>{menu}</ul></nav>"
        f"<div id='content'>{body}{FILLER}</div><footer>{footer}</footer></body></html>"
    )


def sections(site: PortalArtifacts, ruleset: Any = R43) -> dict[str, Finding]:
    return {f.check: f for f in check_sections(site, CheckContext(ruleset=ruleset))}


def ctx(check_id: str, ruleset: Any = R43) -> CheckContext:
    return CheckContext(ruleset, ruleset.options(check_id))


def test_server_error_on_a_menu_link_is_a_broken_link(make_site: Any) -> None:
    menu = "<li><a href='/lich-lam-viec'>Lịch làm việc</a></li>"
    failure = FetchFailure(HOME + "lich-lam-viec", "http_503", "answered HTTP 503", 503)
    site = make_site([(HOME, html(menu))], failures=[failure])
    f = sections(site)["section.leader_schedule"]
    assert f.status is Status.WARN
    assert f.details["target_status"] == 503


def test_the_page_the_portal_calls_home_counts_as_home(make_site: Any) -> None:
    entry = html("<li><a href='/trang/default.aspx'>TRANG CHỦ</a></li>")
    real_home = html(
        "<li><a href='/trang/default.aspx'>TRANG CHỦ</a></li>",
        body="<div><a href='/trang/tra-cuu.aspx'>Tìm kiếm</a></div>",
    )
    search_page = "<html><body><h1>Tìm kiếm</h1><p>Chưa có kết quả.</p></body></html>"
    site = make_site(
        [
            (HOME, entry),
            (HOME + "trang/default.aspx", real_home),
            (HOME + "trang/tra-cuu.aspx", search_page),
        ]
    )
    assert sections(site)["section.search"].status is Status.PASS


def test_a_home_link_off_site_is_not_our_home(make_site: Any) -> None:
    menu = "<li><a href='http://tinh.gov.vn/trang-chu'>Trang chủ tỉnh</a></li>"
    other = html(body="<form action='/tim'><input name='q'></form>")
    site = make_site([(HOME, html(menu)), ("http://tinh.gov.vn/trang-chu", other)])
    assert sections(site)["section.search"].status is Status.FAIL


def test_question_form_page_is_not_empty(make_site: Any) -> None:
    menu = "<li><a href='/hoi-dap'>Hỏi đáp</a></li>"
    form_page = (
        "<html><body><h1>Hỏi đáp</h1><form method='post' action='/hoi-dap'>"
        "<input name='hoten'><input name='thu'><textarea name='noidung'></textarea>"
        "<button>Gửi</button></form></body></html>"
    )
    site = make_site([(HOME, html(menu)), (HOME + "hoi-dap", form_page)])
    assert sections(site)["section.qa_feedback"].status is Status.PASS


LEADERS_WITH_CONTACTS = (
    "<h1>Ban lãnh đạo</h1><table><tr><td>Trần Văn Mẫu</td><td>Chủ tịch</td>"
    "<td>(0299) 3111 222</td><td>mautv@huyen-mau.tinh.gov.vn</td></tr></table>"
)
LEADERS_WITHOUT_CONTACTS = (
    "<h1>Ban lãnh đạo</h1><p>Trần Văn Mẫu, Chủ tịch: phụ trách chung, chỉ đạo các lĩnh vực "
    "nội chính, tài chính và quy hoạch của huyện.</p>"
)
PORTAL_CONTACT = (
    "<h1>Liên hệ</h1><p>Văn phòng HĐND và UBND huyện. Địa chỉ: số 1 đường Mẫu. "
    "Điện thoại: (0299) 3111 000. Thư điện tử: vanphong@huyen-mau.tinh.gov.vn</p>"
)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (LEADERS_WITH_CONTACTS, Status.PASS),
        (LEADERS_WITHOUT_CONTACTS, Status.FAIL),
        (PORTAL_CONTACT, Status.FAIL),
    ],
)
def test_officials_listed_with_phone_and_email(page: str, expected: Status, make_site: Any) -> None:
    menu = "<li><a href='/lanh-dao'>Lãnh đạo huyện</a></li><li><a href='/lien-he'>Liên hệ</a></li>"
    pages = [(HOME, html(menu)), (HOME + "lanh-dao", f"<html><body>{page}</body></html>")]
    if page is not PORTAL_CONTACT:
        pages.append((HOME + "lien-he", f"<html><body>{PORTAL_CONTACT}</body></html>"))
    f = sections(make_site(pages))["section.official_contacts"]
    assert f.status is expected
    if expected is Status.PASS:
        assert f.details["match"] == "content"
        assert "Chủ tịch" in f.evidence[-1].text


def test_recommended_section_missing_is_warn_and_says_so(make_site: Any) -> None:
    site = make_site([(HOME, html("<li><a href='/gioi-thieu'>Giới thiệu</a></li>"))])
    found = sections(site, R42)
    recommended = found["section.news"]
    assert recommended.status is Status.WARN
    assert "recommended" in recommended.message["en"]
    assert found["section.legal_documents"].status is Status.FAIL


@pytest.mark.parametrize(
    ("footer", "status", "value"),
    [
        ("Chịu trách nhiệm nội dung: Văn phòng UBND huyện Mẫu", Status.WARN, "Văn phòng"),
        ("Chịu trách nhiệm xuất bản: Trung tâm Văn hóa - Thông tin", Status.WARN, "Trung tâm"),
        ("Chịu trách nhiệm: Ông Lê Văn Mẫu - Chủ tịch UBND huyện", Status.PASS, "Ông Lê"),
        ("Trưởng ban Ban biên tập: Bà Hoàng Thị Mẫu", Status.PASS, "Bà Hoàng"),
        ("Tổng biên tập: Nguyễn Mẫu", Status.PASS, "Nguyễn"),
    ],
)
def test_responsible_person_must_be_a_person(
    footer: str, status: Status, value: str, make_site: Any
) -> None:
    site = make_site([(HOME, html(footer=f"<p>{footer}</p>"))])
    (f,) = footer_responsible_person(site, ctx("footer.responsible_person"))
    assert f.status is status
    assert f.details["value"].startswith(value)
    assert f.evidence


@pytest.mark.parametrize(
    ("footer", "owner"),
    [
        ("<p>SỞ NỘI VỤ TỈNH MẪU</p><p>Địa chỉ: 5 đường Mẫu</p>", "SỞ NỘI VỤ TỈNH MẪU"),
        ("<p>© Bản quyền thuộc về Ban Quản lý dự án tỉnh Mẫu</p>", "Ban Quản lý dự án tỉnh Mẫu"),
    ],
)
def test_owner_unlabelled_or_after_ban_quyen_thuoc(footer: str, owner: str, make_site: Any) -> None:
    site = make_site([(HOME, html(footer=footer))])
    (f,) = footer_owner(site, ctx("footer.owner"))
    assert f.status is Status.PASS
    assert f.details["value"] == owner


@pytest.mark.parametrize(
    ("line", "digits"),
    [
        ("ĐT: (0299) 3111 222", "02993111222"),
        ("Điện thoại: Văn phòng: 0299.3111.223", "02993111223"),
        ("Tel: +84 299 3111 224", "842993111224"),
    ],
)
def test_phone_written_with_brackets_or_a_sub_label(line: str, digits: str, make_site: Any) -> None:
    site = make_site([(HOME, html(footer=f"<p>Địa chỉ: 1 đường Mẫu - {line}</p>"))])
    (f,) = footer_phone(site, ctx("footer.phone"))
    assert f.status is Status.PASS
    assert "".join(ch for ch in f.details["value"] if ch.isdigit()) == digits


def test_own_dvc_page_is_not_a_service_portal(make_site: Any) -> None:
    menu = "<li><a href='/dvc'>DVC trực tuyến</a></li>"
    dvc = html(body="<h2>Dịch vụ công trực tuyến</h2><p>Cấp giấy phép kinh doanh: Mức độ 2.</p>")
    site = make_site([(HOME, html(menu)), (HOME + "dvc", dvc)], province_domain="tinh.gov.vn")
    (f,) = services_level(site, ctx("services.level"))
    assert f.details["max_level"] == 2
    assert f.details["service_portals"] == []
    assert f.status is Status.PASS  # ND 43 Đ19.1: level 2 where forms exist


def test_procedure_lookup_host_is_not_level_3(make_site: Any) -> None:
    menu = "<li><a href='http://tthc.tinh.gov.vn/'>Tra cứu thủ tục hành chính</a></li>"
    site = make_site([(HOME, html(menu))], province_domain="tinh.gov.vn")
    (f,) = services_level(site, ctx("services.level"))
    assert f.details["max_level"] == 0
    assert f.status is Status.FAIL
    assert f.evidence


def test_services_are_counted_once_each(make_site: Any) -> None:
    listing = "<p>Đăng ký hộ kinh doanh - Mức độ 2</p><p>Cấp phép xây dựng - Mức độ 3</p>"
    menu = "<li><a href='/tthc'>Thủ tục hành chính</a></li>"
    site = make_site(
        [(HOME, html(menu, body=listing)), (HOME + "tthc", html(menu, body=listing))],
        province_domain="tinh.gov.vn",
    )
    (f,) = services_level(site, ctx("services.level"))
    assert f.details["counts"] == {"1": 0, "2": 1, "3": 1, "4": 0}


def test_no_published_email_is_not_a_public_provider(make_site: Any) -> None:
    site = make_site([(HOME, html(footer="<p>Địa chỉ: 1 đường Mẫu</p>"))])
    (f,) = email_public_provider(site, ctx("email.public_provider"))
    assert f.status is Status.PASS
    assert f.details["public"] == []
    assert f.evidence


def test_https_judged_from_the_url_when_the_portal_did_not_load(make_site: Any) -> None:
    down = make_site([], outcome="timeout")
    secure = make_site([], outcome="tls_error")
    secure = PortalArtifacts(**{**secure.__dict__, "url": "https://huyen-mau.tinh.gov.vn/"})
    (plain,) = https(down, ctx("https"))
    (tls,) = https(secure, ctx("https"))
    assert plain.status is Status.UNKNOWN
    assert tls.status is Status.PASS


def test_domain_of_a_level_without_a_template_judges_only_the_suffix(make_site: Any) -> None:
    site = make_site(
        [("http://phuong-mau.thanhpho.tinh.gov.vn/", html())],
        level="commune",
        province_domain="tinh.gov.vn",
    )
    (f,) = domain(site, ctx("domain", R42))
    assert f.status is Status.PASS
    assert f.details["template"] is None
