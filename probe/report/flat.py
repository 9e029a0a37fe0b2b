"""The table as plain rows of strings, shared by the CSV and XLSX writers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from probe.report.labels import ui
from probe.report.table import Cell, Table

BIDI_CONTROLS = dict.fromkeys(
    [0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None
)


_BIDI_RE = re.compile("[" + "".join(chr(c) for c in BIDI_CONTROLS) + "]")


def strip_bidi(text: str) -> str:
    """Drop bidi controls: crawled text must not reorder what the reader sees.

    A regex rather than str.translate: translate with a dict walks every character in
    Python-level lookups, which was the slowest step of a 700,000-cell workbook."""
    return _BIDI_RE.sub("", text)


def cell_text(cell: Cell | None) -> str:
    """Symbol, short text, evidence ids and a flag when highlighted ('!' = contradiction)."""
    if cell is None:
        return ""
    parts = [cell.symbol]
    if cell.text:
        parts.append(cell.text)
    if cell.evidence:
        parts.append(
            "[" + ",".join(cell.evidence[:5]) + ("…" if len(cell.evidence) > 5 else "") + "]"
        )
    if cell.highlight or cell.conflict:
        parts.append("!")
    return strip_bidi(" ".join(parts))


def header(table: Table) -> list[str]:
    """Agency id, agency, portal, then every column's label."""
    lang = table.lang
    return ["id", ui("agency", lang), ui("portal", lang), *(c.label for c in table.columns)]


def body(table: Table) -> Iterator[list[str]]:
    """One list of strings per row, in header order."""
    for r in table.rows:
        yield [
            r.agency_id,
            strip_bidi(("  ↳ " if r.is_sub else "") + r.agency_name),
            strip_bidi(r.portal_url),
            *(cell_text(r.cells.get(c.id)) for c in table.columns),
        ]


def evidence_header(table: Table) -> list[str]:
    """Columns of the evidence sheet."""
    lang = table.lang
    return [
        "id",
        ui("agency", lang),
        ui("portal", lang),
        ui("check", lang),
        ui("status", lang),
        ui("message", lang),
        ui("legal_basis", lang),
        ui("page", lang),
        ui("excerpt", lang),
    ]


def evidence_rows(table: Table) -> Iterator[list[str]]:
    """One row per piece of evidence (a finding without evidence still gets a row)."""
    for e in table.evidence:
        pieces = e.evidence or (("", ""),)
        for url, text in pieces:
            row = [e.id, e.agency_id, e.portal_url, e.check, e.status, e.message,
                   e.legal_basis, url, text]  # fmt: skip
            joined = "\x00".join(row)  # one regex pass per row, not nine
            if joined.count("\x00") == len(row) - 1:
                yield strip_bidi(joined).split("\x00")
            else:
                yield [strip_bidi(x) for x in row]
