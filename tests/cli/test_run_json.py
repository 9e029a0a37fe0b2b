"""`probe run --format json` streams the interface's document portal by portal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from probe.cli import main
from probe.demo.server import DemoServer


def test_run_json_is_one_valid_document_with_every_portal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with DemoServer() as server:
        code = main(
            ["run", "--format", "json", "--allow-private", "--ruleset", "nd43-2011",
             "--db", f"sqlite:///{tmp_path / 'p.sqlite'}", "--fail-under", "60",
             *(f"--connect-to={spec}" for spec in server.connect_to)]
        )  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["status"] == "finished" and doc["run"]["ruleset"] == "nd43-2011"
    urls = {p["url"] for p in doc["portals"]}
    assert len(urls) == 12 and "http://lethuy.gov.vn/" in urls
    for portal in doc["portals"]:
        assert portal["outcome"] == "checked"
        assert {f["check"] for f in portal["findings"]} >= {"availability", "licence"}
    agencies = {a["agency"]: a["findings"] for a in doc["agencies"]}
    assert len(agencies) == 11
    assert [f["status"] for f in agencies["huyen-le-thuy"]] == ["fail"]
    # lethuy.gov.vn scores about 50 %: --fail-under 60 turns that into exit code 1
    assert code == 1
