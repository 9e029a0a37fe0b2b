"""email.public_provider: official vs public-provider addresses, and where they were seen."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks import email
from checks.base import CheckContext, Status
from checks.email import classify, email_public_provider
from checks.ruleset import load_ruleset
from probe.artifacts import Page
from probe.textparse import find_emails

RULESET = load_ruleset("nd43-2011")
OPTIONS = RULESET.options("email.public_provider")


def ctx() -> CheckContext:
    return CheckContext(RULESET, dict(OPTIONS))


def with_emails(page: Page, hrefs: tuple[str, ...] = ()) -> Page:
    """E-mails as extraction stores them (filled here if extract does not yet)."""
    if page.emails:
        return page
    return dataclasses.replace(page, emails=tuple(find_emails(page.text, hrefs)))


def footer_page(footer: str, body: str = "<p>Tin hoạt động</p>") -> str:
    return f"<html><body><main>{body}</main><footer>{footer}</footer></body></html>"


@pytest.mark.parametrize(
    ("address", "agency_domains", "expected"),
    [
        ("vanthu@quangbinh.gov.vn", (), "official"),
        ("ubnd@lethuy.gov.vn", (), "official"),
        ("info@sotttt.vn", ("sotttt.vn",), "official"),
        ("lethuy@gmail.com", (), "public"),
        ("lethuy@yahoo.com.vn", (), "public"),
        ("bbt@vnpt.vn", (), "other"),
        ("x@gmail.com.evil.vn", (), "other"),
    ],
)
def test_classify(address: str, agency_domains: tuple[str, ...], expected: str) -> None:
    assert classify(address, agency_domains, OPTIONS) == expected


CASES = [
    ("Email: ubndlethuy@quangbinh.gov.vn", Status.PASS, []),
    ("Email: ubnd.lethuy@gmail.com", Status.FAIL, ["ubnd.lethuy@gmail.com"]),
    (
        "Thư điện tử: vanphong[at]yahoo.com và vp@lethuy.quangbinh.gov.vn",
        Status.FAIL,
        ["vanphong@yahoo.com"],
    ),
    ("Địa chỉ: 1 Hùng Vương", Status.PASS, []),
]


@pytest.mark.parametrize(("footer", "status", "public"), CASES)
def test_public_provider(make_site: Any, footer: str, status: Status, public: list[str]) -> None:
    home = with_emails(
        make_site([("http://lethuy.quangbinh.gov.vn/", footer_page(footer))]).pages[0]
    )
    (finding,) = email_public_provider(make_site([home]), ctx())
    assert finding.status == status
    assert finding.details["public"] == public
    if status == Status.FAIL:
        assert all(
            p.split("@")[0] in ev.text for p, ev in zip(public, finding.evidence, strict=True)
        )


def test_citizen_gmail_in_article_does_not_fail(make_site: Any) -> None:
    home_html = footer_page("Email: ubnd@lethuy.quangbinh.gov.vn")
    qa_html = footer_page(
        "Email: ubnd@lethuy.quangbinh.gov.vn",
        "<p>Bạn đọc nguyenvana@gmail.com hỏi về thủ tục cấp giấy phép xây dựng.</p>",
    )
    pages = [
        with_emails(p)
        for p in make_site(
            [
                ("http://lethuy.quangbinh.gov.vn/", home_html),
                ("http://lethuy.quangbinh.gov.vn/hoi-dap/1", qa_html),
            ]
        ).pages
    ]
    (finding,) = email_public_provider(make_site(pages), ctx())
    assert finding.status == Status.PASS
    rows = {r["address"]: r for r in finding.details["emails"]}
    assert rows["nguyenvana@gmail.com"]["published"] is False
    assert rows["nguyenvana@gmail.com"]["class"] == "public"


def test_gmail_on_contact_page_fails(make_site: Any) -> None:
    home_html = footer_page("Email: ubnd@lethuy.quangbinh.gov.vn")
    contact = footer_page("", "<p>Văn phòng HĐND-UBND: vanphong.lethuy@gmail.com</p>")
    pages = [
        with_emails(p)
        for p in make_site(
            [
                ("http://lethuy.quangbinh.gov.vn/", home_html),
                ("http://lethuy.quangbinh.gov.vn/lien-he", contact),
            ]
        ).pages
    ]
    (finding,) = email_public_provider(make_site(pages), ctx())
    assert finding.status == Status.FAIL
    assert finding.evidence[0].url == "http://lethuy.quangbinh.gov.vn/lien-he"


def test_mailto_only_address_is_published(make_site: Any) -> None:
    page = make_site([("http://x.gov.vn/tin/1", footer_page("", "<p>Gửi thư</p>"))]).pages[0]
    home = make_site([("http://x.gov.vn/", footer_page("Địa chỉ: 1 Lê Lợi"))]).pages[0]
    page = with_emails(page, ("mailto:toasoan@hotmail.com",))
    (finding,) = email_public_provider(make_site([with_emails(home), page]), ctx())
    assert finding.status == Status.FAIL


def test_only_one_character_lowers_to_more_than_one() -> None:
    """`_find_lowered` lowers a page's head alone unless this character is in it."""
    longer = [c for c in map(chr, range(0x110000)) if len(c.lower()) != 1]
    assert longer == ["\u0130"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["ttdt000", "TTDT000", "x" * 1500, "Điện thoại ", "\u0130", "K", "@", " ", "ΑΣ", "Σ"]
        ),
        max_size=12,
    ).map("".join),
    st.sampled_from(["ttdt000", "x", "ttdt", "k", "i̇", "@"]),
    st.integers(min_value=1, max_value=64),
)
def test_find_lowered_is_find_in_the_lowered_page(text: str, needle: str, head: int) -> None:
    """Needles in the head, across its end, only further on, or nowhere; with an İ."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(email, "LOWERED_HEAD", head)
        assert email._find_lowered(text, needle) == text.lower().find(needle)
