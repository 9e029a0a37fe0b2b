"""Report generation at scale (issue 7): 2,000 portals' latest run, HTML and XLSX in < 5 s.

Fills a SQLite file through the real Store API (sync_registry, start_run, save_portal,
save_agency_findings, finish_run) with one finding per mandated section and per portal
check of the nd43-2011 ruleset (~32 per portal, one piece of evidence each), imports the
bundled 2015 inspection for the Quảng Bình agencies, then times each stage of
`probe report`: load (store → ReportData), build_table, and every renderer.

    .venv/bin/python bench/report_bench.py [--portals 2000] [--runs 1] [--db PATH]

The database is kept when --db is given and reused when it already holds the portals, so
a profile of one renderer does not pay for the fill again.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from checks.base import Evidence, Finding, Status  # noqa: E402
from checks.ruleset import load_ruleset  # noqa: E402
from probe.artifacts import PortalArtifacts  # noqa: E402
from probe.cli import main as cli_main  # noqa: E402
from probe.inspections import import_inspections  # noqa: E402
from probe.registry import Agency, PortalEntry  # noqa: E402
from probe.report import render_report  # noqa: E402
from probe.report.load import load_report  # noqa: E402
from probe.report.table import build_table  # noqa: E402
from probe.settings import CONFIG_DIR  # noqa: E402
from probe.store.db import open_store  # noqa: E402
from probe.store.repo import Store  # noqa: E402

QB_AGENCIES = (
    "so-cong-thuong", "so-tai-nguyen-moi-truong", "so-tu-phap", "ban-quan-ly-khu-kinh-te",
    "huyen-tuyen-hoa", "huyen-bo-trach", "huyen-quang-ninh", "huyen-le-thuy",
    "thanh-pho-dong-hoi", "thi-xa-ba-don", "phuong-bac-ly",
)  # fmt: skip
STATUSES = (Status.PASS, Status.PASS, Status.PASS, Status.FAIL, Status.WARN, Status.NA)
EXCERPT = (
    "Cổng thông tin điện tử {name} — Chuyên mục {check}: văn bản quy phạm pháp luật, "
    "thủ tục hành chính, lịch làm việc của lãnh đạo; cập nhật ngày {n} tháng 3 năm 2026."
)


def agencies(n: int) -> list[Agency]:
    """`n` agencies, one portal each; the first ones carry the 2015 inspection's ids."""
    out = []
    for i in range(n):
        aid = QB_AGENCIES[i] if i < len(QB_AGENCIES) else f"co-quan-{i:04d}"
        out.append(
            Agency(
                aid, f"UBND xã số {i} tỉnh Quảng Bình", "commune",
                (PortalEntry(f"http://xa{i:04d}.quangbinh.gov.vn/"),),
                name_en=f"Commune {i}", province="Quảng Bình",
            )
        )  # fmt: skip
    return out


def findings_for(i: int, run: int, checks: list[str]) -> list[Finding]:
    """One finding per check with a Vietnamese excerpt; statuses vary by portal and run."""
    out = []
    for k, check in enumerate(checks):
        status = STATUSES[(i * 7 + k * 3 + run) % len(STATUSES)]
        url = f"http://xa{i:04d}.quangbinh.gov.vn/{check.replace('.', '/')}/index.html"
        details = {"max_level": 2} if check == "services.level" else {}
        if check == "freshness":
            details = {"age_days": (i + run) % 40}
        out.append(
            Finding(
                check,
                status,
                {"vi": f"{check}: kết quả {status} cho cổng {i}", "en": f"{check}: {status}"},
                (Evidence(url, EXCERPT.format(name=f"xã {i}", check=check, n=1 + k % 28)),),
                details,
            )
        )
    return out


def fill(store: Store, n: int, runs: int) -> None:
    """Registry, `runs` finished runs over `n` portals, and the 2015 inspection."""
    rs = load_ruleset("nd43-2011")
    portal_checks = [c for c in rs.checks if c != "portal.parallel"]
    checks = [f"section.{s.id}" for s in rs.sections] + portal_checks
    ags = agencies(n)
    store.sync_registry(ags)
    for run in range(runs):
        run_id = store.start_run("nightly", rs.id, 1, {}, n)
        now = datetime.now(UTC)
        for i, a in enumerate(ags):
            site = PortalArtifacts(a.id, a.level, a.portals[0], now, final_url=a.portals[0])
            found = findings_for(i, run, checks)
            score = sum(f.status == Status.PASS for f in found) / len(found)
            store.save_portal(run_id, site, found, score)
            parallel = Finding("portal.parallel", Status.PASS, {"vi": "một cổng", "en": "one"})
            store.save_agency_findings(run_id, a.id, [parallel])
        store.finish_run(run_id, "finished")
    import_inspections(
        store,
        CONFIG_DIR / "inspections" / "quangbinh-2015.csv",
        today=date.today(),
        agencies={a.id for a in ags},
    )


def timed(label: str, fn, *args, **kw):  # type: ignore[no-untyped-def]
    """Run fn once and print its wall time."""
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    print(f"{label:<22} {time.perf_counter() - t0:7.2f} s", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Fill (unless already filled), then time load, build and every format."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--portals", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=1, help="stored runs (score history points)")
    ap.add_argument("--db", type=Path, default=None, help="keep/reuse the SQLite file here")
    ap.add_argument("--lang", default="vi", choices=("vi", "en"))
    args = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="probe-report-bench-"))
    db_path = args.db or workdir / "bench.sqlite"
    store = open_store(f"sqlite:///{db_path}")
    if store.latest_run_id() is None:
        timed(f"fill {args.portals}×{args.runs}", fill, store, args.portals, args.runs)
    print(f"database: {db_path}")
    total_load = time.perf_counter()
    data = timed("load", load_report, store)
    load_s = time.perf_counter() - total_load
    portals = sum(len(a.portals) for a in data.agencies)
    findings = sum(len(p.findings) for a in data.agencies for p in a.portals)
    print(f"portals {portals}, findings {findings}")
    t0 = time.perf_counter()
    table = build_table(data, lang=args.lang)
    build_s = time.perf_counter() - t0
    print(f"{'build_table':<22} {build_s:7.2f} s  ({len(table.rows)} rows, "
          f"{len(table.columns)} columns, {len(table.evidence)} evidence items)")  # fmt: skip
    for fmt in ("html", "xlsx", "csv", "json", "table"):
        out = workdir / f"report.{fmt}"
        t0 = time.perf_counter()
        if fmt == "table":
            render_report(data, fmt, args.lang, io.StringIO())
        else:
            render_report(data, fmt, args.lang, out)
        total = time.perf_counter() - t0 + load_s  # render_report builds the table itself
        size = f"{out.stat().st_size / 1e6:6.1f} MB" if out.exists() else ""
        print(f"{'report ' + fmt:<22} {total:7.2f} s  load+build+render {size}")
    store.close()
    lang = args.lang
    for fmt in ("html", "xlsx"):  # the whole command, as an inspector runs it
        out = workdir / f"cli.{fmt}"
        argv = ["report", "--db", f"sqlite:///{db_path}", "--format", fmt, "--output", str(out)]
        t0 = time.perf_counter()
        code = cli_main([*argv, "--lang", lang])
        print(f"{'probe report ' + fmt:<22} {time.perf_counter() - t0:7.2f} s  exit {code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
