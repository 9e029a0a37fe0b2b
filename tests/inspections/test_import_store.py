"""Import through a real `Store` while another process-like writer holds the SQLite lock."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from probe.errors import InputError
from probe.inspections import import_inspections
from probe.settings import CONFIG_DIR
from probe.store.db import open_store
from probe.store.models import Agency, InspectionValue

QB_AGENCIES = {
    "so-cong-thuong", "so-tai-nguyen-moi-truong", "so-tu-phap", "ban-quan-ly-khu-kinh-te",
    "huyen-tuyen-hoa", "huyen-bo-trach", "huyen-quang-ninh", "huyen-le-thuy",
    "thanh-pho-dong-hoi", "thi-xa-ba-don", "phuong-bac-ly",
}  # fmt: skip
QB_FILE = CONFIG_DIR / "inspections" / "quangbinh-2015.csv"


def test_import_waits_for_a_concurrent_writer(tmp_path: Path) -> None:
    """A nightly run's write transaction is open when the import starts: the import must
    wait for it (BEGIN IMMEDIATE + busy timeout), not fail with "database is locked"."""
    url = f"sqlite:///{tmp_path / 'probe.sqlite'}"
    store = open_store(url)
    other = open_store(url)  # a second engine = a second connection pool, like a 2nd process
    # The import reads before it writes; give it a snapshot that the writer then outdates.
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(InspectionValue)) == 0
    locked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with other.write_session() as s:
                s.add(Agency(id="nightly-run", name="n", name_en="n", level="province"))
                s.flush()
                locked.set()
                release.wait(timeout=30)
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)
            locked.set()

    t = threading.Thread(target=writer)
    t.start()
    assert locked.wait(timeout=30)
    result_box: list[object] = []

    def importer() -> None:
        try:
            result_box.append(
                import_inspections(store, QB_FILE, today=date(2026, 1, 15), agencies=QB_AGENCIES)
            )
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)

    imp = threading.Thread(target=importer)
    imp.start()
    imp.join(timeout=0.3)  # the importer is now blocked on the lock (or already failed)
    release.set()
    t.join(timeout=30)
    imp.join(timeout=30)
    assert errors == []
    (result,) = result_box
    assert getattr(result, "inserted", 0) == 94
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(InspectionValue)) == 94
        assert s.get(Agency, "nightly-run") is not None
    again = import_inspections(store, QB_FILE, today=date(2026, 1, 15), agencies=QB_AGENCIES)
    assert again.already_imported and again.inserted == 0
    store.close()
    other.close()


def test_damaged_xlsx_is_an_input_error(tmp_path: Path) -> None:
    """A damaged workbook is the inspector's problem to fix: one located InputError."""
    bad = tmp_path / "kiem-tra.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook" * 10)
    store = open_store(f"sqlite:///{tmp_path / 'probe.sqlite'}")
    with pytest.raises(InputError, match="not a readable XLSX file") as err:
        import_inspections(store, bad, today=date(2026, 1, 15), agencies=QB_AGENCIES)
    assert str(bad) in str(err.value)
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(InspectionValue)) == 0
    store.close()
