"""Fixtures shared by every test package: real databases, never mocks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("PROBE_TEST_DATABASE_URL", "")


def _pg_schema_url(base: str) -> Iterator[str]:
    """A fresh PostgreSQL schema per test, dropped afterwards, so tests never collide."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A real SQLite file, and PostgreSQL when PROBE_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'probe.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("PROBE_TEST_DATABASE_URL not set: PostgreSQL variant skipped")
    yield from _pg_schema_url(PG_URL)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A real SQLite file in the test's own directory."""
    return f"sqlite:///{tmp_path / 'probe.sqlite'}"
