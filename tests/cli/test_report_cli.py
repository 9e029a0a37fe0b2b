"""`probe inspections import` and `probe report` through the real CLI, on real demo runs.

The demo portals are served on loopback and crawled twice by `probe run` (the whole
registry, then two agencies), the bundled 2015 inspection and a later follow-up are
imported, and every format is read back: the manual columns, the Bố Trạch source
conflict and a manual/automated contradiction must sit next to the automated columns.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from selectolax.lexbor import LexborHTMLParser

from probe.cli import main
from probe.demo.server import DemoServer
from probe.settings import CONFIG_DIR
from probe.store.db import open_store
from probe.store.models import InspectionImport, InspectionValue

QB_FILE = CONFIG_DIR / "inspections" / "quangbinh-2015.csv"
# A later inspection finds Sở Tư pháp licensed; its demo portal shows no licence line.
FOLLOW_UP = (
    "agency,date,field,value,inspector,source,note\n"
    "so-tu-phap,2026-01-10,portal_licence_obtained,có,Đoàn kiểm tra 2026,Biên bản 2026,\n"
)
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)


@dataclass(frozen=True)
class Demo:
    db: str
    run1: int
    run2: int
    workdir: Path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """Two real runs over the demo portals, the 2015 inspection and a follow-up imported."""
    workdir = tmp_path_factory.mktemp("report-cli")
    db = f"sqlite:///{workdir / 'demo.sqlite'}"
    follow_up = workdir / "follow-up-2026.csv"
    follow_up.write_text(FOLLOW_UP, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp, DemoServer() as server:
        mp.setenv("PROBE_MIN_DELAY", "0.01")
        base = ["--allow-private", "--db", db]
        for c in server.connect_to:
            base += ["--connect-to", c]
        assert main(["run", *base]) in (0, 1)
        assert main(["run", *base, "--agency", "huyen-le-thuy", "--agency", "huyen-bo-trach"]) in (
            0,
            1,
        )
    assert main(["inspections", "import", str(QB_FILE), "--db", db]) == 0
    assert main(["inspections", "import", str(follow_up), "--db", db]) == 0
    store = open_store(db)
    runs = sorted(r.id for r in store.list_runs())
    store.close()
    assert len(runs) == 2
    yield Demo(db, runs[0], runs[1], workdir)


def _counts(db: str) -> tuple[int, int]:
    engine = sa.create_engine(db)
    with engine.connect() as c:
        imports = c.scalar(sa.select(sa.func.count()).select_from(InspectionImport)) or 0
        values = c.scalar(sa.select(sa.func.count()).select_from(InspectionValue)) or 0
    engine.dispose()
    return imports, values


def test_import_then_again_is_a_no_op(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.sqlite'}"
    code, out, _ = cli(capsys, "inspections", "import", str(QB_FILE), "--db", db)
    assert code == 0
    assert "long format, 94 values: 94 new, 0 updated, 0 unchanged" in out
    code, out, _ = cli(capsys, "inspections", "import", str(QB_FILE), "--db", db)
    assert code == 0 and "already imported (94 values), nothing changed" in out
    assert _counts(db) == (1, 94)


def test_import_bad_file_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.sqlite'}"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "agency,date,field,value\n"
        "so-tu-phap,2015-12-31,official_email_use_pct,80\n"
        "so-tu-phap,2015-12-31,official_email_use_pct,180\n",
        encoding="utf-8",
    )
    code, out, err = cli(capsys, "inspections", "import", str(bad), "--db", db)
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("probe: error: ")
    assert str(bad) in lines[0] and "row 3" in lines[0] and "maximum 100" in lines[0]
    assert _counts(db) == (0, 0)


def _rows_csv(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    return rows[0], {r[0]: r for r in rows[1:] if not r[1].lstrip().startswith("↳")}


def _rows_xlsx(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    ws = load_workbook(path).worksheets[0]
    rows = [[str(v) if v is not None else "" for v in r] for r in ws.iter_rows(values_only=True)]
    return rows[0], {r[0]: r for r in rows[1:] if not r[1].lstrip().startswith("↳")}


def _rows_html(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    tree = LexborHTMLParser(path.read_text(encoding="utf-8"))
    head = [th.text(strip=True) for th in tree.css("#grid thead th")]
    rows: dict[str, list[str]] = {}
    for tb in tree.css("#grid tbody.group"):
        agency = (tb.attributes.get("data-agency") or "").split(" ")[0]
        tr = tb.css_first("tr")
        rows[agency] = [
            td.text(strip=True) + ("!" if {"hl", "conflict"} & _classes(td) else "")
            for td in tr.css("td")
        ]
    return head, rows


def _classes(node: object) -> set[str]:
    return set((getattr(node, "attributes", {}).get("class") or "").split())


def _auto_and_manual(head: list[str], row: list[str], label: str) -> tuple[str, str]:
    """The row's licence cell (automated) and the given manual cell."""
    return row[head.index("Website licence notice")], row[head.index(label)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html", "json", "table"])
def test_every_format_puts_manual_next_to_automated(
    capsys: pytest.CaptureFixture[str], demo: Demo, fmt: str
) -> None:
    out = demo.workdir / f"run1.{fmt}"
    code, _, err = cli(capsys, "report", "--db", demo.db, "--run", str(demo.run1),
                       "--format", fmt, "--output", str(out), "--lang", "en")  # fmt: skip
    assert code == 0 and str(out) in err
    mail, licensed = "Staff using official e-mail (%)", "Portal licence obtained (Decree 72/2013)"
    if fmt == "json":
        doc = json.loads(out.read_text(encoding="utf-8"))
        kinds = {c["kind"] for c in doc["columns"]}
        assert {"section", "auto", "score", "manual"} <= kinds
        rows = {r["agency"]: r for r in doc["rows"] if not r["sub_row"]}
        bt = rows["huyen-bo-trach"]["cells"]
        assert bt["manual.official_email_use_pct"]["conflict"] is True
        assert bt["manual.official_email_use_pct"]["text"] == "20 % | 50 %"
        assert bt["section.legal_documents"]["evidence"]  # automated, with evidence ids
        stp = rows["so-tu-phap"]["cells"]
        assert stp["licence"]["status"] == "fail" and stp["licence"]["highlight"]
        assert stp["manual.portal_licence_obtained"]["highlight"] == stp["licence"]["highlight"]
        return
    if fmt == "table":
        text = out.read_text(encoding="utf-8")
        assert "Manual inspection data" in text
        assert "! huyen-bo-trach http://botrach.quangbinh.gov.vn/" in text
        assert "Conflicting sources" in text and "20 % | 50 %" in text
        assert "Manual and automated results disagree" in text and "so-tu-phap" in text
        return
    reader = {"csv": _rows_csv, "xlsx": _rows_xlsx, "html": _rows_html}[fmt]
    head, rows = reader(out)
    bt = rows["huyen-bo-trach"]
    auto, conflict = _auto_and_manual(head, bt, mail)
    assert auto.startswith(("✓", "✗", "⚠"))  # automated licence result of the real run
    assert "20 % | 50 %" in conflict and conflict.endswith("!")
    auto, manual = _auto_and_manual(head, rows["so-tu-phap"], licensed)
    assert auto.startswith("✗") and auto.endswith("!")  # contradiction: flagged
    assert manual.startswith("✓") and manual.endswith("!")
    assert head.index("Website licence notice") < head.index("Score") < head.index(mail)


def test_agency_filter(capsys: pytest.CaptureFixture[str], demo: Demo) -> None:
    code, out, _ = cli(capsys, "report", "--db", demo.db, "--format", "json",
                       "--run", str(demo.run1), "--agency", "huyen-bo-trach")  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert {r["agency"] for r in doc["rows"]} == {"huyen-bo-trach"}
    assert {e["agency"] for e in doc["evidence"]} == {"huyen-bo-trach"}


def test_run_and_compare(capsys: pytest.CaptureFixture[str], demo: Demo) -> None:
    code, out, _ = cli(capsys, "report", "--db", demo.db, "--format", "json")
    assert code == 0
    latest = json.loads(out)
    assert latest["run"].startswith(f"#{demo.run2} ")
    portals = {r["portal"] for r in latest["rows"] if r["portal"]}
    assert portals == {"http://botrach.quangbinh.gov.vn/", "http://lethuy.gov.vn/",
                       "http://lethuy.quangbinh.gov.vn/"}  # fmt: skip
    assert all(len(r["history"]) == 2 for r in latest["rows"] if r["portal"])
    code, out, _ = cli(capsys, "report", "--db", demo.db, "--format", "json",
                       "--compare", str(demo.run1))  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and doc["compare_run"] == demo.run1
    assert all(c["before"] != c["after"] for c in doc["changes"])
    html = demo.workdir / "compare.html"
    code, _, _ = cli(capsys, "report", "--db", demo.db, "--format", "html", "--lang", "en",
                     "--compare", str(demo.run1), "--output", str(html))  # fmt: skip
    assert code == 0 and f"Changes since run #{demo.run1}" in html.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("lang", "words"), [("vi", ("Cơ quan", "Điểm")), ("en", ("Agency", "Score"))]
)
def test_lang(
    capsys: pytest.CaptureFixture[str], demo: Demo, lang: str, words: tuple[str, ...]
) -> None:
    code, out, _ = cli(capsys, "report", "--db", demo.db, "--format", "csv", "--lang", lang)
    assert code == 0
    header = next(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert all(w in header for w in words)


@pytest.mark.parametrize("run", ["999", "abc"])
def test_unknown_run_is_exit_2(capsys: pytest.CaptureFixture[str], demo: Demo, run: str) -> None:
    code, out, err = cli(capsys, "report", "--db", demo.db, "--run", run)
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("probe: error: ") and run in lines[0]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium")
def test_demo_report_in_headless_chromium(capsys: pytest.CaptureFixture[str], demo: Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    path = demo.workdir / "demo.html"
    code, _, _ = cli(capsys, "report", "--db", demo.db, "--run", str(demo.run1), "--format",
                     "html", "--lang", "en", "--output", str(path))  # fmt: skip
    assert code == 0
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--headless", "--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        groups = page.locator("#grid tbody.group")
        assert groups.count() == 11  # every agency of the registry
        assert page.locator("#grid td.hl").count() >= 2  # the contradiction, both cells
        assert page.locator("#grid td.conflict").count() == 1  # Bố Trạch
        page.fill("#f-agency", "bo trach")
        assert page.locator("#grid tbody.group:visible").count() == 1
        page.fill("#f-agency", "")
        page.click('#grid th[data-col="score"]')
        page.click('#grid th[data-col="score"]')  # descending: best portal first
        scores = page.locator("#grid tbody.group:visible tr.head td:nth-child(1)").count()
        assert scores == 11
        # Lệ Thủy has two portals: open the first one's detail view
        page.click('#grid tbody.group[data-agency^="huyen-le-thuy"] tr.sub a.open >> nth=0')
        d = page.locator("details.portal[open]")
        assert d.count() == 1
        assert d.locator("svg.spark circle").count() == 2  # two stored runs
        assert d.locator("table.findings tbody tr").count() >= 20
        live = d.locator('table.findings a[href^="http://lethuy.gov.vn/"]')
        assert live.count() >= 1  # evidence links to the page
        assert d.locator("blockquote").count() >= 1  # evidence excerpts
        assert "43/2011" in d.inner_text()  # legal basis
        page.click('#grid tbody.group[data-agency^="so-tu-phap"] td.hl a >> nth=0')
        lic = page.locator('details.portal[data-agency^="so-tu-phap"]')
        assert lic.get_attribute("open") is not None
        page.emulate_media(media="print")
        assert page.locator(".controls").is_hidden()
        page.emulate_media(media="screen")
        assert page.locator(".controls").is_visible()
        browser.close()
    assert errors == []
    assert all(u.startswith("file://") for u in requests)
