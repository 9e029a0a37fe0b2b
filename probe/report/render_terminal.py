"""The table in a terminal (rich), compact: a terminal has no room for 45 columns.

Mandated sections and manual fields are shown as one strip of symbols each (in column
order, numbered in the key underneath); the other automated columns get a column each.
Contradictions and source conflicts are shown reversed.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from probe.report.flat import strip_bidi
from probe.report.labels import ui
from probe.report.table import Column, Row, Table

STYLES = {"pass": "green", "warn": "yellow", "fail": "red", "na": "dim", "unknown": "blue"}


def _strip(row: Row, cols: list[Column]) -> Text:
    out = Text()
    for c in cols:
        cell = row.cells.get(c.id)
        if cell is None:
            out.append(" ")
            continue
        style = STYLES.get(cell.status, "")
        if cell.highlight or cell.conflict:
            style += " reverse"
        out.append(cell.symbol, style=style)
    return out


def render_terminal(table: Table, out: TextIO | None = None, *, width: int | None = None) -> None:
    """Print the table; crawled text is printed as plain Text, never as rich markup."""
    console = Console(file=out, width=width, highlight=False, emoji=False)
    lang = table.lang
    console.print(Text(f"{table.title} · {ui('run', lang)} {table.run_label}"))
    console.print(Text(f"{ui('ruleset', lang)}: {table.ruleset_label}"))
    console.print(Text(ui("legend", lang), style="dim"))
    sections = [c for c in table.columns if c.kind == "section"]
    autos = [c for c in table.columns if c.kind in ("auto", "score")]
    manual = [c for c in table.columns if c.kind == "manual"]
    rt = RichTable(header_style="bold", show_lines=False)
    rt.add_column(ui("agency", lang), max_width=40, overflow="fold")
    rt.add_column(ui("section", lang), no_wrap=True)
    for c in autos:
        rt.add_column(Text(c.label), max_width=10, overflow="fold")
    rt.add_column(ui("manual", lang), no_wrap=True)
    for r in table.rows:
        name = ("  ↳ " + r.portal_url) if r.is_sub else r.agency_name
        if not r.is_sub and r.portal_url:
            name += "\n" + r.portal_url
        auto_cells = []
        for c in autos:
            cell = r.cells.get(c.id)
            if cell is None:
                auto_cells.append(Text(""))
                continue
            style = STYLES.get(cell.status, "") + (" reverse" if cell.highlight else "")
            auto_cells.append(Text(strip_bidi(f"{cell.symbol} {cell.text}".strip()), style=style))
        rt.add_row(Text(strip_bidi(name)), _strip(r, sections), *auto_cells, _strip(r, manual))
    console.print(rt)
    for title, cols in ((ui("section", lang), sections), (ui("manual", lang), manual)):
        key = " · ".join(f"{i}. {c.label}" for i, c in enumerate(cols, start=1))
        console.print(Text(f"{title}: {key}", style="dim"))
    _flags(console, table)
    if table.compare_run is not None:
        console.print(Text(f"{ui('changes', lang)} #{table.compare_run}", style="bold"))
        for ch in table.changes:
            mark = ui("improved" if ch.improved else "regressed", lang)
            line = f"{mark}: {ch.agency_id} {ch.portal_url} {ch.column}: {ch.before} → {ch.after}"
            console.print(Text(strip_bidi(line), style="green" if ch.improved else "red"))


def _flags(console: Console, table: Table) -> None:
    """Contradictions and source conflicts spelled out: reverse video does not survive a
    pipe or a file, and these are the cells an inspector has to go and look at."""
    labels = {c.id: c.label for c in table.columns}
    for r in table.rows:
        for cid, cell in r.cells.items():
            if not (cell.highlight or cell.conflict):
                continue
            why = cell.highlight or cell.title
            where = f"{r.agency_id} {r.portal_url}".strip()
            text = f" {cell.text}" if cell.text else ""
            line = f"! {where}: {labels.get(cid, cid)}: {cell.symbol}{text} ({why})"
            console.print(Text(strip_bidi(line), style="magenta"))
