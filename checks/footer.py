"""Footer identity lines (TT 32/2017 Đ16.3.c, TT 09/2014 Đ2.3); the licence is in checks/licence.py.

A state portal must say who runs it: owner, the person responsible, address, phone and
e-mail, in the footer (TT 32/2017) or at least on the home page (TT 09/2014 Đ2.3). Footers
arrive as one folded line ("… Địa chỉ: … - Điện thoại: …; Email: …"), so a label's value
runs until the next label: values are cut at the next known label, not at a newline.

The label patterns come from the ruleset (`options.patterns`); they are matched on the NFC
text and on a diacritic-stripped copy of the same length, so "Dia chi", "ĐỊA CHỈ" and
decomposed input all match and the evidence is always cut from the text as published.
"Chịu trách nhiệm trước pháp luật …" in a form or article is not a footer line: a
responsible person's value must start like a name or title (upper case), and only the
footer (or, failing that, the part of the home page outside the main content) is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.base import CheckContext, Evidence, Finding, Status, check
from checks.common import (
    compile_patterns,
    excerpt,
    fold_aligned,
    folded_text,
    main_runs,
    not_checked,
    search_both,
    searched_evidence,
)
from checks.text import normalize, normalize_runs
from probe.artifacts import Page, PortalArtifacts
from probe.textparse import find_emails

BASIS_FOOTER = "TT 32/2017/TT-BTTTT Điều 16 khoản 3 điểm c"
FOOTER_TAIL_CHARS = 1500  # when extraction found no footer: the end of the home page

# Regex building blocks, not law: labels that end the value of the previous label in a
# one-line footer. Matched on the folded (lower-case, unaccented) text.
_BOUNDARY = re.compile(
    r"(?:^|(?<=[\s|;,.:\-–•·©®]))(?:dia chi|tru so|dien thoai|so dien thoai|dt|tel|fax|"
    r"e-?mail|thu dien tu|website|web|giay phep|nguoi chiu trach nhiem|chiu trach nhiem|"
    r"truong ban bien tap|tong bien tap|tong giam doc|ghi ro nguon|ban quyen|"
    r"co quan chu quan|hotline|duoc thiet ke boi|thiet ke boi|phat trien boi|designed by|"
    r"so luot truy cap|luot truy cap|dang truy cap|copyright)\b|[|©®]"
)
_OWNER_OF = re.compile(r"(?:thuoc(?: ve)?|cua)\s+")  # "© Bản quyền thuộc về …"
_IDENTITY_HEAD = re.compile(r"(?:dia chi|tru so|dien thoai|dt|tel)\b")
TRIM = " \t-–—:;,.|•·*\"'“”‘’"

DEFAULT_PATTERNS: Mapping[str, Sequence[str]] = {
    "owner": [
        r"(?:C[ơo]\s*quan\s*ch[ủu]\s*qu[ảa]n|B[ảa]n\s*quy[ềe]n\s*(?:thu[ộo]c\s*(?:v[ềe]\s*)?|c[ủu]a\s*)"
        r"|©|Copyright)\s*:?\s*([^\n<|]{5,120})"
    ],
    "responsible_person": [
        r"(?:Ng[ưu][ờo]i\s*)?ch[ịi]u\s*tr[áa]ch\s*nhi[ệe]m(?:\s*(?:ch[íi]nh|n[ộo]i\s*dung|"
        r"xu[ấa]t\s*b[ảa]n|qu[ảa]n\s*l[ýy]\s*n[ộo]i\s*dung))?\s*:?\s*([^\n<]{3,120})",
        r"Tr[ưu][ởo]ng\s*[Bb]an\s*(?:[Bb]an\s*)?[Bb]i[êe]n\s*t[ậa]p\s*:?\s*([^\n<]{3,120})",
        r"T[ổo]ng\s*(?:bi[êe]n\s*t[ậa]p|gi[áa]m\s*[đd][ốo]c)\s*:\s*([^\n<]{3,120})",
    ],
    "address": [r"(?:[ĐD][ịi]a\s*ch[ỉi]|Tr[ụu]\s*s[ởo])\s*:\s*([^\n<]{5,200})"],
    "phone": [
        r"(?:[ĐD]i[ệe]n\s*tho[ạa]i|[ĐD]T|Tel|Hotline)\s*:?\s*(?:[^\d:|]{0,20}:\s*)?"
        r"((?:\(?\+?84[\.\s]?\d{2,3}\)?|\(?0\d{2,3}\)?)[\d\s\.\-]{5,14}\d)"
    ],
}
DEFAULT_OWNER_NAME_PATTERNS = (
    r"(?:C[ổo]ng|Trang)\s*th[ôo]ng\s*tin\s*[đd]i[ệe]n\s*t[ửu]\s+[^|:]{3,100}",
    r"(?:[ỦU][ỷy]?\s*ban\s*nh[âa]n\s*d[âa]n|UBND)\s+[^|:]{3,80}",
    r"(?:S[ởo]|Ban\s*qu[ảa]n\s*l[ýy]|Chi\s*c[ụu]c|C[ụu]c|V[ăa]n\s*ph[òo]ng)\s+[^|:]{2,60}?"
    r"\s(?:t[ỉi]nh|th[àa]nh\s*ph[ốo]|huy[ệe]n|qu[ậa]n|th[ịi]\s*x[ãa])\s+[^|:]{2,40}",
)
# A responsible *person* (TT 32/2017 Đ16.3.c "người chịu trách nhiệm"): a value that
# starts with the name of a body ("Văn phòng HĐND và UBND huyện") names an office, which
# is a deficient line, not a missing one. Matched on the folded value.
DEFAULT_ORGANISATION_HEADS = (
    r"^(?:van phong|phong|so|ban|uy ban|ubnd|hdnd|trung tam|cuc|chi cuc|vu|bo|"
    r"co quan|don vi|cong ty|to bien tap)\b"
)
FIELD_TITLES: Mapping[str, tuple[str, str]] = {
    "owner": ("Tên cơ quan chủ quản / đơn vị", "Owner (agency name)"),
    "responsible_person": ("Người chịu trách nhiệm", "Person responsible"),
    "address": ("Địa chỉ", "Address"),
    "phone": ("Số điện thoại", "Phone number"),
    "email": ("Địa chỉ thư điện tử", "E-mail address"),
}


@dataclass(frozen=True)
class Region:
    """A piece of page text to look in, and where it came from (for the evidence)."""

    url: str
    text: str
    where: str  # "footer" or "home"


def footer_regions(site: PortalArtifacts, memo: dict[Any, Any] | None = None) -> list[Region]:
    """Where identity lines are looked for, most trusted first.

    The home page footer; else the footer of any other page (it is the same template);
    else the home page outside its main content, or its last part when extraction could
    not separate the main content. With a run memo (`CheckContext.memo`) the six footer
    and licence checks of a portal share one computation.
    """
    if memo is not None:
        known = memo.get("footer_regions")
        if known is not None and known[0] is site:
            return list(known[1])
        regions = _footer_regions(site)
        memo["footer_regions"] = (site, tuple(regions))
        return regions
    return _footer_regions(site)


def _footer_regions(site: PortalArtifacts) -> list[Region]:
    regions: list[Region] = []
    pages: list[Page] = list(site.pages)
    home = site.home
    for page in pages:
        if page.footer_text.strip():
            regions.append(
                Region(page.final_url or page.url, normalize(page.footer_text), "footer")
            )
            break
    if home is not None and home.text:
        text = normalize(home.text)
        source, runs = main_runs(home)
        if source is home.text and text == home.text:
            # Runs of a page text that needs no normalising: only where they meet can
            # the main text need it (`normalize_runs`).
            main = normalize_runs(source, runs)
        else:
            main = normalize(home.main_text)
        if main and main != text and main in text:
            rest = text.replace(main, " | ")
        else:
            rest = text[-FOOTER_TAIL_CHARS:]
        regions.append(Region(home.final_url or home.url, rest, "home"))
    return regions


def _clean_value(raw: str) -> str:
    """Cut a captured value at the next footer label and trim punctuation.

    A label repeated at the start ("Địa chỉ: Địa chỉ: Số 10 …", seen on real portals) is
    dropped first, so the value is what follows it.
    """
    raw = raw.strip(TRIM)
    while (lead := _BOUNDARY.match(fold_aligned(raw))) is not None and lead.end() > 0:
        raw = raw[lead.end() :].strip(TRIM)
    if (owner_of := _OWNER_OF.match(fold_aligned(raw))) is not None:
        raw = raw[owner_of.end() :]
    cut = _BOUNDARY.search(fold_aligned(raw), 1)
    if cut is not None:
        raw = raw[: cut.start()]
    return raw.strip(TRIM).rstrip("(")


def _plausible(field: str, value: str) -> bool:
    letters = sum(ch.isalpha() for ch in value)
    if field == "phone":
        return sum(ch.isdigit() for ch in value) >= 8
    if field == "responsible_person":
        # "Chịu trách nhiệm trước pháp luật…" is a clause, not a footer line.
        return letters >= 3 and (value[0].isupper() or value[0].isdigit())
    return letters >= 3


def find_field(
    field: str,
    patterns: Sequence[re.Pattern[str]],
    regions: Sequence[Region],
    memo: dict[Any, Any] | None = None,
) -> tuple[str, Evidence, str] | None:
    """The first plausible value of a labelled footer field: (value, evidence, where)."""
    for region in regions:
        text = region.text
        folded = folded_text(memo, text)
        best: tuple[int, str, int, int] | None = None
        for pattern in patterns:
            pos = 0
            while (m := search_both(pattern, text, folded, pos)) is not None:
                group = 1 if m.re.groups else 0
                start, end = m.span(group)
                value = _clean_value(text[start:end])
                if _plausible(field, value):
                    if best is None or m.start() < best[0]:
                        best = (m.start(), value, m.start(), start + len(value))
                    break
                pos = m.start() + 1
        if best is not None:
            _, value, s, e = best
            return value, Evidence(region.url, excerpt(text, s, e)), region.where
    return None


def _field_finding(
    site: PortalArtifacts, ctx: CheckContext, field: str, default: Sequence[str]
) -> list[Finding]:
    check_id = f"footer.{field}"
    if (unknown := not_checked(site, check_id)) is not None:
        return [unknown]
    regions = footer_regions(site, ctx.memo)
    vi, en = FIELD_TITLES[field]
    key = "responsible_patterns" if field == "responsible_person" else f"{field}_patterns"
    patterns = ctx.options.get(key) or ctx.options.get("patterns") or default
    found = find_field(field, compile_patterns(patterns), regions, ctx.memo)
    if found is None and field == "owner":
        names = ctx.options.get("owner_name_patterns") or DEFAULT_OWNER_NAME_PATTERNS
        found = _unlabelled_name(compile_patterns(names), regions, ctx.memo)
    if found is None:
        return [
            Finding(
                check_id,
                Status.FAIL,
                {
                    "vi": f"Không thấy {vi.lower()} ở chân trang hoặc trang chủ.",
                    "en": f"No {en.lower()} in the footer or on the home page.",
                },
                searched_evidence(site),
                details={"found": False, "searched": [r.where for r in regions]},
            )
        ]
    value, evidence, where = found
    details = {"found": True, "value": value, "where": where}
    if field == "responsible_person":
        heads = ctx.options.get("organisation_heads") or DEFAULT_ORGANISATION_HEADS
        if re.search(heads, fold_aligned(value).strip()):
            details["names_organisation"] = True
            return [
                Finding(
                    check_id,
                    Status.WARN,
                    {
                        "vi": f"Dòng chịu trách nhiệm ghi tên một cơ quan, không phải một người: "
                        f"{value}",
                        "en": f"The responsibility line names a body, not a person: {value}",
                    },
                    (evidence,),
                    details,
                )
            ]
    return [
        Finding(
            check_id,
            Status.PASS,
            {"vi": f"{vi}: {value}", "en": f"{en}: {value}"},
            (evidence,),
            details,
        )
    ]


def _unlabelled_name(
    patterns: Sequence[re.Pattern[str]],
    regions: Sequence[Region],
    memo: dict[Any, Any] | None = None,
) -> tuple[str, Evidence, str] | None:
    """An agency name printed without a label ("CỔNG THÔNG TIN ĐIỆN TỬ SỞ …") in a footer."""
    for region in regions:
        text, folded = region.text, folded_text(memo, region.text)
        candidates: list[tuple[bool, int, str, int]] = []
        for pattern in patterns:
            for source in (text, folded):
                for m in pattern.finditer(source):
                    value = _clean_value(text[m.start() : m.end()])
                    if len(value) >= 10:
                        # The name printed right before "Địa chỉ:"/"Điện thoại:" is the
                        # footer's; the same words in a list of web links are not.
                        after = folded[m.start() + len(value) : m.start() + len(value) + 12]
                        heads = _IDENTITY_HEAD.match(after.lstrip(TRIM)) is not None
                        candidates.append((not heads, m.start(), value, m.end()))
        if candidates:
            _, start, value, end = min(candidates)
            return value, Evidence(region.url, excerpt(text, start, end)), region.where
    return None


def _meta(field: str) -> dict[str, Any]:
    vi, en = FIELD_TITLES[field]
    return {
        "id": f"footer.{field}",
        "title": {"vi": f"Chân trang: {vi.lower()}", "en": f"Footer: {en.lower()}"},
        "failure_title": {
            "vi": f"Chân trang thiếu {vi.lower()}",
            "en": f"Footer lacks {en.lower()}",
        },
        "legal_basis": BASIS_FOOTER,
    }


@check(**_meta("owner"))
def footer_owner(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Owner: "Cơ quan chủ quản", "Bản quyền thuộc …", "©", or the agency name unlabelled."""
    return _field_finding(site, ctx, "owner", DEFAULT_PATTERNS["owner"])


@check(**_meta("responsible_person"))
def footer_responsible_person(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Responsible person: "Chịu trách nhiệm …", "Trưởng Ban biên tập …", "Tổng Giám đốc: …"."""
    return _field_finding(site, ctx, "responsible_person", DEFAULT_PATTERNS["responsible_person"])


@check(**_meta("address"))
def footer_address(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Postal address: "Địa chỉ: …", "Trụ sở: …"."""
    return _field_finding(site, ctx, "address", DEFAULT_PATTERNS["address"])


@check(**_meta("phone"))
def footer_phone(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Phone: "Điện thoại: (024) 3512 3536", "ĐT: Văn phòng: 080 43162"."""
    return _field_finding(site, ctx, "phone", DEFAULT_PATTERNS["phone"])


@check(**_meta("email"))
def footer_email(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """An e-mail address in the footer, else anywhere on the home page (TT 09/2014 Đ2.3).

    Uses the shared e-mail parser rather than a ruleset regex, so obfuscated addresses
    count and a gmail address is still *an* address here (email.public_provider judges it).
    """
    check_id = "footer.email"
    if (unknown := not_checked(site, check_id)) is not None:
        return [unknown]
    home = site.home
    assert home is not None  # not_checked guarantees it
    for region in footer_regions(site, ctx.memo):
        addresses = find_emails(region.text)
        if addresses:
            folded = region.text.lower()
            local = addresses[0].split("@")[0]
            at = max(folded.find(local), 0)
            ev = Evidence(region.url, excerpt(region.text, at, at + len(addresses[0])))
            return [_email_pass(check_id, addresses, ev, region.where)]
    if home.emails:
        ev = Evidence(home.final_url or home.url, ", ".join(home.emails[:3]))
        return [_email_pass(check_id, list(home.emails), ev, "home")]
    return [
        Finding(
            check_id,
            Status.FAIL,
            {
                "vi": "Không thấy địa chỉ thư điện tử ở chân trang hoặc trang chủ.",
                "en": "No e-mail address in the footer or on the home page.",
            },
            searched_evidence(site),
            details={"found": False},
        )
    ]


def _email_pass(check_id: str, addresses: list[str], ev: Evidence, where: str) -> Finding:
    shown = ", ".join(addresses[:3])
    return Finding(
        check_id,
        Status.PASS,
        {"vi": f"Thư điện tử: {shown}", "en": f"E-mail: {shown}"},
        (ev,),
        {"found": True, "value": addresses[0], "emails": addresses, "where": where},
    )
