"""email.public_provider's shortcuts give the findings of the plain version, byte for byte."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from checks.base import CheckContext, Evidence
from checks.common import excerpt
from checks.email import DEFAULT_CONTACT_WORDS, _published_on, email_public_provider
from checks.ruleset import load_ruleset
from checks.text import match_key
from probe.artifacts import Page, PortalArtifacts
from probe.textparse import find_emails

RULESET = load_ruleset("nd43-2011")
_ADDRESSES = ["vanthu@quangbinh.gov.vn", "so.tttt@gmail.com", "ANH@Yahoo.com", "x@abc.vn"]
_TEXTS = ["Liên hệ", "Tin tức", "Email:", "Điện thoại 0232 382", "İstanbul", *_ADDRESSES]


def _plain_published_on(page: Page, is_home: bool, contact_words: Iterable[str]) -> set[str]:
    """`_published_on` before the footer shortcut: always scans the whole page text."""
    if is_home:
        return set(page.emails)
    key = match_key(f"{page.title} {page.final_url.split('//', 1)[-1]}")
    if any(f" {w} " in key for w in contact_words):
        return set(page.emails)
    own = set(find_emails(page.footer_text))
    visible = set(find_emails(page.text))
    own |= {a for a in page.emails if a not in visible}
    return own


def _plain_evidence(site: PortalArtifacts) -> dict[str, Evidence]:
    """Evidence per address as the plain loop wrote it: cut on every page it was rewritten."""
    evidence: dict[str, Evidence] = {}
    for i, page in enumerate(site.pages):
        url = page.final_url or page.url
        own = _plain_published_on(page, i == 0, DEFAULT_CONTACT_WORDS)
        assert own == _published_on(page, i == 0, DEFAULT_CONTACT_WORDS)
        for address in page.emails:
            if address not in evidence or (address in own and evidence[address].url != url):
                at = page.text.lower().find(address.split("@")[0])
                text = excerpt(page.text, at, at + len(address)) if at >= 0 else address
                evidence[address] = Evidence(url, text)
    return evidence


_page = st.builds(
    lambda n, words, footer, mailto: Page(
        url=f"http://127.0.0.1/p{n}",
        final_url=f"http://127.0.0.1/p{n}",
        status=200,
        title="Liên hệ" if n == 5 else "Trang",
        text="Trang " + " ".join(words) + " " + " ".join(footer),
        footer_text=" ".join(footer),
        emails=tuple(dict.fromkeys(a.lower() for a in [*words, *footer, *mailto] if "@" in a)),
    ),
    st.integers(0, 5),
    st.lists(st.sampled_from(_TEXTS), max_size=6),
    st.lists(st.sampled_from(_TEXTS), max_size=3),
    st.lists(st.sampled_from(_ADDRESSES), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_page, min_size=1, max_size=6))
def test_findings_equal_the_plain_loop(pages: list[Page]) -> None:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    site = PortalArtifacts(
        agency_id="t",
        agency_level="department",
        url="http://127.0.0.1/",
        now=now,
        final_url="http://127.0.0.1/",
        pages=tuple(pages),
    )
    [finding] = email_public_provider(site, CheckContext(RULESET, {}))
    plain = _plain_evidence(site)
    assert finding.status.value in ("pass", "fail")
    shown = [r["address"] for r in finding.details["emails"] if r["published"]]
    expected = [plain[a] for a in (finding.details["public"] or shown[:3])]
    if shown:
        assert list(finding.evidence) == expected
