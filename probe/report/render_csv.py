"""CSV for Excel users: UTF-8 with BOM (or Excel garbles Vietnamese) and no formulas.

A crawled page title like `=HYPERLINK(...)` must never run as a formula in an inspector's
spreadsheet, so any cell that Excel or LibreOffice would treat as a formula is prefixed
with an apostrophe.
"""

from __future__ import annotations

import csv
import io

from probe.report.flat import body, header
from probe.report.table import Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise(value: str) -> str:
    """Prefix a would-be formula with an apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def render_csv(table: Table) -> bytes:
    """The table as CSV bytes, BOM first."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([neutralise(h) for h in header(table)])
    for row in body(table):
        w.writerow([neutralise(v) for v in row])
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")
