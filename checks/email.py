"""Does the agency publish official e-mail addresses, or gmail/yahoo ones?

ND 43/2011 Đ10.1.k/l asks for the *official* ("chính thức") e-mail address; the 2015
Quảng Bình inspection found agencies giving citizens public-provider mailboxes instead.
An address counts as published by the agency when it is in a footer, on the home page,
on a contact/directory page or behind a `mailto:` link; an address quoted inside a news
article or a Q&A answer (a citizen's gmail) is listed but does not decide the status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checks.base import CheckContext, Evidence, Finding, Status, check
from checks.common import excerpt, not_checked, searched_evidence
from checks.text import match_key
from probe.artifacts import Page, PortalArtifacts
from probe.textparse import find_emails

DEFAULT_OFFICIAL_SUFFIXES = (".gov.vn",)
DEFAULT_PUBLIC_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.com.vn",
    "ymail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "aol.com",
)
# Words (match keys) of a contact or directory page's URL or title: not law, navigation.
DEFAULT_CONTACT_WORDS = ("lien he", "lienhe", "danh ba", "danhba", "contact", "lien lac")


def _under(domain: str, parent: str) -> bool:
    parent = parent.lower().lstrip("@").lstrip(".")
    return bool(parent) and (domain == parent or domain.endswith("." + parent))


def classify(address: str, agency_domains: Iterable[str], options: Mapping[str, Any]) -> str:
    """`official` (the agency's domains or a government suffix), `public` or `other`."""
    domain = address.rsplit("@", 1)[-1]
    if any(_under(domain, d) for d in agency_domains):
        return "official"
    suffixes = options.get("official_suffixes") or DEFAULT_OFFICIAL_SUFFIXES
    if any(domain.endswith(s.lower()) or domain == s.lower().lstrip(".") for s in suffixes):
        return "official"
    publics = options.get("public_domains") or DEFAULT_PUBLIC_DOMAINS
    if any(_under(domain, p) for p in publics):
        return "public"
    return "other"


def _published_on(
    page: Page,
    is_home: bool,
    contact_words: Iterable[str],
    footers: dict[str, frozenset[str]] | None = None,
) -> set[str]:
    """Addresses this page publishes as the agency's own (see the module docstring).

    `footers` keeps each distinct footer's addresses: the template repeats one footer on
    every page of a portal.
    """
    if is_home:
        return set(page.emails)
    if not page.emails:
        return set()  # what a page publishes is only ever some of its own addresses
    key = match_key(f"{page.title} {page.final_url.split('//', 1)[-1]}")
    if any(f" {w} " in key for w in contact_words):
        return set(page.emails)
    footer = page.footer_text
    found = footers.get(footer) if footers is not None else None
    if found is None:
        found = frozenset(find_emails(footer))
        if footers is not None:
            footers[footer] = found
    own = set(found)
    if own.issuperset(page.emails):
        return own  # nothing left for the (whole-page) scan below to add
    # Addresses only behind a mailto: link are not in the visible text at all.
    visible = set(find_emails(page.text))
    own |= {a for a in page.emails if a not in visible}
    return own


def _evidence(address: str, url: str, page: Page) -> Evidence:
    """The address as quoted on `page` (found by its local part), or the bare address."""
    at = _find_lowered(page.text, address.split("@")[0])
    text = excerpt(page.text, at, at + len(address)) if at >= 0 else address
    return Evidence(url, text)


LOWERED_HEAD = 4096  # characters of a page lowered before the rest (`_find_lowered`)


def _find_lowered(text: str, needle: str) -> int:
    """`text.lower().find(needle)`, lowering no more of the page than it must.

    Lowering a 50,000-character page costs 0.15 ms, and the address is usually in its
    first lines (the header's contact strip). Every character but ``İ`` lowers to one
    character (tested over every code point), so without an ``İ`` the lowered head is
    the head of the lowered page (but for a capital sigma, which lowers by what follows
    it, and no address holds a sigma), and a needle found in it is found there first.
    """
    if "\u0130" in text:
        return text.lower().find(needle)
    head = LOWERED_HEAD
    while True:
        at = text[:head].lower().find(needle)
        if at != -1 or head >= len(text):
            return at
        head *= 4


@check(
    id="email.public_provider",
    title={"vi": "Địa chỉ thư điện tử chính thức", "en": "Official e-mail addresses"},
    failure_title={
        "vi": "Dùng hộp thư công cộng (gmail, yahoo…) làm địa chỉ liên hệ",
        "en": "Public-provider mailboxes (gmail, yahoo…) published as contacts",
    },
    legal_basis="NĐ 43/2011/NĐ-CP Điều 10 khoản 1 điểm k, l",
)
def email_public_provider(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Fail when a published address is on a public provider; pass when none is."""
    check_id = "email.public_provider"
    if (unknown := not_checked(site, check_id)) is not None:
        return [unknown]
    contact_words = ctx.options.get("contact_words") or DEFAULT_CONTACT_WORDS
    rows: dict[str, dict[str, Any]] = {}
    # Where each address's evidence is cut from: the page is kept and the excerpt cut
    # only for the addresses shown, because a footer address is rewritten on every page.
    evidence_at: dict[str, tuple[str, Page]] = {}
    footers: dict[str, frozenset[str]] = {}
    for i, page in enumerate(site.pages):
        url = page.final_url or page.url
        own = _published_on(page, i == 0, contact_words, footers)
        for address in page.emails:
            row = rows.get(address)
            if row is None:
                row = rows[address] = {
                    "address": address,
                    "class": classify(address, site.agency_domains, ctx.options),
                    "url": url,
                    "published": False,
                }
            if address in own and not row["published"]:
                row["published"], row["url"] = True, url
            if address not in evidence_at or (address in own and evidence_at[address][0] != url):
                evidence_at[address] = (url, page)
    published = [r for r in rows.values() if r["published"]]
    public = [r for r in published if r["class"] == "public"]
    details = {"emails": list(rows.values()), "public": [r["address"] for r in public]}
    if not published:
        # Nothing on a public provider is published, so this rule is met; the missing
        # address itself is footer.email's (and section.official_contacts') finding.
        # `na` would claim the rule does not apply to this agency, which is not so.
        return [
            Finding(
                check_id,
                Status.PASS,
                {
                    "vi": "Cổng không công bố địa chỉ thư điện tử nào (không có hộp thư công "
                    "cộng); xem footer.email.",
                    "en": "The portal publishes no e-mail address (so none on a public "
                    "provider); see footer.email.",
                },
                searched_evidence(site, f"(0 địa chỉ / no address on {len(site.pages)} pages)"),
                details,
            )
        ]
    if public:
        shown = ", ".join(r["address"] for r in public)
        return [
            Finding(
                check_id,
                Status.FAIL,
                {
                    "vi": f"Công bố hộp thư công cộng: {shown}.",
                    "en": f"Public-provider addresses published: {shown}.",
                },
                tuple(_evidence(r["address"], *evidence_at[r["address"]]) for r in public),
                details,
            )
        ]
    shown = ", ".join(r["address"] for r in published[:3])
    return [
        Finding(
            check_id,
            Status.PASS,
            {"vi": f"Địa chỉ thư điện tử: {shown}.", "en": f"E-mail addresses: {shown}."},
            tuple(_evidence(r["address"], *evidence_at[r["address"]]) for r in published[:3]),
            details,
        )
    ]
