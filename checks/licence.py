"""The licence notice (NĐ 72/2013, TT 09/2014 Đ2.3): number, issuer and date.

It reads the same footer regions as the identity lines (`checks.footer.footer_regions`),
because the licence line sits in the same footer; it is its own module so that each file
holds one legal question.
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
    folded_text,
    not_checked,
    search_both,
    searched_evidence,
)
from checks.footer import TRIM, Region, footer_regions
from probe.artifacts import PortalArtifacts
from probe.textparse import find_dates

BASIS_LICENCE = "NĐ 72/2013/NĐ-CP Điều 23 khoản 4; TT 09/2014/TT-BTTTT Điều 2 khoản 1 điểm c"


DEFAULT_LICENCE: Mapping[str, Sequence[str]] = {
    "number_patterns": [
        r"(?:gi[ấa]y\s*ph[ée]p|GP)(?:\s*(?:thi[ếe]t\s*l[ậa]p|ICP|cung\s*c[ấa]p)[^\d:]{0,80})?"
        r"\s*(?:s[ốo])?\s*:?\s*(?:s[ốo]\s*)?(\d{1,5}|[\.…]+)\s*/\s*(GP|GXN)\s*-\s*([A-ZĐ&]{2,8})"
    ],
    "issuer_patterns": [
        r"(?:do|c[ủu]a)\s+(B[ộo]\s*(?:Th[ôo]ng\s*tin\s*v[àa]\s*Truy[ềe]n\s*th[ôo]ng|V[ăa]n\s*h[óo]a"
        r"[\s,-]*Th[ôo]ng\s*tin)|C[ụu]c\s*(?:Qu[ảa]n\s*l[ýy]\s*)?Ph[áa]t\s*thanh[^.;<]{0,60}|"
        r"S[ởo]\s*(?:Th[ôo]ng\s*tin\s*(?:v[àa]|-)\s*Truy[ềe]n\s*th[ôo]ng|TT\s*&?\s*TT|TTTT)[^.;<]{0,40})"
    ],
    "old_suffixes": ["BVHTT"],
}
LICENCE_WINDOW = 200  # characters after the number where issuer and date are looked for
_ISSUER_END = re.compile(r"\s(?:c[ấa]p|ng[àa]y|n[ăa]m|k[ýy])\b|\d", re.IGNORECASE)


@dataclass(frozen=True)
class Licence:
    """A licence line as parsed: the number may be a placeholder ("số …/GP-STTTT")."""

    number: str | None
    kind: str  # GP or GXN
    suffix: str  # STTTT, TTĐT, BVHTT …
    issuer: str
    date: str  # ISO, or ""
    evidence: Evidence
    where: str


def parse_licence(
    regions: Sequence[Region], options: Mapping[str, Any], memo: dict[Any, Any] | None = None
) -> Licence | None:
    """The first licence line in the regions, with its issuer and date if printed after it."""
    numbers = compile_patterns(options.get("number_patterns") or DEFAULT_LICENCE["number_patterns"])
    issuers = compile_patterns(options.get("issuer_patterns") or DEFAULT_LICENCE["issuer_patterns"])
    for region in regions:
        text, folded = region.text, folded_text(memo, region.text)
        hits = [m for p in numbers if (m := search_both(p, text, folded))]
        if not hits:
            continue
        m = min(hits, key=lambda h: h.start())
        raw_no, kind, suffix = (text[m.start(i) : m.end(i)].strip() for i in (1, 2, 3))
        number = None if raw_no.strip(".…") == "" else raw_no
        kind, suffix = kind.upper(), suffix.upper()
        window = text[m.end() : m.end() + LICENCE_WINDOW]
        wfold = folded[m.end() : m.end() + LICENCE_WINDOW]
        issuer = ""
        for p in issuers:
            im = search_both(p, window, wfold)
            if im is not None:
                raw = window[im.start(1) : im.end(1)]
                end = _ISSUER_END.search(raw, 3)
                issuer = (raw[: end.start()] if end else raw).strip(TRIM)
                break
        dates = find_dates(window)
        shown = f"{number}/{kind}-{suffix}" if number else f"…/{kind}-{suffix}"
        ev = Evidence(region.url, excerpt(text, m.start(), m.end() + 80))
        iso = dates[0].value.isoformat() if dates else ""
        return Licence(shown if number else None, kind, suffix, issuer, iso, ev, region.where)
    return None


@check(
    id="licence",
    title={"vi": "Giấy phép thiết lập trang thông tin điện tử", "en": "Website licence notice"},
    failure_title={
        "vi": "Không ghi số giấy phép (bắt buộc theo yêu cầu của tỉnh)",
        "en": "No licence notice (required by the province)",
    },
    legal_basis=BASIS_LICENCE,
)
def licence(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Licence number, issuer and date, parsed from the footer or the home page.

    A state portal carrying only Đ10 information is exempt (TT 09/2014 Đ2.1.c): a missing
    licence is `na` unless `licence_required` (the registry or settings, e.g. the 2015
    Quảng Bình inspection asked for one) makes it `fail`. An old Bộ VH-TT licence (before
    2008, at most ten years valid under NĐ 72/2013 Đ23.6) is `warn` when one is required.
    """
    if (unknown := not_checked(site, "licence")) is not None:
        return [unknown]
    required = ctx.options.get("licence_required")
    required = site.licence_required if required is None else bool(required)
    found = parse_licence(footer_regions(site, ctx.memo), ctx.options, ctx.memo)
    if found is None:
        status = Status.FAIL if required else Status.NA
        return [
            Finding(
                "licence",
                status,
                {
                    "vi": "Không thấy số giấy phép ở chân trang hoặc trang chủ"
                    + ("." if required else " (cổng cơ quan nhà nước được miễn cấp phép)."),
                    "en": "No licence notice in the footer or on the home page"
                    + ("." if required else " (state portals are exempt)."),
                },
                searched_evidence(site) if required else (),
                details={"found": False, "required": required},
            )
        ]
    old_suffixes = {
        s.upper() for s in ctx.options.get("old_suffixes") or DEFAULT_LICENCE["old_suffixes"]
    }
    old = found.suffix in old_suffixes
    status = Status.PASS
    note_vi = note_en = ""
    if found.number is None:
        status = Status.WARN if required else Status.PASS
        note_vi, note_en = " (dòng giấy phép chưa ghi số)", " (licence line without a number)"
    elif old:
        status = Status.WARN if required else Status.PASS
        note_vi = " (giấy phép cũ của Bộ Văn hóa - Thông tin)"
        note_en = " (old licence of the former Ministry of Culture and Information)"
    label = found.number or f"…/{found.kind}-{found.suffix}"
    return [
        Finding(
            "licence",
            status,
            {"vi": f"Giấy phép: {label}{note_vi}", "en": f"Licence: {label}{note_en}"},
            (found.evidence,),
            {
                "found": True,
                "number": found.number,
                "issuer": found.issuer,
                "date": found.date,
                "old": old,
                "required": required,
                "where": found.where,
            },
        )
    ]
