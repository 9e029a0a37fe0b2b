"""services.level at the edges a faster `_mentions` must keep: pinned, and equal to the plain
whole-page search (`plain_mentions`) under both rulesets.

A speed-up that finds level mentions without folding the whole page has to see what the
folded page shows: mentions at the very start or end of the text, upper-case ``Đ``/``Ư``,
whitespace runs and line breaks inside "mức độ 3" (`\\s*` is unbounded), "toàntrình"
with no space, the case twins ``ı``/``İ`` that `re.IGNORECASE` equates with ``i``, and
letters outside the Vietnamese alphabet that fold to an ASCII letter (``ṃ`` is ``m``):
the last is why candidates cannot be found by scanning the page for ``m``/``M`` alone.
"""

from __future__ import annotations

import pytest

from checks.base import CheckContext
from checks.ruleset import load_ruleset
from checks.services import services_level
from probe.artifacts import Page
from tests.checks.conftest import HOME, build_site
from tests.checks.test_services_speed_equivalence import RULESETS, assert_same_findings

# (page text, max level, {"full": n, "partial": n}) as services.level finds them today.
EDGES = [
    ("Mức độ 4 dịch vụ công cấp phép", 4, {"full": 0, "partial": 0}),
    ("Cấp giấy phép xây dựng dịch vụ công mức độ 3", 3, {"full": 0, "partial": 0}),
    ("THỦ TỤC CẤP PHÉP - ĐVC MỨC ĐỘ 4", 4, {"full": 0, "partial": 0}),
    ("Thủ tục A mức\nđộ\n3 dịch vụ công", 3, {"full": 0, "partial": 0}),
    ("Thủ tục A mức  \t độ  \n 2 hồ sơ", 2, {"full": 0, "partial": 0}),
    ("Thủ tục B dịch vụ công \u1e43ức độ 2", 2, {"full": 0, "partial": 0}),
    ("Hồ sơ toàntrình và TOÀN   TRÌNH, toàn\ntrình", 0, {"full": 3, "partial": 0}),
    ("Thủ tục C toàn trınh; TOÀN TRİNH", 0, {"full": 2, "partial": 0}),
    ("Một phần kinh phí; trực tuyến một phần", 0, {"full": 0, "partial": 1}),
    ("mức mức độ 3 thủ tục; DVCTT4; dvc mức 1 hồ sơ", 4, {"full": 0, "partial": 0}),
    ("toàn trình", 0, {"full": 1, "partial": 0}),
    ("DVC 3", 3, {"full": 0, "partial": 0}),
]


@pytest.mark.parametrize(("text", "level", "counts_2022"), EDGES)
def test_edges_are_pinned_and_equal_to_the_plain_search(
    text: str, level: int, counts_2022: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = build_site([Page(url=HOME, final_url=HOME, status=200, text=text)])
    for rid in RULESETS:
        ruleset = load_ruleset(rid)
        (finding,) = services_level(site, CheckContext(ruleset, ruleset.options("services.level")))
        assert finding.details["max_level"] == level, rid
        assert finding.details["counts_2022"] == counts_2022, rid
    assert_same_findings(site, monkeypatch)


def test_decomposed_text_is_found_once_extraction_composes_it() -> None:
    """NFD input (``u`` + U+031B + U+0301) reaches the check as NFC through the extractor."""
    html = (
        "<p>Thu\u0309 tu\u0323c D - di\u0323ch vu\u0323 co\u0302ng mu\u031b\u0301c đô\u0323 3</p>"
    )
    site = build_site([(HOME, f"<html><body><main>{html}</main></body></html>")])
    ruleset = load_ruleset("nd43-2011")
    (finding,) = services_level(site, CheckContext(ruleset, ruleset.options("services.level")))
    assert finding.details["max_level"] == 3
