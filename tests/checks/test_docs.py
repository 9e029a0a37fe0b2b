"""docs/checks.md is the inspector's manual: every check id must have its section there."""

from __future__ import annotations

import re
from pathlib import Path

from checks import load_families
from checks.base import REGISTRY
from checks.ruleset import available_rulesets, load_ruleset

DOC = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def _sections() -> dict[str, str]:
    text = DOC.read_text("utf-8")
    parts = re.split(r"^## (\S+)\s*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_ruleset_id_has_a_section_with_statuses_basis_and_fix() -> None:
    documented = _sections()
    for ruleset_id in available_rulesets():
        for cid in load_ruleset(ruleset_id).check_ids():
            assert cid in documented, f"docs/checks.md lacks a section for {cid} ({ruleset_id})"
            body = documented[cid]
            for part in ("statuses", "how to fix", "basis"):
                assert part in body, f"docs/checks.md: {cid} says nothing about {part}"


def test_every_registered_check_is_documented() -> None:
    load_families(strict=True)
    documented = _sections()
    for cid in REGISTRY:
        assert cid in documented or any(d.startswith(cid + ".") for d in documented), cid
