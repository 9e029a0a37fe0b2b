"""Alembic: an empty database reaches head, the models match it, foreign tables survive."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from probe.errors import DatabaseError
from probe.store import open_store
from probe.store.db import alembic_config
from probe.store.models import Base


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def test_empty_database_upgrades_to_head(db_url: str) -> None:
    with open_store(db_url) as store, store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == (_head(),)
        tables = set(sa.inspect(conn).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_models_match_migrated_schema_and_apscheduler_table_is_left_alone(db_url: str) -> None:
    with open_store(db_url) as store:
        jobs = SQLAlchemyJobStore(engine=store.engine)
        jobs.start(None, "default")  # type: ignore[arg-type]  # creates apscheduler_jobs
        with store.engine.begin() as conn:
            # Without the env.py filter autogenerate would want to drop APScheduler's table …
            raw = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d[1].name for d in raw if d[0] == "remove_table"] == ["apscheduler_jobs"]
            # … with it (the real env.py, through `alembic check`) there is no difference.
            command.check(alembic_config(conn))
    with open_store(db_url) as again, again.engine.connect() as conn:
        assert "apscheduler_jobs" in sa.inspect(conn).get_table_names()


def test_schema_newer_than_code_is_refused(db_url: str) -> None:
    with open_store(db_url) as store, store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099_future'"))
    with pytest.raises(DatabaseError) as err:
        open_store(db_url)
    message = str(err.value)
    assert "0099_future is newer than this probe" in message
    assert f"(head {_head()}); upgrade probe" in message
    assert "\n" not in message


def test_without_upgrade_an_empty_database_is_refused(db_url: str) -> None:
    with pytest.raises(DatabaseError, match="older than this probe"):
        open_store(db_url, upgrade=False)
    with open_store(db_url):
        pass
    with open_store(db_url, upgrade=False) as store:
        assert store.latest_run_id() is None
