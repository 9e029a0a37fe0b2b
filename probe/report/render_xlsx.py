"""XLSX for inspectors: frozen header, fitted widths, a colour per status, evidence sheet.

Write-only mode streams rows, so 2,000 portals do not build a full object model in memory.
Strings go in as data (openpyxl writes them as strings, never as formulas, only when they
do not start with '='), so would-be formulas are neutralised the same way as in the CSV.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from probe.report.flat import body, evidence_header, evidence_rows, header
from probe.report.labels import ui
from probe.report.render_csv import neutralise
from probe.report.table import Table

FILLS = {
    "pass": "C6EFCE",
    "warn": "FFEB9C",
    "fail": "FFC7CE",
    "na": "EDEDED",
    "unknown": "DDEBF7",
}
HIGHLIGHT = "FF00FF"
FIXED = 3  # id, agency, portal


def render_xlsx(table: Table) -> bytes:
    """The workbook as bytes: sheet 1 the table, sheet 2 the evidence."""
    wb = Workbook(write_only=True)
    fills = {k: PatternFill("solid", fgColor=v) for k, v in FILLS.items()}
    bold = Font(bold=True)
    flagged = Font(bold=True, color=HIGHLIGHT)
    ws = wb.create_sheet(ui("sheet_table", table.lang)[:31])
    ws.freeze_panes = "D2"
    widths = [24, 40, 36, *(14 for _ in table.columns)]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    head = []
    for v in header(table):
        c = WriteOnlyCell(ws, neutralise(v))
        c.font = bold
        c.alignment = Alignment(wrap_text=True, vertical="top")
        head.append(c)
    ws.append(head)
    for r, values in zip(table.rows, body(table), strict=True):
        out = []
        for i, v in enumerate(values):
            c = WriteOnlyCell(ws, neutralise(v))
            if i >= FIXED:
                cell = r.cells.get(table.columns[i - FIXED].id)
                if cell is not None:
                    c.fill = fills.get(cell.status, fills["unknown"])
                    if cell.highlight or cell.conflict:
                        c.font = flagged
            out.append(c)
        ws.append(out)
    ev = wb.create_sheet(ui("sheet_evidence", table.lang)[:31])
    ev.freeze_panes = "A2"
    for i, w in enumerate([8, 24, 36, 26, 9, 60, 40, 50, 80], start=1):
        ev.column_dimensions[get_column_letter(i)].width = w
    ev.append([_bold(ev, v, bold) for v in evidence_header(table)])
    for values in evidence_rows(table):
        cells = [WriteOnlyCell(ev, neutralise(v)) for v in values]
        cells[4].fill = fills.get(values[4], fills["unknown"])
        ev.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _bold(ws: object, value: str, font: Font) -> WriteOnlyCell:
    c = WriteOnlyCell(ws, neutralise(value))
    c.font = font
    return c
