"""Rulesets: the shipped files load; every problem names file, entry and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from checks.ruleset import available_rulesets, load_ruleset, ruleset_for_date
from probe.errors import InputError

SECTION_IDS_43 = [
    "intro",
    "org_structure",
    "leadership",
    "news",
    "direction",
    "leader_schedule",
    "law_dissemination",
    "strategy_planning",
    "legal_documents",
    "e_gazette",
    "projects_procurement",
    "consultation",
    "official_contacts",
    "portal_contact",
    "admin_procedures",
    "online_services",
    "qa_feedback",
    "search",
    "sitemap",
]
OTHER_IDS = [
    "footer.owner",
    "footer.responsible_person",
    "footer.address",
    "footer.phone",
    "footer.email",
    "licence",
    "services.level",
    "freshness",
    "email.public_provider",
    "availability",
    "https",
    "tls",
    "domain",
    "portal.parallel",
]


def test_shipped_rulesets() -> None:
    assert available_rulesets() == ("nd42-2022", "nd43-2011")
    r43 = load_ruleset("nd43-2011")
    assert [s.id for s in r43.sections] == SECTION_IDS_43
    assert sorted(r43.checks) == sorted(OTHER_IDS)
    r42 = load_ruleset("nd42-2022")
    assert sorted(r42.checks) == sorted(OTHER_IDS)
    for rs in (r43, r42):
        for s in rs.sections:
            assert s.legal_basis and s.label["vi"] and s.label["en"]
            assert s.kind == "search" or s.label_keys or s.slug_keys
            if not s.verified:
                assert not s.required and s.weight < 1


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2015, 11, 1), "nd43-2011"),
        (date(2022, 8, 14), "nd43-2011"),
        (date(2022, 8, 15), "nd42-2022"),
        (date(2026, 1, 1), "nd42-2022"),
    ],
)
def test_ruleset_for_date(day: date, expected: str) -> None:
    assert ruleset_for_date(day).id == expected


def test_before_any_ruleset() -> None:
    with pytest.raises(InputError, match="2001-01-01"):
        ruleset_for_date(date(2001, 1, 1))


def test_applies_levels_and_options() -> None:
    r43 = load_ruleset("nd43-2011")
    assert r43.applies("section.e_gazette", "province")
    assert not r43.applies("section.e_gazette", "district")
    assert r43.options("services.level")["scheme"] == "2011"
    r42 = load_ruleset("nd42-2022")
    assert r42.options("services.level")["scheme"] == "2022"
    # inherited options and patterns
    assert r42.options("email.public_provider")["public_domains"]
    assert r42.section("news").label_keys == r43.section("news").label_keys
    assert r43.regexes("licence", "number_patterns")[0].search("Giấy phép số 48/GP-BVHTT")


def test_unknown_id_lists_available() -> None:
    with pytest.raises(InputError) as err:
        load_ruleset("nd99-2030")
    assert "nd99-2030" in str(err.value) and "nd43-2011" in str(err.value)


BASE = """
id = "x"
version = 1
title = { vi = "X", en = "X" }
effective_from = 2020-01-01
"""


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (
            "[[section]]\nid='a'\nlabel={vi='A',en='A'}\nlegal_basis='L'\nweight=-1\nlabels=['a']",
            "section[0] (id=a): field 'weight'",
        ),
        (
            "[[section]]\nid='a'\nlabel={vi='A'}\nlegal_basis='L'\nweight=1\nlabels=['a']",
            "field 'label'",
        ),
        (
            "[[section]]\nid='a'\nlabel={vi='A',en='A'}\nlegal_basis='L'\nweight=1\nlables=['a']",
            "unknown field 'lables'",
        ),
        (
            "[[section]]\nid='a'\nlabel={vi='A',en='A'}\nlegal_basis='L'\nweight=1\nlevels=['city']\nlabels=['a']",
            "field 'levels'",
        ),
        (
            "[checks.\"licence\"]\nlegal_basis='L'\nweight=1\noptions={number_patterns=['(']}",
            "options.number_patterns[0]",
        ),
        ('[checks."licence"]\nweight=1', "field 'legal_basis'"),
    ],
)
def test_errors_name_file_entry_field(tmp_path: Path, extra: str, needle: str) -> None:
    path = tmp_path / "x.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_ruleset(path)
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("id = ", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_ruleset(path)
