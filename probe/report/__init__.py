"""The portal-compliance report: load (store → data), table (pure), renderers.

`render_report` is what the CLI calls; each renderer also works on its own on a `Table`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from probe.errors import InputError
from probe.report.load import ReportData, paused_gc
from probe.report.table import Table, build_table

FORMATS = ("table", "csv", "xlsx", "json", "html")


def render_report(
    data: ReportData,
    fmt: str,
    lang: str,
    output: Path | TextIO | None,
    *,
    compare: ReportData | None = None,
) -> Table:
    """Build the table of `data` and write it as `fmt` to `output` (a path, a text stream,
    or None for stdout; XLSX needs a path). Returns the table for callers that want more."""
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if lang not in ("vi", "en"):
        raise InputError(f"--lang {lang!r}: expected vi or en")
    with paused_gc():
        return _render(data, fmt, lang, output, compare)


def _render(
    data: ReportData, fmt: str, lang: str, output: Path | TextIO | None, compare: ReportData | None
) -> Table:
    table = build_table(data, lang=lang, compare=compare)
    if fmt == "table":
        from probe.report.render_terminal import render_terminal

        if isinstance(output, Path):
            with output.open("w", encoding="utf-8") as fh:
                render_terminal(table, fh, width=200)
        else:
            render_terminal(table, output)
        return table
    payload: bytes | str
    if fmt == "csv":
        from probe.report.render_csv import render_csv

        payload = render_csv(table)
    elif fmt == "xlsx":
        from probe.report.render_xlsx import render_xlsx

        payload = render_xlsx(table)
    elif fmt == "json":
        from probe.report.render_json import render_json

        payload = render_json(table)
    else:
        from probe.report.render_html import render_html

        payload = render_html(table)
    _write(payload, output, fmt)
    return table


def _write(payload: bytes | str, output: Path | TextIO | None, fmt: str) -> None:
    if isinstance(output, Path):
        try:
            if isinstance(payload, bytes):
                output.write_bytes(payload)
            else:
                output.write_text(payload, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write report: {exc.strerror}", where=str(output)) from None
        return
    stream = output or sys.stdout
    if isinstance(payload, bytes):
        if fmt == "xlsx":
            raise InputError("--format xlsx needs --output FILE")
        buf = getattr(stream, "buffer", None)
        if buf is None:
            stream.write(payload.decode("utf-8"))
        else:
            stream.flush()
            buf.write(payload)
    else:
        stream.write(payload)
