"""Fixtures of the safety tests: a database that probe itself created and filled."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from probe.settings import CONFIG_DIR
from tests.safety.safety_helpers import run_probe

LONG_HEADER = "agency,date,field,value,inspector,source,note\n"
GOOD_ROW = "huyen-le-thuy,2015-12-31,firewall_ids,có,,,\n"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Made once by `probe inspections import` (so schema and data are probe's own)."""
    home = tmp_path_factory.mktemp("template")
    good = home / "good.csv"
    good.write_text(LONG_HEADER + GOOD_ROW, encoding="utf-8")
    db = home / "seeded.sqlite"
    result = run_probe("inspections", "import", str(good),
                       "--registry", str(CONFIG_DIR / "portals.toml"),
                       "--db", f"sqlite:///{db}", home=home)  # fmt: skip
    assert result.code == 0, result.err
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    return db


@pytest.fixture
def seeded_db(template_db: Path, tmp_path: Path) -> Path:
    """A private copy of the template database for one test."""
    db = tmp_path / "seeded.sqlite"
    shutil.copyfile(template_db, db)
    return db
