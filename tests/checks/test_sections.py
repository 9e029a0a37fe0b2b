"""section.<id>: found where the law says, by words, alt text or slug; decoys are not sections."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.base import CheckContext, Finding, Status
from checks.ruleset import load_ruleset
from checks.sections import _match, _Places, check_sections
from probe.artifacts import Link, Page

R43 = load_ruleset("nd43-2011")
HOME = "http://portal.test/"


def content_page(title: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        "<p>Nội dung chi tiết của chuyên mục được cập nhật thường xuyên.</p></body></html>"
    )


def home(menu: str, body: str = "", footer: str = "") -> str:
    return (
        "<html><head><title>UBND huyện</title></head><body>"
        f"<nav><ul>{menu}</ul></nav><div id='content'>{body}"
        "<p>Trang thông tin điện tử của Ủy ban nhân dân huyện, cập nhật tin hằng ngày.</p></div>"
        f"<footer>{footer}</footer></body></html>"
    )


def run(site, ruleset=R43) -> dict[str, Finding]:
    found = check_sections(site, CheckContext(ruleset=ruleset))
    return {f.check: f for f in found}


def one_section(
    make_site: Any, section_id: str, menu: str, target: str, status: int = 200, **kw: Any
) -> Finding:
    site = make_site([(HOME, home(menu)), (target, content_page("Trang đích"), status)], **kw)
    return run(site)[f"section.{section_id}"]


CASES = [
    # (section, menu HTML, target URL) — each section named three or more ways
    ("admin_procedures", "<li><a href='/tthc'>Thủ tục hành chính</a></li>", HOME + "tthc"),
    ("admin_procedures", "<li><a href='/x1'>THU TUC HANH CHINH</a></li>", HOME + "x1"),
    ("admin_procedures", "<li><a href='/x2'>Tra cứu TTHC</a></li>", HOME + "x2"),
    (
        "admin_procedures",
        "<li><a href='/Pages/ThuTucHanhChinh.aspx'><img src='b.png' alt=''></a></li>",
        HOME + "Pages/ThuTucHanhChinh.aspx",
    ),
    ("news", "<li><a href='/a'>Tin tức - Sự kiện</a></li>", HOME + "a"),
    ("news", "<li><a href='/b'>Tin tuc su kien</a></li>", HOME + "b"),
    (
        "news",
        "<li><a href='/web/guest/tin-tuc'><img src='n.png'></a></li>",
        HOME + "web/guest/tin-tuc",
    ),
    ("legal_documents", "<li><a href='/c'>Văn bản QPPL</a></li>", HOME + "c"),
    ("legal_documents", "<li><a href='/d' title='Hệ thống văn bản'>›</a></li>", HOME + "d"),
    ("legal_documents", "<li><a href='/e'><img src='v.png' alt='VBQPPL'></a></li>", HOME + "e"),
    ("leader_schedule", "<li><a href='/f'>Lịch công tác</a></li>", HOME + "f"),
    ("leader_schedule", "<li><a href='/g'>Lich lam viec Lanh dao</a></li>", HOME + "g"),
    ("leader_schedule", "<li><a href='/lich-tuan'>📅</a></li>", HOME + "lich-tuan"),
    ("official_contacts", "<li><a href='/h'>Danh bạ điện thoại</a></li>", HOME + "h"),
    ("official_contacts", "<li><a href='/i'>Thông tin liên hệ cán bộ</a></li>", HOME + "i"),
    ("official_contacts", "<li><a href='/danh-ba'><img src='d.png'></a></li>", HOME + "danh-ba"),
    ("portal_contact", "<li><a href='/j'>Liên hệ</a></li>", HOME + "j"),
    ("portal_contact", "<li><a href='/k'>Thông tin liên lạc</a></li>", HOME + "k"),
    ("portal_contact", "<li><a href='/lienhe'><img src='c.png'></a></li>", HOME + "lienhe"),
    ("intro", "<li><a href='/l'>Giới thiệu chung</a></li>", HOME + "l"),
    ("intro", "<li><a href='/m'>Gioi thieu</a></li>", HOME + "m"),
    ("intro", "<li><a href='/n'><img src='x.png' alt='Điều kiện tự nhiên'></a></li>", HOME + "n"),
    ("online_services", "<li><a href='/o'>DVC trực tuyến</a></li>", HOME + "o"),
    ("online_services", "<li><a href='/p'>Dịch vụ công</a></li>", HOME + "p"),
    (
        "online_services",
        "<li><a href='/dich-vu-cong-truc-tuyen.aspx'>»</a></li>",
        HOME + "dich-vu-cong-truc-tuyen.aspx",
    ),
    ("qa_feedback", "<li><a href='/q'>Hỏi đáp</a></li>", HOME + "q"),
    ("qa_feedback", "<li><a href='/r'>Hoi dap truc tuyen</a></li>", HOME + "r"),
    ("qa_feedback", "<li><a href='/hoi-dap'><img src='h.png'></a></li>", HOME + "hoi-dap"),
    ("sitemap", "<li><a href='/s'>Sơ đồ cổng</a></li>", HOME + "s"),
    ("sitemap", "<li><a href='/t'>Site map</a></li>", HOME + "t"),
    ("sitemap", "<li><a href='/so-do-site'><img src='s.png'></a></li>", HOME + "so-do-site"),
]


@pytest.mark.parametrize(("section", "menu", "target"), CASES)
def test_section_found_and_target_ok(section: str, menu: str, target: str, make_site: Any) -> None:
    f = one_section(make_site, section, menu, target)
    assert f.status is Status.PASS, f.message
    assert f.details["target"] == target
    assert f.evidence and f.evidence[0].url == HOME


def test_nfd_label_is_found(make_site: Any) -> None:
    menu = unicodedata.normalize("NFD", "<li><a href='/z'>Thủ tục hành chính</a></li>")
    assert one_section(make_site, "admin_procedures", menu, HOME + "z").status is Status.PASS


@pytest.mark.parametrize(
    ("section", "menu"),
    [
        ("news", "<li><a href='/tt'>Thông tin tuyên truyền</a></li>"),  # "Thông tin" ≠ "Tin tức"
        ("official_contacts", "<li><a href='/lh'>Liên hệ</a></li>"),  # portal contact only
        ("portal_contact", "<li><a href='/db'>Danh bạ cán bộ</a></li>"),
        ("leadership", "<li><a href='/ll'>Lịch làm việc lãnh đạo</a></li>"),
        ("consultation", "<li><a href='/gy'>Liên hệ - Góp ý</a></li>"),
    ],
)
def test_false_friends_are_not_sections(section: str, menu: str, make_site: Any) -> None:
    target = HOME + menu.split("'")[1].lstrip("/")
    assert one_section(make_site, section, menu, target).status is Status.FAIL


def test_article_mention_is_not_a_section(make_site: Any) -> None:
    body = (
        "<article><a href='/tin-tuc/2024/11/day-manh-cai-cach-thu-tuc-hanh-chinh-nam-2024-123'>"
        "Huyện đẩy mạnh cải cách thủ tục hành chính, nâng cao chất lượng phục vụ người dân"
        " trong năm 2024</a><p>Bài viết nhắc tới thủ tục hành chính nhiều lần.</p></article>"
    )
    site = make_site([(HOME, home("<li><a href='/'>Trang chủ</a></li>", body))])
    assert run(site)["section.admin_procedures"].status is Status.FAIL


@pytest.mark.parametrize(
    ("status", "html", "expected", "code"),
    [
        (404, content_page("Không tìm thấy"), Status.WARN, 404),
        (500, content_page("Lỗi"), Status.WARN, 500),
        (200, "<html><body><p>Đang cập nhật</p></body></html>", Status.WARN, 200),
        (
            200,
            "<html><body><form action='/login'><input name='username'>"
            "<input type='password' name='password'></form><p>Đăng nhập</p></body></html>",
            Status.WARN,
            200,
        ),
    ],
)
def test_deficient_targets_warn(
    status: int, html: str, expected: Status, code: int, make_site: Any
) -> None:
    menu = "<li><a href='/tthc'>Thủ tục hành chính</a></li>"
    site = make_site([(HOME, home(menu)), (HOME + "tthc", html, status)])
    f = run(site)["section.admin_procedures"]
    assert f.status is expected
    assert f.details["target_status"] == code


@pytest.mark.parametrize("code", ["robots", "timeout"])
def test_unfetched_target_is_unknown_never_fail(code: str, make_site: Any) -> None:
    menu = "<li><a href='/tthc'>Thủ tục hành chính</a></li>"
    site = make_site([(HOME, home(menu))], failures=[(HOME + "tthc", code)])
    f = run(site)["section.admin_procedures"]
    assert f.status is Status.UNKNOWN
    assert f.details["reason"] == code


def test_target_beyond_crawl_bounds_is_unknown(make_site: Any) -> None:
    site = make_site([(HOME, home("<li><a href='/tthc'>Thủ tục hành chính</a></li>"))])
    assert run(site)["section.admin_procedures"].details["reason"] == "not_fetched"


def test_external_service_portal_counts(make_site: Any) -> None:
    menu = "<li><a href='https://dichvucong.quangbinh.gov.vn/'><img src='dvc.png'></a></li>"
    site = make_site([(HOME, home(menu))])
    f = run(site)["section.online_services"]
    assert f.status is Status.PASS
    assert f.details["match"] == "host"


def test_nav_link_on_inner_page_counts_but_body_link_does_not(make_site: Any) -> None:
    inner = (
        "<html><body><div class='mainmenu'><a href='/hoi-dap'>Hỏi đáp</a></div>"
        "<div><a href='/gop-y'>Góp ý dự thảo</a></div><p>Nội dung trang con dài dòng.</p></body></html>"
    )
    site = make_site(
        [
            (HOME, home("<li><a href='/gioi-thieu'>Giới thiệu</a></li>")),
            (HOME + "gioi-thieu", inner),
            (HOME + "hoi-dap", content_page("Hỏi đáp")),
            (HOME + "gop-y", content_page("Góp ý")),
        ]
    )
    found = run(site)
    assert found["section.qa_feedback"].status is Status.PASS
    assert found["section.consultation"].status is Status.FAIL


def test_search_box_on_home(make_site: Any) -> None:
    form = "<form action='/tim-kiem'><input name='keyword' placeholder='Tìm kiếm...'></form>"
    site = make_site([(HOME, home("<li><a href='/'>Trang chủ</a></li>", form))])
    f = run(site)["section.search"]
    assert f.status is Status.PASS
    assert f.details["match"] == "form"


def test_no_search_box_fails(make_site: Any) -> None:
    form = "<form action='/dang-ky'><input name='email'></form>"
    site = make_site([(HOME, home("<li><a href='/'>Trang chủ</a></li>", form))])
    assert run(site)["section.search"].status is Status.FAIL


def test_sitemap_xml_link_counts(make_site: Any) -> None:
    site = make_site([(HOME, home("", footer="<a href='/sitemap.xml'>XML</a>"))])
    assert run(site)["section.sitemap"].status is not Status.FAIL


def test_e_gazette_not_evaluated_for_district_and_weights_from_ruleset(make_site: Any) -> None:
    site = make_site([(HOME, home(""))], level="district")
    found = run(site)
    assert "section.e_gazette" not in found
    assert all(f.weight == R43.weight(f.check) for f in found.values())
    prov = run(make_site([(HOME, home(""))], level="province"))
    assert prov["section.e_gazette"].status is Status.FAIL


# Words of every section key of both rulesets, a few decoys, and URL pieces: links made of
# them name sections often, in every way `_match` knows (text, title, alt, slug, host).
_R42 = load_ruleset("nd42-2022")
_KEY_WORDS = sorted(
    {w for rs in (R43, _R42) for s in rs.sections for k in (*s.label_keys, *s.slug_keys) for w in k.split()}
)  # fmt: skip
_WORDS = st.sampled_from([*_KEY_WORDS, "Tin", "TỨC", "thủ", "tục", "xem", "123", "Trang", "chủ"])
_PHRASE = st.lists(_WORDS, max_size=6).map(" ".join)
_SLUG = st.lists(_WORDS, min_size=1, max_size=4).map("-".join)
_HOST = st.sampled_from(
    ["portal.test", "dichvucong.quangbinh.gov.vn", "motcua.portal.test", "www.portal.test"]
)


@st.composite
def _links(draw: Any) -> Link:
    host = draw(_HOST)
    path = "/".join(draw(st.lists(_SLUG, max_size=3)))
    query = draw(st.sampled_from(["", "?cat=" + draw(_SLUG), "?id=12"]))
    return Link(
        url=f"http://{host}/{path}{query}",
        text=draw(_PHRASE),
        title=draw(st.sampled_from(["", draw(_PHRASE)])),
        alt=draw(st.sampled_from(["", draw(_PHRASE)])),
        region=draw(st.sampled_from(["nav", "body", "footer"])),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(_links(), max_size=25))
def test_place_index_keeps_every_link_that_names_a_section(links: list[Link]) -> None:
    """`_Places.candidates` drops only links `_match` would reject, for every section."""
    page = Page(url=HOME, final_url=HOME, status=200, text="x")
    places = _Places([(link, page) for link in links])
    for ruleset in (R43, _R42):
        for section in ruleset.sections:
            named = [i for i, item in enumerate(places.items) if _match(section, *item)]
            candidates = places.candidates(section)
            assert set(named) <= set(candidates), section.id
            assert candidates == sorted(candidates)
