"""`probe demo`: the main job end to end on the built-in sample portals, on loopback.

It is what `make demo` runs on a fresh machine: serve the sample portals, import the 2015
inspection data, probe every portal of the bundled registry into a throw-away SQLite file,
then print the portal-compliance table and write the HTML report. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import date
from pathlib import Path

import click


@click.command()
@click.option("--ruleset", default=None, help="nd43-2011 or nd42-2022 (default: in force today).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi")
@click.option("--db", default=None, help="Keep the demo database here (default: a temp file).")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the HTML report (default: next to the database).",
)
def demo(ruleset: str | None, lang: str, db: str | None, output: Path | None) -> int:
    """Serve the sample portals on loopback, probe them all, print the compliance table."""
    from probe.cli import _run_with_signals, registry_targets, resolve_ruleset
    from probe.demo.server import DemoServer
    from probe.inspections import import_inspections
    from probe.registry import load_registry
    from probe.report import render_report
    from probe.report.load import load_report
    from probe.settings import CONFIG_DIR, ConnectTo, Settings
    from probe.store.db import open_store

    workdir = Path(tempfile.mkdtemp(prefix="probe-demo-"))
    db_url = db or f"sqlite:///{workdir / 'demo.sqlite'}"
    registry = load_registry(CONFIG_DIR / "portals.toml")
    store = open_store(db_url)
    import_inspections(
        store, CONFIG_DIR / "inspections" / "quangbinh-2015.csv", today=date.today(),
        agencies={a.id for a in registry.agencies},
    )  # fmt: skip
    with DemoServer() as server:
        settings = Settings.from_env().with_(
            registry_path=registry.path,
            db_url=db_url,
            connect_to=tuple(ConnectTo.parse(s) for s in server.connect_to),
            allow_private=True,
            min_delay=0.05,
            lang=lang,
        )
        summary = asyncio.run(
            _run_with_signals(
                settings, registry_targets(registry), store, resolve_ruleset(ruleset),
                "manual", progress=True,
            )
        )  # fmt: skip
    data = load_report(store)
    render_report(data, "table", lang, None)
    report_path = output or workdir / "report.html"
    render_report(data, "html", lang, report_path)
    out = sys.stdout
    out.write(
        f"\n{'Lượt' if lang == 'vi' else 'Run'} {summary.run_id} [{summary.status}]: "
        f"{summary.checked}/{len(summary.portals)} "
        f"{'cổng kiểm tra được' if lang == 'vi' else 'portals checked'}\n"
        f"database: {db_url}\nreport: {report_path}\n"
    )
    return 0 if summary.status == "finished" else 1


def add_commands(cli: click.Group) -> None:
    """Register `demo` on the main CLI group."""
    cli.add_command(demo)
