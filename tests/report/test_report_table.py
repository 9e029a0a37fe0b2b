"""build_table on a hand-built stored run, and the CSV/XLSX/JSON renderers read back."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from probe.errors import InputError
from probe.report import render_report
from probe.report.load import load_report
from probe.report.render_csv import neutralise, render_csv
from probe.report.render_terminal import render_terminal
from probe.report.table import Table, build_table
from tests.report.conftest import EVIL_TEXT

AGENCIES = ["huyen-le-thuy", "so-tu-phap", "thi-xa-ba-don", "huyen-bo-trach"]


def _table(engine: sa.Engine, lang: str = "vi", **kw: object) -> Table:
    return build_table(load_report(engine, agencies=AGENCIES), lang=lang, **kw)  # type: ignore[arg-type]


def _row(t: Table, agency: str, url: str = "") -> object:
    return next(r for r in t.rows if r.agency_id == agency and (r.portal_url == url or not url))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_columns_come_from_ruleset_and_catalogue(report_engine: sa.Engine, lang: str) -> None:
    t = _table(report_engine, lang)
    ids = [c.id for c in t.columns]
    assert ids[0] == "section.intro" and "section.legal_documents" in ids
    assert ids.index("licence") < ids.index("score") < ids.index("manual.official_email_use_pct")
    label = {c.id: c.label for c in t.columns}
    if lang == "vi":
        assert label["section.intro"] == "Thông tin giới thiệu"
        assert label["manual.firewall_ids"].startswith("Có tường lửa")
    else:
        assert label["section.intro"] == "Introduction"
        assert label["manual.firewall_ids"] == "Firewall and intrusion detection"


def test_statuses_subrows_and_unreachable(report_engine: sa.Engine) -> None:
    t = _table(report_engine)
    lethuy = [r for r in t.rows if r.agency_id == "huyen-le-thuy"]
    assert [r.is_sub for r in lethuy] == [False, True, True]  # agency row + one per portal
    head, main = lethuy[0], lethuy[1]
    assert main.cells["section.leader_schedule"].status == "pass"
    assert main.cells["section.e_gazette"].status == "na"
    assert main.cells["footer"].status == "warn"  # owner pass + phone warn
    assert main.cells["licence"].status == "fail" and main.cells["licence"].evidence
    assert head.cells["parallel"].status == "fail"
    assert head.score == pytest.approx(0.55)
    assert head.cells["manual.portal_licence_obtained"].status == "fail"
    badon = _row(t, "thi-xa-ba-don")
    assert badon.cells["transport"].status == "fail"
    assert badon.cells["section.intro"].status == "unknown"  # never fail for not checked
    assert "unreachable" in badon.cells["section.intro"].title
    ev = {e.id: e for e in t.evidence}
    lic = ev[main.cells["licence"].evidence[0]]
    assert lic.check == "licence" and "72/2013" in lic.legal_basis


def test_contradictions_and_conflict_are_highlighted(report_engine: sa.Engine) -> None:
    t = _table(report_engine, "en")
    stp = _row(t, "so-tu-phap")
    assert stp.cells["licence"].highlight and stp.cells["manual.portal_licence_obtained"].highlight
    assert stp.cells["email"].highlight and stp.cells["manual.official_email_use_pct"].highlight
    assert not stp.cells["freshness"].highlight
    bt = _row(t, "huyen-bo-trach").cells["manual.official_email_use_pct"]
    assert bt.conflict and bt.status == "warn" and bt.text == "20 % | 50 %"
    assert "II.3.b" in bt.title
    lethuy = _row(t, "huyen-le-thuy").cells["manual.parallel_portal_count"]
    assert lethuy.status == "fail" and not lethuy.highlight  # 2 portals, and the check agrees


def test_compare_lists_improvements(report_engine: sa.Engine) -> None:
    old = load_report(report_engine, run_id=1, agencies=AGENCIES)
    t = build_table(load_report(report_engine, agencies=AGENCIES), lang="en", compare=old)
    assert t.compare_run == 1
    moved = {(c.portal_url, c.before, c.after, c.improved) for c in t.changes}
    assert ("http://lethuy.gov.vn/", "fail", "pass", True) in moved
    assert all(c.agency_id == "huyen-le-thuy" for c in t.changes)


def test_unknown_run_is_input_error(report_engine: sa.Engine) -> None:
    with pytest.raises(InputError, match="run 99 not found"):
        load_report(report_engine, run_id=99)


def test_csv_has_bom_and_neutralises_formulas(report_engine: sa.Engine, tmp_path: Path) -> None:
    for bad in ("=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("Sở Tư pháp") == "Sở Tư pháp"
    data = load_report(report_engine, agencies=AGENCIES)
    from probe.report.load import AgencyData

    evil = AgencyData("x-evil", '=HYPERLINK("http://e.vil","click")', "", "district", (), ())
    data = type(data)(**{**data.__dict__, "agencies": (*data.agencies, evil)})
    raw = render_csv(build_table(data, lang="vi"))
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "Cơ quan", "Cổng/Trang TTĐT"]
    names = {r[0]: r[1] for r in rows[1:]}
    assert names["x-evil"].startswith("'=HYPERLINK")
    assert names["so-tu-phap"] == "Sở Tư pháp"
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r)


def test_xlsx_frozen_fills_and_evidence(report_engine: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    t = render_report(load_report(report_engine, agencies=AGENCIES), "xlsx", "en", out)
    wb = load_workbook(out)
    ws, ev = wb.worksheets
    assert ws.title == "Compliance" and ev.title == "Evidence"
    assert ws.freeze_panes == "D2" and ev.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width == 40
    header = [c.value for c in ws[1]]
    col = header.index("Website licence notice") + 1
    stp = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "so-tu-phap")
    lic = stp[col - 1]
    assert lic.value.startswith("✓") and lic.fill.fgColor.rgb.endswith("C6EFCE")
    assert lic.font.color.rgb.endswith("FF00FF")  # contradiction flagged
    ev_rows = list(ev.iter_rows(min_row=2, values_only=True))
    assert len(ev_rows) >= len(t.evidence)
    assert any(r[7] == "javascript:window.__pwned=3" and r[8] == EVIL_TEXT for r in ev_rows)
    assert all(not str(v).startswith("=") for r in ev_rows for v in r if v is not None)


def test_json_is_the_documented_shape(report_engine: sa.Engine) -> None:
    buf = io.StringIO()
    render_report(load_report(report_engine, agencies=AGENCIES), "json", "vi", buf)
    doc = json.loads(buf.getvalue())
    assert doc["schema_version"] == 1 and doc["lang"] == "vi"
    assert {"id", "label", "kind", "legal_basis"} <= set(doc["columns"][0])
    row = next(r for r in doc["rows"] if r["agency"] == "so-tu-phap")
    assert row["cells"]["licence"]["status"] == "pass" and row["cells"]["licence"]["highlight"]
    assert [h["score"] for h in row["history"]] == [0.9, 0.9]
    assert {e["id"] for e in doc["evidence"]} >= set(row["cells"]["licence"]["evidence"])


def test_terminal_and_bad_options(report_engine: sa.Engine) -> None:
    buf = io.StringIO()
    data = load_report(report_engine, agencies=AGENCIES)
    render_terminal(build_table(data, lang="en"), buf, width=220)
    text = buf.getvalue()
    assert "Portal compliance report" in text and "Department of Justice" in text
    with pytest.raises(InputError, match="--format"):
        render_report(data, "pdf", "vi", buf)
    with pytest.raises(InputError, match="--lang"):
        render_report(data, "json", "fr", buf)


def test_inspection_only_report_without_runs(tmp_path: Path) -> None:
    from datetime import date

    from probe.inspections import import_inspections
    from probe.settings import CONFIG_DIR
    from probe.store.models import Base

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'i.sqlite'}")
    Base.metadata.create_all(engine)
    import_inspections(
        engine, CONFIG_DIR / "inspections" / "quangbinh-2015.csv", today=date(2026, 1, 1)
    )
    t = build_table(load_report(engine), lang="vi")
    assert len(t.rows) == 11 and t.run_label == "Chưa có lượt kiểm tra tự động"
    assert _row(t, "so-tu-phap").cells["manual.official_email_use_pct"].status == "pass"
