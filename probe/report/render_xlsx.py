"""XLSX for inspectors: frozen header, fitted widths, a colour per status, evidence sheet.

Written by `probe.report.xlsx_writer` (plain SpreadsheetML with inline strings) because
openpyxl's per-cell objects made a 2,000-portal workbook take 20 s. Every value is text,
never a formula; text that would become one when an inspector edits the cell (= + - @)
gets the same apostrophe as in the CSV. Highlighted cells (manual and automated results
disagree, or the sources conflict) are bold magenta, which survives black-and-white print.
"""

from __future__ import annotations

from probe.report.flat import body, evidence_header, evidence_rows, header
from probe.report.labels import ui
from probe.report.render_csv import neutralise
from probe.report.table import Table
from probe.report.xlsx_writer import Sheet, write_workbook

FILLS = {
    "pass": "C6EFCE",
    "warn": "FFEB9C",
    "fail": "FFC7CE",
    "na": "EDEDED",
    "unknown": "DDEBF7",
}
HIGHLIGHT = "FF00FF"  # font colour of flagged cells (fixed in xlsx_writer's "flag" font)
FIXED = 3  # id, agency, portal

# Style ids: 0 default, 1 header, then (status fill, plain) and (status fill, flagged).
STYLES: tuple[tuple[str, str], ...] = (
    ("", ""),
    ("", "bold"),
    *((rgb, "") for rgb in FILLS.values()),
    *((rgb, "flag") for rgb in FILLS.values()),
)
_PLAIN = {s: 2 + i for i, s in enumerate(FILLS)}
_FLAGGED = {s: 2 + len(FILLS) + i for i, s in enumerate(FILLS)}


def render_xlsx(table: Table) -> bytes:
    """The workbook as bytes: sheet 1 the table, sheet 2 the evidence."""
    lang = table.lang
    ws = Sheet(ui("sheet_table", lang)[:31], [24, 40, 36, *(14 for _ in table.columns)], (3, 1))
    ws.append([neutralise(v) for v in header(table)], 1)
    unknown = _PLAIN["unknown"]
    for r, values in zip(table.rows, body(table), strict=True):
        styles = [0] * FIXED
        for col in table.columns:
            cell = r.cells.get(col.id)
            if cell is None:
                styles.append(0)
            elif cell.highlight or cell.conflict:
                styles.append(_FLAGGED.get(cell.status, _FLAGGED["unknown"]))
            else:
                styles.append(_PLAIN.get(cell.status, unknown))
        ws.append([neutralise(v) for v in values], styles)
    ev = Sheet(ui("sheet_evidence", lang)[:31], [8, 24, 36, 26, 9, 60, 40, 50, 80], (0, 1))
    ev.append([neutralise(v) for v in evidence_header(table)], 1)
    for values in evidence_rows(table):
        ev.append(
            [neutralise(v) for v in values],
            [0, 0, 0, 0, _PLAIN.get(values[4], unknown), 0, 0, 0, 0],
        )
    return write_workbook([ws, ev], STYLES)
