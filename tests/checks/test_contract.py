"""Contract over the REGISTRY and the rulesets, with every check family imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from checks import load_families
from checks.base import REGISTRY
from checks.engine import finding_ids
from checks.ruleset import available_rulesets, load_ruleset

CHECKS_DIR = Path(__file__).resolve().parents[2] / "checks"
FORBIDDEN = ("httpx", "sqlalchemy", "socket", "probe.net", "probe.store", "probe.runner")


@pytest.fixture(scope="module")
def registry() -> dict:
    load_families(strict=True)
    return REGISTRY


def test_every_check_has_bilingual_titles_and_basis(registry: dict) -> None:
    assert registry
    for cid, chk in registry.items():
        for label in (chk.meta.title, chk.meta.failure_title):
            assert label.get("vi") and label.get("en"), cid
        assert chk.meta.legal_basis.strip(), cid


@pytest.mark.parametrize("rid", available_rulesets())
def test_every_ruleset_id_has_a_check(registry: dict, rid: str) -> None:
    rs = load_ruleset(rid)
    covered = {i for chk in registry.values() for i in finding_ids(chk, rs)}
    assert set(rs.check_ids()) - covered == set()


def test_checks_import_no_io_modules() -> None:
    for path in CHECKS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (
                    f"{path.name} imports {name}"
                )
