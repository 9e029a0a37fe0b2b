"""Footer identity lines and the licence notice, on small realistic Vietnamese footers."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from checks.base import CheckContext, Status
from checks.footer import (
    footer_address,
    footer_email,
    footer_owner,
    footer_phone,
    footer_responsible_person,
)
from checks.licence import licence
from checks.ruleset import load_ruleset

RULESET = load_ruleset("nd43-2011")


def ctx(check_id: str, **extra: Any) -> CheckContext:
    """The check's real ruleset options, plus run settings."""
    return CheckContext(RULESET, {**RULESET.options(check_id), **extra})


def page(footer: str, body: str = "<p>Tin tức hoạt động của huyện.</p>") -> str:
    return f"<html><body><main>{body}</main><footer>{footer}</footer></body></html>"


HATINH = (
    "© Cổng thông tin điện tử tỉnh Hà Tĩnh. Giấy phép số 48/GP-BVHTT cấp ngày 18/02/2003 "
    "của Bộ Văn hóa Thông tin. Trưởng ban Ban biên tập: Nguyễn Văn A - Giám đốc Sở "
    "Thông tin - Truyền thông. Địa chỉ: 66 Phan Đình Phùng, TP. Hà Tĩnh. "
    "Email: portalhatinh@hatinh.gov.vn. Điện thoại: (+84.239) 3686586"
)
DANANG = (
    "BẢN QUYỀN CỦA ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG | Giấy phép: 612/GP-STTTT cấp ngày "
    "21 tháng 10 năm 2016. | Trưởng Ban biên tập: Trần Văn B, Phó Chủ tịch UBND thành phố. "
    "| Trụ sở: 24 Trần Phú, Đà Nẵng | Điện thoại: (+84.236) 3.817.366 | "
    "Email: banbientap[at]danang.gov.vn"
)
LETHUY_PLAIN = (
    "Co quan chu quan: UBND huyen Le Thuy. Chiu trach nhiem noi dung: Ong Tran Van C, "
    "Pho Chu tich. Dia chi: 1 Hung Vuong, Kien Giang, Le Thuy. DT: 0232 3882 123"
)
HANOI_UNLABELLED = (
    "CỔNG THÔNG TIN ĐIỆN TỬ SỞ THÔNG TIN VÀ TRUYỀN THÔNG THÀNH PHỐ X Địa chỉ: Số 185 Giảng "
    "Võ, Quận Đống Đa - Điện thoại: (024) 35123536; Fax: (024) 37366617"
)

FOOTER_CASES = [
    # (footer html, check, expected status, expected value fragment)
    (HATINH, footer_owner, Status.PASS, "Cổng thông tin điện tử tỉnh Hà Tĩnh"),
    (HATINH, footer_address, Status.PASS, "66 Phan Đình Phùng, TP. Hà Tĩnh"),
    (HATINH, footer_phone, Status.PASS, "3686586"),
    (HATINH, footer_email, Status.PASS, "portalhatinh@hatinh.gov.vn"),
    (DANANG, footer_owner, Status.PASS, "ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG"),
    (DANANG, footer_responsible_person, Status.PASS, "Trần Văn B"),
    (DANANG, footer_address, Status.PASS, "24 Trần Phú, Đà Nẵng"),
    (DANANG, footer_phone, Status.PASS, "3.817.366"),
    (DANANG, footer_email, Status.PASS, "banbientap@danang.gov.vn"),
    (LETHUY_PLAIN, footer_owner, Status.PASS, "UBND huyen Le Thuy"),
    (LETHUY_PLAIN, footer_responsible_person, Status.PASS, "Ong Tran Van C"),
    (LETHUY_PLAIN, footer_address, Status.PASS, "1 Hung Vuong"),
    (LETHUY_PLAIN, footer_phone, Status.PASS, "0232 3882 123"),
    (LETHUY_PLAIN, footer_email, Status.FAIL, None),
    (HANOI_UNLABELLED, footer_owner, Status.PASS, "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"),
    (HANOI_UNLABELLED, footer_responsible_person, Status.FAIL, None),
    (HANOI_UNLABELLED, footer_address, Status.PASS, "Số 185 Giảng Võ"),
]


@pytest.mark.parametrize(("footer", "func", "status", "value"), FOOTER_CASES)
def test_footer_fields(
    make_site: Any, footer: str, func: Any, status: Status, value: str | None
) -> None:
    check_id = func.__name__.replace("footer_", "footer.")
    site = make_site([("http://lethuy.quangbinh.gov.vn/", page(footer))])
    (finding,) = func(site, ctx(check_id))
    assert finding.status == status, finding.message
    assert finding.check == check_id
    if value is not None:
        assert value in finding.details["value"] or value in str(finding.details.get("emails"))
        assert finding.evidence and finding.evidence[0].url == "http://lethuy.quangbinh.gov.vn/"
    else:
        assert finding.details["found"] is False


def test_nfd_footer_reads_like_nfc(make_site: Any) -> None:
    site = make_site([("http://x.gov.vn/", page(unicodedata.normalize("NFD", DANANG)))])
    (finding,) = footer_responsible_person(site, ctx("footer.responsible_person"))
    assert finding.status == Status.PASS
    assert finding.details["value"] == "Trần Văn B, Phó Chủ tịch UBND thành phố"


def test_truong_ban_ban_bien_tap_with_module_defaults(make_site: Any) -> None:
    """The real Hà Tĩnh wording "Trưởng ban Ban biên tập: …" (regulations.md §5.3)."""
    site = make_site([("http://x.gov.vn/", page(HATINH))])
    (finding,) = footer_responsible_person(site, CheckContext(RULESET, {}))
    assert finding.status == Status.PASS
    assert finding.details["value"].startswith("Nguyễn Văn A")


def test_truong_ban_ban_bien_tap_with_ruleset(make_site: Any) -> None:
    site = make_site([("http://x.gov.vn/", page(HATINH))])
    (finding,) = footer_responsible_person(site, ctx("footer.responsible_person"))
    assert finding.status == Status.PASS


def test_responsible_clause_in_article_is_not_a_footer_line(make_site: Any) -> None:
    article = (
        "<p>Người đứng đầu chịu trách nhiệm trước pháp luật về tính hợp pháp của hồ sơ. "
        "Chịu trách nhiệm: các phòng chuyên môn.</p>"
    )
    site = make_site([("http://x.gov.vn/", page("Địa chỉ: 1 Lê Lợi, Đồng Hới", article))])
    (finding,) = footer_responsible_person(site, ctx("footer.responsible_person"))
    assert finding.status == Status.FAIL


def test_down_portal_is_unknown_not_fail(make_site: Any) -> None:
    site = make_site([], outcome="unreachable")
    for func, cid in [(footer_owner, "footer.owner"), (licence, "licence")]:
        (finding,) = func(site, ctx(cid))
        assert finding.status == Status.UNKNOWN
        assert finding.details["reason"]


LICENCE_CASES = [
    (HATINH, True, Status.WARN, "48/GP-BVHTT", "Bộ Văn hóa Thông tin", "2003-02-18", True),
    (HATINH, False, Status.PASS, "48/GP-BVHTT", "Bộ Văn hóa Thông tin", "2003-02-18", True),
    (DANANG, True, Status.PASS, "612/GP-STTTT", "", "2016-10-21", False),
    (
        "Giấy phép số 152/GP-TTĐT của Cục Quản lý Phát thanh, Truyền hình và Thông tin điện tử",
        True,
        Status.PASS,
        "152/GP-TTĐT",
        "Cục Quản lý Phát thanh, Truyền hình và Thông tin điện tử",
        "",
        False,
    ),
    (
        "Giay phep so 05/GP-STTTT do So TTTT Da Nang cap ngay 02/01/2020",
        True,
        Status.PASS,
        "05/GP-STTTT",
        "So TTTT Da Nang",
        "2020-01-02",
        False,
    ),
    ("Giấy phép số …/GP-STTTT", True, Status.WARN, None, "", "", False),
]


@pytest.mark.parametrize(
    ("footer", "required", "status", "number", "issuer", "iso", "old"), LICENCE_CASES
)
def test_licence_parsed(
    make_site: Any,
    footer: str,
    required: bool,
    status: Status,
    number: str | None,
    issuer: str,
    iso: str,
    old: bool,
) -> None:
    site = make_site([("http://x.gov.vn/", page(footer))])
    (finding,) = licence(site, ctx("licence", licence_required=required))
    assert finding.status == status, finding.message
    assert finding.details["number"] == number
    assert finding.details["issuer"] == issuer
    assert finding.details["date"] == iso
    assert finding.details["old"] is old


@pytest.mark.parametrize(("required", "status"), [(True, Status.FAIL), (False, Status.NA)])
def test_missing_licence_depends_on_requirement(
    make_site: Any, required: bool, status: Status
) -> None:
    site = make_site([("http://x.gov.vn/", page(HANOI_UNLABELLED))])
    (finding,) = licence(site, ctx("licence", licence_required=required))
    assert finding.status == status
    assert finding.details["found"] is False


def test_registry_requirement_used_when_options_do_not_say(make_site: Any) -> None:
    site = make_site([("http://x.gov.vn/", page(HANOI_UNLABELLED))], licence_required=True)
    (finding,) = licence(site, CheckContext(RULESET, {}))
    assert finding.status == Status.FAIL
