"""A nightly `probe run` and an on-demand `probe check` writing one database at once.

tests/store/test_concurrency.py hammers the store API from two processes; this is the
operator's version: two real `probe` commands, started so that the check begins while the
run is in progress, on SQLite (WAL, busy timeout, short write transactions) and on
PostgreSQL when PROBE_TEST_DATABASE_URL is set. Neither may fail or say "locked", both
runs must be stored complete, and the SQLite file must pass an integrity check.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from probe.demo.server import DemoServer
from probe.registry import load_registry
from probe.settings import CONFIG_DIR
from tests.safety.safety_helpers import ROOT, CliResult, cli_env, probe_args

ENV = {"PROBE_MIN_DELAY": "0.2"}


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server


def _runs(url: str) -> list[tuple[int, str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if "run" not in sa.inspect(conn).get_table_names():
                return []
            rows = conn.execute(sa.text("SELECT id, trigger, status FROM run ORDER BY id"))
            return [(int(i), str(t), str(s)) for i, t, s in rows]
    finally:
        engine.dispose()


def test_run_and_check_write_one_database_at_once(
    tmp_path: Path, demo: DemoServer, any_db_url: str
) -> None:
    common = ["--allow-private", "--connect-to", demo.connect_to[0], "--ruleset", "nd43-2011",
              "--db", any_db_url]  # fmt: skip
    nightly = subprocess.Popen(
        probe_args("run", *common, "--max-pages", "10", "--format", "json"),
        cwd=ROOT, env=cli_env(tmp_path, ENV), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(t == "manual" for _, t, _ in _runs(any_db_url)):
        assert nightly.poll() is None, nightly.communicate()[1].decode()
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)

    # Three on-demand checks start together while the run is going: their start-up
    # (schema check, registry sync, run row) and their writes contend with each other too.
    procs = [
        subprocess.Popen(
            probe_args("check", agency, *common, "--max-pages", "3", "--format", "json"),
            cwd=ROOT,
            env=cli_env(tmp_path, ENV),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for agency in ("huyen-le-thuy", "so-tu-phap", "phuong-bac-ly")
    ]
    checks = []
    for proc in procs:
        c_out, c_err = proc.communicate(timeout=120)
        checks.append(CliResult(proc.returncode, c_out.decode(), c_err.decode()))
    still_running = nightly.poll() is None
    out, err = nightly.communicate(timeout=120)

    assert nightly.returncode == 0, err.decode()
    for check in checks:
        assert check.code == 0, check.err
        assert "locked" not in check.err.lower() and "Traceback" not in check.err
    assert "locked" not in err.decode().lower()
    assert still_running, "the checks did not overlap the run: make the run slower"

    runs = _runs(any_db_url)
    assert [(t, s) for _, t, s in runs] == [
        ("manual", "finished"), ("on-demand", "finished"), ("on-demand", "finished"),
        ("on-demand", "finished"),
    ]  # fmt: skip
    portals = sum(len(a.portals) for a in load_registry(CONFIG_DIR / "portals.toml").active)
    doc = json.loads(out)
    assert len(doc["portals"]) == portals
    assert all(p["outcome"] == "checked" for p in doc["portals"])
    engine = sa.create_engine(any_db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT run_id, count(*) FROM portal_result GROUP BY run_id"))
        per_run = {int(run_id): int(n) for run_id, n in rows}
        findings = conn.execute(sa.text("SELECT count(*) FROM finding")).scalar()
        if any_db_url.startswith("sqlite"):
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    engine.dispose()
    assert per_run[runs[0][0]] == portals
    assert sorted(per_run[r[0]] for r in runs[1:]) == [1, 1, 2]
    assert findings and findings > 0
