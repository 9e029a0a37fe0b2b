"""The hand-written SpreadsheetML: it must open, keep text as text, and survive bad bytes."""

from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook

from probe.report.xlsx_writer import Sheet, write_workbook

STYLES = (("", ""), ("", "bold"), ("C6EFCE", ""), ("FFC7CE", "flag"))


def _book(rows: list[list[str]], styles: list[list[int]] | None = None) -> bytes:
    sheet = Sheet('Bảng "tuân thủ" <&>', [10, 20, 30], freeze=(1, 1))
    for i, row in enumerate(rows):
        sheet.append(row, styles[i] if styles else 0)
    other = Sheet("Evidence", [8], freeze=(0, 1))
    other.append(["only"], 1)
    return write_workbook([sheet, other], STYLES)


def test_opens_with_text_styles_and_frozen_panes() -> None:
    data = _book(
        [["id", "Cơ quan", "=SUM(1,2)"], ["a", "  lề trái", "<b>&amp;</b>"], ["", "", "x"]],
        [[1, 1, 1], [0, 2, 3], [0, 0, 0]],
    )
    wb = load_workbook(io.BytesIO(data))
    ws, ev = wb.worksheets
    assert ws.title == 'Bảng "tuân thủ" <&>' and ev.title == "Evidence"
    assert ws.freeze_panes == "B2" and ev.freeze_panes == "A2"
    assert ws.column_dimensions["C"].width == 30
    assert [c.value for c in ws[1]] == ["id", "Cơ quan", "=SUM(1,2)"]
    assert ws["C1"].data_type != "f"  # inline string, never a formula
    assert ws["B2"].value == "  lề trái"  # leading spaces preserved
    assert ws["C2"].value == "<b>&amp;</b>"
    assert ws["A1"].font.b and not ws["A2"].font.b
    assert ws["B2"].fill.fgColor.rgb.endswith("C6EFCE")
    assert ws["C2"].fill.fgColor.rgb.endswith("FFC7CE") and ws["C2"].font.color.rgb.endswith(
        "FF00FF"
    )
    assert ws["A3"].value is None and ws["C3"].value == "x"


def test_characters_xml_cannot_carry_are_dropped() -> None:
    bad = "a\x00b\x07c\x1bd\ufffee\ud800f\tg\nh"
    wb = load_workbook(io.BytesIO(_book([[bad, "ok", ""]])))
    assert wb.worksheets[0]["A1"].value == "abcdef\tg\nh"


def test_many_columns_get_letters_beyond_z() -> None:
    sheet = Sheet("wide", [5] * 60)
    sheet.append([str(i) for i in range(60)])
    data = write_workbook([sheet], STYLES)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert 'r="AZ1"' in xml and 'r="BH1"' in xml
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    assert ws["BH1"].value == "59"


def test_a_value_holding_the_row_separator_keeps_its_cells() -> None:
    wb = load_workbook(io.BytesIO(_book([["a\udfffb", "c\x00", "d"]])))
    ws = wb.worksheets[0]
    assert [ws["A1"].value, ws["B1"].value, ws["C1"].value] == ["ab", "c", "d"]
