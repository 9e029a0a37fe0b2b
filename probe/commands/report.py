"""`probe report` and `probe inspections import`: the inspectors' side of probe.

Both read the registry only to know which agency ids exist, so an inspection file that
names an unknown agency is refused before anything is written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from probe.registry import load_registry
from probe.settings import Settings


def _settings(registry: Path | None, db: str | None) -> Settings:
    settings = Settings.from_env()
    changes: dict[str, Any] = {}
    if registry is not None:
        changes["registry_path"] = registry
    if db:
        changes["db_url"] = db
    return settings.with_(**changes)


def _run_id(value: str | None) -> int | None:
    """`--run latest|ID`."""
    if value is None or value == "latest":
        return None
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not 'latest' or a run id", param_hint="--run"
        ) from None


@click.command()
@click.option("--registry", type=click.Path(path_type=Path), default=None)
@click.option("--db", default=None, help="SQLAlchemy URL (default: $PROBE_DATABASE_URL or SQLite).")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "xlsx", "json", "html"]), default="table"
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to this file (required for xlsx).",
)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi")
@click.option("--run", "run", default="latest", help="latest (default) or a run id.")
@click.option("--agency", "agencies", multiple=True, help="Only these agency ids (repeatable).")
@click.option("--compare", default=None, help="An earlier run id: show what improved/regressed.")
def report(
    registry: Path | None, db: str | None, fmt: str, output: Path | None, lang: str, run: str,
    agencies: tuple[str, ...], compare: str | None,
) -> int:  # fmt: skip
    """The portal-compliance table: automated findings and manual inspection side by side."""
    from probe.errors import InputError
    from probe.report import render_report
    from probe.report.load import load_report
    from probe.store.db import open_store

    settings = _settings(registry, db)
    if agencies:
        known = {a.id for a in load_registry(settings.registry_path).agencies}
        for agency_id in agencies:
            if agency_id not in known:
                raise InputError(f"unknown agency {agency_id!r} in registry "
                                 f"{settings.registry_path}", where="--agency")  # fmt: skip
    if fmt == "xlsx" and output is None:
        raise InputError("--format xlsx needs --output FILE.xlsx")
    store = open_store(settings.db_url)
    only = agencies or None
    data = load_report(store, run_id=_run_id(run), agencies=only)
    old = None
    if compare is not None:
        old = load_report(store, run_id=_run_id(compare), agencies=only, with_history=False)
    render_report(data, fmt, lang, output, compare=old)
    if output is not None:
        click.echo(str(output), err=True)
    return 0


@click.group()
def inspections() -> None:
    """Manual inspection data (what a crawler cannot see)."""


@inspections.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--registry", type=click.Path(path_type=Path), default=None)
@click.option("--db", default=None, help="SQLAlchemy URL (default: $PROBE_DATABASE_URL or SQLite).")
def import_(file: Path, registry: Path | None, db: str | None) -> int:
    """Import a CSV or XLSX file (long or wide format); all or nothing, idempotent."""
    from probe.inspections import import_inspections
    from probe.store.db import open_store

    settings = _settings(registry, db)
    known = {a.id for a in load_registry(settings.registry_path).agencies}
    store = open_store(settings.db_url)
    result = import_inspections(store, file, today=date.today(), agencies=known)
    if result.already_imported:
        click.echo(f"{file}: already imported ({result.values} values), nothing changed")
    else:
        click.echo(
            f"{file}: {result.layout} format, {result.values} values: {result.inserted} new, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )
    return 0


def add_commands(cli: click.Group) -> None:
    """Register the report-side commands on the main CLI group."""
    cli.add_command(report)
    cli.add_command(inspections)
