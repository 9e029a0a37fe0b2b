"""open_store: URL forms, SQLite settings, and one-line errors for databases it cannot use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from probe.errors import DatabaseError
from probe.store import open_store
from probe.store.db import normalize_url


def test_unreachable_postgres_is_one_line_with_password_masked() -> None:
    with pytest.raises(DatabaseError) as err:
        open_store("postgres://postgres:s3cret@127.0.0.1:1/x")
    message = str(err.value)
    assert message.startswith(
        "cannot open database postgresql+psycopg://postgres:***@127.0.0.1:1/x"
    )
    assert "s3cret" not in message
    assert "\n" not in message and "\t" not in message
    assert len(message) > len(
        "cannot open database postgresql+psycopg://postgres:***@127.0.0.1:1/x: "
    )


def test_sqlite_file_under_a_regular_file_is_a_database_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(DatabaseError, match=r"cannot open database sqlite:///.*not-a-dir"):
        open_store(f"sqlite:///{blocker / 'probe.sqlite'}")


def test_a_file_that_is_not_a_database_is_a_database_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database file at all" * 200)
    with pytest.raises(DatabaseError) as err:
        open_store(f"sqlite:///{junk}")
    assert "junk.sqlite" in str(err.value) and "\n" not in str(err.value)


def test_url_forms() -> None:
    assert normalize_url("postgresql://u@h/d").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/d").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/d").drivername == "postgresql+psycopg"
    plain = normalize_url("/var/lib/probe/probe.sqlite")
    assert (plain.drivername, plain.database) == ("sqlite", "/var/lib/probe/probe.sqlite")
    with pytest.raises(DatabaseError, match="empty database URL"):
        normalize_url("  ")
    with pytest.raises(DatabaseError, match=r"mysql://u:\*\*\*@h/d: probe supports SQLite"):
        open_store("mysql://u:pw@h/d")


def test_sqlite_pragmas_and_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "probe.sqlite"
    with open_store(str(path)) as store, store.engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 30000,
        "foreign_keys": 1,
        "synchronous": 1,
    }
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_write_sessions_take_the_sqlite_write_lock_up_front(tmp_path: Path) -> None:
    """A write session holds RESERVED from BEGIN, so a second writer cannot start."""
    path = tmp_path / "probe.sqlite"
    with open_store(str(path)) as store, store.write_session() as s:
        s.execute(sa.text("SELECT 1"))  # no write yet: only BEGIN IMMEDIATE was issued
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
