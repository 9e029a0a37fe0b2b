"""Manual inspection import: real files, a real database, every error located."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.orm import Session

from probe.errors import InputError
from probe.inspections import import_inspections, load_field_catalogue
from probe.settings import CONFIG_DIR
from probe.store.models import Base, InspectionImport, InspectionValue

TODAY = date(2026, 1, 15)
AGENCIES = {"huyen-le-thuy", "so-tu-phap", "huyen-bo-trach"}
QB_AGENCIES = {
    "so-cong-thuong", "so-tai-nguyen-moi-truong", "so-tu-phap", "ban-quan-ly-khu-kinh-te",
    "huyen-tuyen-hoa", "huyen-bo-trach", "huyen-quang-ninh", "huyen-le-thuy",
    "thanh-pho-dong-hoi", "thi-xa-ba-don", "phuong-bac-ly",
}  # fmt: skip
LONG_HEADER = "agency,date,field,value,inspector,source,note\n"


@pytest.fixture
def engine(any_db_url: str) -> Iterator[sa.Engine]:
    """Tables created from the models (the store's migrations are another engineer's)."""
    eng = sa.create_engine(any_db_url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def _values(engine: sa.Engine) -> list[InspectionValue]:
    with Session(engine) as s:
        return list(s.scalars(sa.select(InspectionValue).order_by(InspectionValue.id)))


def _count(engine: sa.Engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (
            s.scalar(sa.select(sa.func.count()).select_from(InspectionImport)) or 0,
            s.scalar(sa.select(sa.func.count()).select_from(InspectionValue)) or 0,
        )


def _write(tmp_path: Path, name: str, text: str, *, bom: bool = False) -> Path:
    p = tmp_path / name
    p.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return p


def test_catalogue_has_labels_in_both_languages() -> None:
    cat = load_field_catalogue()
    ids = {f.id for f in cat.fields}
    assert {"official_email_use_pct", "portal_licence_obtained", "firewall_ids"} <= ids
    assert all(f.label["vi"] and f.label["en"] for f in cat.fields)


@pytest.mark.parametrize("bom", [False, True])
def test_long_csv_imports_with_provenance(engine: sa.Engine, tmp_path: Path, *, bom: bool) -> None:
    p = _write(
        tmp_path,
        "long.csv",
        LONG_HEADER
        + "huyen-le-thuy,2015-12-31,official_email_use_pct,20 %,Nguyễn Văn A,II.3.b,khoảng\n"
        + "so-tu-phap,31/12/2015,portal_licence_obtained,không,Trần B,II.4.a,\n",
        bom=bom,
    )
    res = import_inspections(engine, p, today=TODAY, agencies=AGENCIES)
    assert (res.layout, res.inserted, res.already_imported) == ("long", 2, False)
    vals = _values(engine)
    assert [(v.agency_id, v.field_id, v.value_text, v.value_num) for v in vals] == [
        ("huyen-le-thuy", "official_email_use_pct", "20", 20.0),
        ("so-tu-phap", "portal_licence_obtained", "false", 0.0),
    ]
    first = vals[0]
    assert (first.source_file, first.source_row, first.inspector) == ("long.csv", 2, "Nguyễn Văn A")
    assert first.inspected_on == date(2015, 12, 31) and first.source == "II.3.b"


def test_wide_csv_detected_and_imported(engine: sa.Engine, tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "wide.csv",
        "agency,date,inspector,official_email_use_pct,Có cán bộ chuyên trách CNTT\n"
        "huyen-le-thuy,2015-12-31,A,20,có\n"
        "so-tu-phap,2015-12-31,B,80,\n",
    )
    res = import_inspections(engine, p, today=TODAY, agencies=AGENCIES)
    assert (res.layout, res.inserted) == ("wide", 3)
    got = {(v.agency_id, v.field_id, v.value_text, v.source_row) for v in _values(engine)}
    assert got == {
        ("huyen-le-thuy", "official_email_use_pct", "20", 2),
        ("huyen-le-thuy", "dedicated_it_staff", "true", 2),
        ("so-tu-phap", "official_email_use_pct", "80", 3),
    }


@pytest.mark.parametrize("wide", [False, True])
def test_xlsx_long_and_wide(engine: sa.Engine, tmp_path: Path, *, wide: bool) -> None:
    wb = Workbook()
    ws = wb.active
    if wide:
        ws.append(["Cơ quan", "Ngày", "firewall_ids", "hr_records_pct"])
        ws.append(["huyen-bo-trach", date(2015, 12, 31), "x", 20])
    else:
        ws.append(list(LONG_HEADER.strip().split(",")))
        ws.append(["huyen-bo-trach", date(2015, 12, 31), "hr_records_pct", 20, "", "", ""])
        ws.append(["huyen-bo-trach", "2015-12-31", "firewall_ids", True, "", "", ""])
    p = tmp_path / "data.xlsx"
    wb.save(p)
    res = import_inspections(engine, p, today=TODAY, agencies=AGENCIES)
    assert res.layout == ("wide" if wide else "long") and res.inserted == 2
    got = {(v.field_id, v.value_text) for v in _values(engine)}
    assert got == {("hr_records_pct", "20"), ("firewall_ids", "true")}


BAD_CASES = [
    ("unknown-agency,2015-12-31,firewall_ids,có,,,\n", ["row 3", "column A", "unknown agency"]),
    ("so-tu-phap,2015-12-31,no_such_field,1,,,\n", ["row 3", "column C", "unknown field"]),
    (
        "so-tu-phap,2015-12-31,official_email_use_pct,120%,,,\n",
        ["row 3", "column D", "official_email_use_pct", "above the allowed maximum 100"],
    ),
    ("so-tu-phap,2030-01-01,firewall_ids,có,,,\n", ["row 3", "column B", "in the future"]),
    ("so-tu-phap,31.12.2015,firewall_ids,có,,,\n", ["row 3", "column B", "not a date"]),
    ("so-tu-phap,2015-12-31,firewall_ids,maybe,,,\n", ["row 3", "column D", "not yes/no"]),
    ("so-tu-phap,2015-12-31,parallel_portal_count,1.5,,,\n", ["row 3", "not a whole number"]),
]


@pytest.mark.parametrize(("bad_row", "expected"), BAD_CASES)
def test_invalid_file_names_place_and_imports_nothing(
    engine: sa.Engine, tmp_path: Path, bad_row: str, expected: list[str]
) -> None:
    good = "huyen-le-thuy,2015-12-31,firewall_ids,có,,,\n"
    p = _write(tmp_path, "bad.csv", LONG_HEADER + good + bad_row)
    with pytest.raises(InputError) as err:
        import_inspections(engine, p, today=TODAY, agencies=AGENCIES)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(str(p))
    for part in expected:
        assert part in msg
    assert _count(engine) == (0, 0)  # the valid first row was not written either


def test_wrong_encoding_is_reported_with_row(engine: sa.Engine, tmp_path: Path) -> None:
    p = tmp_path / "cp1258.csv"
    p.write_bytes((LONG_HEADER + "huyen-le-thuy,2015-12-31,specialised_software,Hộ tịch,,,\n")
                  .encode("utf-8").replace("ộ".encode(), b"\xe0"))  # fmt: skip
    with pytest.raises(InputError, match=r"cp1258\.csv: row 2: not UTF-8"):
        import_inspections(engine, p, today=TODAY, agencies=AGENCIES)
    assert _count(engine) == (0, 0)


def test_wide_unknown_column_named(engine: sa.Engine, tmp_path: Path) -> None:
    p = _write(tmp_path, "w.csv", "agency,date,firewall_ids,colour\nso-tu-phap,2015-12-31,có,x\n")
    with pytest.raises(InputError, match=r"row 1, column D 'colour': unknown field"):
        import_inspections(engine, p, today=TODAY, agencies=AGENCIES)


def test_reimport_is_idempotent_and_corrections_update(engine: sa.Engine, tmp_path: Path) -> None:
    body = LONG_HEADER + "so-tu-phap,2015-12-31,official_email_use_pct,80,,,\n"
    p = _write(tmp_path, "a.csv", body)
    first = import_inspections(engine, p, today=TODAY, agencies=AGENCIES)
    again = import_inspections(engine, p, today=TODAY, agencies=AGENCIES)
    assert again.already_imported and again.import_id == first.import_id
    assert _count(engine) == (1, 1)
    p.write_text(body + "so-tu-phap,2015-12-31,firewall_ids,không,,,\n", encoding="utf-8")
    p2 = import_inspections(engine, p, today=TODAY, agencies=AGENCIES)
    assert (p2.inserted, p2.unchanged, p2.updated) == (1, 1, 0)
    p.write_text(LONG_HEADER + "so-tu-phap,2015-12-31,official_email_use_pct,75,,,\n", "utf-8")
    p3 = import_inspections(engine, p, today=TODAY, agencies=AGENCIES)
    assert (p3.inserted, p3.updated) == (0, 1)
    assert _count(engine) == (3, 2)
    assert {v.value_text for v in _values(engine) if v.field_id.startswith("official")} == {"75"}


def test_quangbinh_2015_imports_and_keeps_bo_trach_conflict(
    engine: sa.Engine, tmp_path: Path
) -> None:
    path = CONFIG_DIR / "inspections" / "quangbinh-2015.csv"
    res = import_inspections(engine, path, today=TODAY, agencies=QB_AGENCIES)
    assert res.inserted == res.values > 80 and res.layout == "long"
    vals = _values(engine)
    assert {v.agency_id for v in vals} == QB_AGENCIES
    assert all(v.source.startswith("Báo cáo 2015, mục II.") for v in vals)
    bo_trach = sorted(
        v.value_num
        for v in vals
        if v.agency_id == "huyen-bo-trach" and v.field_id == "official_email_use_pct"
    )
    assert bo_trach == [20.0, 50.0]
    licence = {v.agency_id for v in vals if v.field_id == "portal_licence_obtained"}
    assert licence == {
        "so-tu-phap", "huyen-le-thuy", "huyen-quang-ninh", "huyen-tuyen-hoa",
        "thi-xa-ba-don", "thanh-pho-dong-hoi",
    }  # fmt: skip
