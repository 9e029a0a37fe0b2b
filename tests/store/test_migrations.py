"""Alembic: an empty database reaches head, the models match it, foreign tables survive;
a database already at head is opened without importing Alembic."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from checks.base import Status
from probe.errors import DatabaseError
from probe.store import open_store
from probe.store.db import SCHEMA_HEAD, alembic_config
from probe.store.models import Base
from tests.store.conftest import body_of, make_finding, make_site


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


def test_schema_head_constant_is_alembics_head() -> None:
    """Adding a migration without bumping SCHEMA_HEAD would make open_store skip it."""
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [SCHEMA_HEAD]


def test_database_at_head_opens_without_importing_alembic(db_url: str, tmp_path: Path) -> None:
    with open_store(db_url):
        pass  # migrated to head here
    probe_script = tmp_path / "open.py"
    probe_script.write_text(
        textwrap.dedent(
            """
            import sys
            from probe.store import open_store
            with open_store(sys.argv[1]) as store:
                assert store.latest_run_id() is None
            print(sorted(m for m in sys.modules if m.split(".")[0] in ("alembic", "mako")))
            """
        )
    )
    out = subprocess.run(
        [sys.executable, str(probe_script), db_url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "[]"


def test_older_schema_is_upgraded_or_refused(db_url: str) -> None:
    """A 0003 database with results: refused without upgrade; upgraded, its old results
    have an empty digest, so nothing written before 0004 is ever reused."""
    url = "http://lethuy.test/"
    with open_store(db_url) as store:
        run_id = store.start_run("manual", "nd43-2011", 1, {}, 1)
        site = make_site(url, bodies={"": body_of("x")})
        finding = make_finding("email", Status.PASS, url)
        store.save_portal(run_id, site, [finding], 1.0, inputs_digest="f" * 64)
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0003_page_parse_key")
    with pytest.raises(DatabaseError) as err:
        open_store(db_url, upgrade=False)
    assert str(err.value).endswith(
        f"schema 0003_page_parse_key is older than this probe (head {SCHEMA_HEAD}); "
        "open it with upgrade enabled"
    )
    with open_store(db_url) as store, store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == (SCHEMA_HEAD,)
        columns = {c["name"] for c in sa.inspect(conn).get_columns("portal_result")}
    assert "inputs_digest" in columns
    with open_store(db_url) as store:
        assert store.previous_findings(url) == ("", [])
        [result] = store.run_results(run_id)
        # The downgrade dropped a column, not the rows hanging on the results.
        assert (result.inputs_digest, len(result.findings), len(result.pages)) == ("", 1, 1)


def test_alembic_writes_to_the_current_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alembic is imported lazily, so its default stdout may be a stream closed since."""
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stdout", swapped)
    assert alembic_config().stdout is swapped
