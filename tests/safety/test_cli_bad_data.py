"""Bad inspection files and unusable databases: one line, exit 2, nothing half-written.

Each case runs `python -m probe.cli …` in a child process against a database that probe
created and filled; afterwards it must be exactly as before (SQL dump or row counts).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from probe.settings import CONFIG_DIR
from tests.safety.safety_helpers import assert_one_line, run_probe
from tests.safety.safety_helpers import sqlite_dump as dump

REGISTRY = CONFIG_DIR / "portals.toml"
LONG_HEADER = "agency,date,field,value,inspector,source,note\n"
GOOD_ROW = "huyen-le-thuy,2015-12-31,firewall_ids,có,,,\n"


# -- inspection files -------------------------------------------------------------------


def _csv(text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / "inspection.csv"
        path.write_bytes(text.encode(encoding))
        return path

    return make


def _xlsx(rows: list[list[object]]) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        path = tmp_path / "inspection.xlsx"
        wb.save(path)
        return path

    return make


def _raw(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return make


HEADER = LONG_HEADER.strip().split(",")
INSPECTION_CASES = [
    pytest.param(_csv("co_quan_x,ngay_y,z\nhuyen-le-thuy,2015-12-31,1\n"), ["row 1"],
                 id="wrong-columns"),
    pytest.param(_csv(LONG_HEADER + GOOD_ROW + "so-tu-phap,2015-12-31,official_email_use_pct,150,,,\n"),
                 ["row 3", "column D", "maximum 100"], id="percent-above-100"),
    pytest.param(_csv(LONG_HEADER + GOOD_ROW + "so-tu-phap,2015-12-31,hr_records_pct,nhiều,,,\n"),
                 ["row 3", "column D"], id="percent-not-a-number"),
    pytest.param(_csv(LONG_HEADER + GOOD_ROW + "so-khong-co,2015-12-31,firewall_ids,có,,,\n"),
                 ["row 3", "column A", "unknown agency"], id="unknown-agency"),
    pytest.param(_csv(LONG_HEADER + GOOD_ROW + "so-tu-phap,2015-12-31,specialised_software,Hộ tịch,,,\n",
                      "utf-16"), ["UTF-8"], id="utf16"),
    pytest.param(_raw("inspection.csv", (LONG_HEADER + "huyen-le-thuy,2015-12-31,specialised_software,"
                      "Hộ tịch,,,\n").encode().replace("ộ".encode(), b"\xe0")), ["row 2", "not UTF-8"],
                 id="cp1258-bytes"),
    pytest.param(_xlsx([HEADER, ["huyen-le-thuy", date(2015, 12, 31), "hr_records_pct", 250, "", "", ""]]),
                 ["row 2", "column D", "maximum 100"], id="xlsx-bad-percent"),
    pytest.param(_xlsx([HEADER, ["nowhere", date(2015, 12, 31), "firewall_ids", "có", "", "", ""]]),
                 ["row 2", "unknown agency"], id="xlsx-unknown-agency"),
    pytest.param(_raw("inspection.xlsx", b"PK\x03\x04 this is not a workbook" * 10),
                 ["not a readable XLSX file"], id="xlsx-garbage"),
    pytest.param(_raw("inspection.pdf", b"%PDF-1.4"), [], id="unsupported-type"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "needles"), INSPECTION_CASES)
def test_bad_inspection_file_imports_nothing(
    tmp_path: Path, seeded_db: Path, make: Callable[[Path], Path], needles: list[str]
) -> None:
    path = make(tmp_path)
    before = dump(seeded_db)
    result = run_probe("inspections", "import", str(path), "--registry", str(REGISTRY),
                       "--db", f"sqlite:///{seeded_db}", home=tmp_path)  # fmt: skip
    assert_one_line(result, str(path), *needles)
    assert dump(seeded_db) == before


def test_missing_inspection_file(tmp_path: Path, seeded_db: Path) -> None:
    missing = tmp_path / "nope.csv"
    result = run_probe("inspections", "import", str(missing), "--db", f"sqlite:///{seeded_db}",
                       home=tmp_path)  # fmt: skip
    assert_one_line(result, str(missing))


# -- databases --------------------------------------------------------------------------


def test_unreachable_database(tmp_path: Path) -> None:
    result = run_probe("check", "huyen-le-thuy", "--connect-to", "::127.0.0.1:9",
                       "--db", "postgresql+psycopg://probe:s3cret@127.0.0.1:1/none", home=tmp_path)  # fmt: skip
    assert_one_line(result, "127.0.0.1:1", "***")
    assert "s3cret" not in result.err


def test_database_path_under_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_probe("check", "huyen-le-thuy", "--connect-to", "::127.0.0.1:9",
                       "--db", f"sqlite:///{blocker}/probe.sqlite", home=tmp_path)  # fmt: skip
    assert_one_line(result, str(blocker))


def _stamp_future(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    engine.dispose()


def _row_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        counts = {t: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() or 0)
                  for t in tables}  # fmt: skip
    engine.dispose()
    return counts


def test_database_newer_than_probe(tmp_path: Path, any_db_url: str) -> None:
    """A database stamped by a newer probe is refused by every writing command, untouched."""
    good = tmp_path / "good.csv"
    good.write_text(LONG_HEADER + GOOD_ROW, encoding="utf-8")
    seeded = run_probe("inspections", "import", str(good), "--registry", str(REGISTRY),
                       "--db", any_db_url, home=tmp_path)  # fmt: skip
    assert seeded.code == 0, seeded.err
    _stamp_future(any_db_url)
    before = _row_counts(any_db_url)
    other = tmp_path / "other.csv"
    other.write_text(
        LONG_HEADER + "so-tu-phap,2015-12-31,firewall_ids,không,,,\n", encoding="utf-8"
    )
    for args in (
        ["check", "http://lethuy.gov.vn/", "--connect-to", "::127.0.0.1:9"],
        ["run", "--agency", "huyen-le-thuy", "--connect-to", "::127.0.0.1:9"],
        ["inspections", "import", str(other), "--registry", str(REGISTRY)],
        ["report"],
    ):
        result = run_probe(*args, "--db", any_db_url, home=tmp_path)
        assert_one_line(result, "ffff_from_the_future", "newer")
    assert _row_counts(any_db_url) == before
