"""A minimal XLSX (SpreadsheetML) writer: text cells, a few fixed styles, frozen panes.

openpyxl builds an element tree per cell; for the 700,000 cells of a 2,000-portal report
(table + evidence sheet) that took 15-25 s. The report needs only strings, column widths,
a frozen header and a handful of fills and fonts, so the sheet XML is written directly,
a row at a time, with inline strings. The result opens in Excel, LibreOffice and openpyxl.

Crawled text may hold characters XML 1.0 cannot carry (C0 controls, U+FFFE/FFFF, lone
surrogates); they are dropped, since a workbook that does not open helps nobody.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# A lone surrogate never comes out of UTF-8 text: it separates a row's cells so the row is
# cleaned and escaped in three C-level passes instead of three per cell.
_SEP = "\udfff"
_ILLEGAL_BUT_SEP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udffe]")

# (fill RGB or "", font: "" | "bold" | "flag") per style id; id 0 is the default style.
STYLE_SPECS: tuple[tuple[str, str], ...] = (("", ""), ("", "bold"))


@dataclass
class Sheet:
    """A sheet being written: name, column widths, frozen cell, rows as XML fragments."""

    name: str
    widths: Sequence[float]
    freeze: tuple[int, int] = (0, 0)  # (columns, rows) frozen at top-left
    _rows: list[str] = field(default_factory=list)
    _letters: list[str] = field(default_factory=list)

    def append(self, values: Sequence[str], styles: Sequence[int] | int = 0) -> None:
        """Append one row of strings; `styles` is one style id per cell or for all."""
        n = len(self._rows) + 1
        parts = [f'<row r="{n}">']
        if len(self._letters) < len(values):  # rows share a width: computed once
            self._letters = [_col(i) for i in range(len(values))]
        letters = self._letters
        joined = _SEP.join(values)
        if joined.count(_SEP) == len(values) - 1:
            texts = escape(_ILLEGAL_BUT_SEP.sub("", joined)).split(_SEP)
        else:  # a value held the separator itself: clean cell by cell
            texts = [escape(_ILLEGAL_XML.sub("", v)) for v in values]
        for i, v in enumerate(texts):
            style = styles if isinstance(styles, int) else styles[i]
            s = f' s="{style}"' if style else ""
            if not v:
                if style:
                    parts.append(f'<c r="{letters[i]}{n}"{s}/>')
                continue
            parts.append(
                f'<c r="{letters[i]}{n}"{s} t="inlineStr">'
                f'<is><t xml:space="preserve">{v}</t></is></c>'
            )
        parts.append("</row>")
        self._rows.append("".join(parts))

    def xml(self) -> str:
        """The worksheet part."""
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
            for i, w in enumerate(self.widths, start=1)
        )
        fc, fr = self.freeze
        pane = ""
        if fc or fr:
            attrs = (f' xSplit="{fc}"' if fc else "") + (f' ySplit="{fr}"' if fr else "")
            active = "bottomRight" if fc and fr else "bottomLeft" if fr else "topRight"
            top = f"{_col(fc)}{fr + 1}"
            pane = (
                f'<pane{attrs} topLeftCell="{top}" activePane="{active}" state="frozen"/>'
                f'<selection pane="{active}" activeCell="{top}" sqref="{top}"/>'
            )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
            f"<sheetData>{''.join(self._rows)}</sheetData></worksheet>"
        )


def _col(index: int) -> str:
    """0 → A, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _styles(specs: Sequence[tuple[str, str]]) -> str:
    fills = ['<fill><patternFill patternType="none"/></fill>',
             '<fill><patternFill patternType="gray125"/></fill>']  # fmt: skip
    fill_ids: dict[str, int] = {}
    fonts = {"": 0, "bold": 1, "flag": 2}
    xfs = []
    for rgb, font in specs:
        fid = 0
        if rgb:
            if rgb not in fill_ids:
                fill_ids[rgb] = len(fills)
                fills.append(
                    f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/>'
                    '<bgColor indexed="64"/></patternFill></fill>'
                )
            fid = fill_ids[rgb]
        wrap = '<alignment wrapText="1" vertical="top"/>' if font == "bold" else ""
        apply = (' applyFill="1"' if fid else "") + (' applyFont="1"' if fonts[font] else "")
        apply += ' applyAlignment="1"' if wrap else ""
        xfs.append(
            f'<xf numFmtId="0" fontId="{fonts[font]}" fillId="{fid}" borderId="0" xfId="0"'
            f"{apply}>{wrap}</xf>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><color rgb="FFFF00FF"/><name val="Calibri"/></font></fonts>'
        f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_CT = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_REL = (
    '<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/{kind}" Target="{target}"/>'
)


def write_workbook(sheets: Iterable[Sheet], styles: Sequence[tuple[str, str]]) -> bytes:
    """The sheets as XLSX bytes; style ids in rows index `styles`."""
    sheets = list(sheets)
    n = len(sheets)
    names = "".join(
        f'<sheet name="{escape(_ILLEGAL_XML.sub("", s.name)[:31], {chr(34): "&quot;"})}" '
        f'sheetId="{i}" r:id="rId{i}"/>'
        for i, s in enumerate(sheets, start=1)
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{names}</sheets></workbook>"
    )
    rels = "".join(
        _REL.format(n=i, kind="worksheet", target=f"worksheets/sheet{i}.xml")
        for i in range(1, n + 1)
    ) + _REL.format(n=n + 1, kind="styles", target="styles.xml")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", _CT.format(
            sheets="".join(_SHEET_CT.format(n=i) for i in range(1, n + 1))))  # fmt: skip
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
            f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
            "</Relationships>",
        )
        z.writestr("xl/styles.xml", _styles(styles))
        for i, s in enumerate(sheets, start=1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", s.xml())
    return buf.getvalue()
