"""`probe demo` (what `make demo` runs): sample portals, 2015 data, compliance table, HTML."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from probe.cli import main


def test_demo_prints_the_compliance_table_and_writes_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    db = tmp_path / "demo.sqlite"
    html = tmp_path / "report.html"
    code = main(["demo", "--db", f"sqlite:///{db}", "--output", str(html)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Lượt 1 [finished]: 12/12 cổng kiểm tra được" in out
    # the compliance table: agencies, the parallel Lệ Thủy portals as sub-rows, manual data
    for needle in ("UBND huyện Lệ Thủy", "http://lethuy.gov.vn/", "Sở Tư pháp", "20 % | 50 %"):
        assert needle in out
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") or page.lower().startswith("<!doctype html>")
    assert "lethuy.gov.vn" in page
    with sqlite3.connect(db) as conn:
        assert conn.execute("select status, portals_done from run").fetchall() == [("finished", 12)]
        assert (
            conn.execute("select count(distinct agency_id) from inspection_value").fetchone()[0]
            == 11
        )
        outcomes = {r[0] for r in conn.execute("select outcome from portal_result")}
        assert outcomes == {"checked"}
