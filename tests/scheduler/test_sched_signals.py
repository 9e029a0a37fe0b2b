"""SIGTERM to a real `probe schedule` process mid-run: an `interrupted` run, nothing lost.

The job store is seeded with a night missed while the process was down, so the subprocess
starts its nightly run at once (the restart path), over six slow portals one at a time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sched_helpers import PortalServer, make_settings, seed_missed, write_registry

from probe.registry import load_registry
from probe.scheduler import plan_jobs
from probe.store.db import open_store

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_sigterm_leaves_an_interrupted_run_with_its_finished_portals(
    tmp_path: Path, sqlite_url: str, slow_portals: PortalServer
) -> None:
    registry = load_registry(write_registry(tmp_path / "r.toml", 6))
    settings = make_settings(registry.path, sqlite_url, slow_portals)
    plan = plan_jobs(registry, "0 2 * * *", TZ, cron_where="--cron")
    store = open_store(sqlite_url)
    seed_missed(store, plan, settings, datetime.now(TZ) - timedelta(hours=2))

    args = [
        sys.executable, "-m", "probe.cli", "schedule", "--registry", str(registry.path),
        "--db", sqlite_url, "--connect-to", slow_portals.connect_to, "--allow-private",
        "--max-pages", "3", "--ruleset", "nd43-2011", "--cron", "0 2 * * *",
        "--timezone", "Asia/Ho_Chi_Minh",
    ]  # fmt: skip
    env = {**os.environ, "PROBE_PORTAL_CONCURRENCY": "1", "PROBE_MIN_DELAY": "0"}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            runs = store.list_runs(5)
            done = runs[0].portals_done if runs else 0
            if done >= 2:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
        assert done >= 2
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()

    (run,) = store.list_runs(5)
    assert (run.trigger, run.status) == ("nightly", "interrupted")
    assert run.finished_at is not None
    results = store.run_results(run.id)
    assert 2 <= len(results) == run.portals_done < 6
    assert all(r.findings for r in results)  # each finished portal kept with its findings

    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    portal_lines = [line for line in lines if line["event"] == "portal done"]
    assert len(portal_lines) == len(results)
    assert {"duration_s", "pages", "outcome", "score"} <= set(portal_lines[0])
    assert any(line["event"] == "run done" and line["status"] == "interrupted" for line in lines)

    status = subprocess.run(
        [sys.executable, "-m", "probe.cli", "status", "--db", sqlite_url, "--format", "json"],
        capture_output=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr.decode()
    shown = json.loads(status.stdout)
    assert shown["runs"][0]["id"] == run.id
    assert shown["runs"][0]["status"] == "interrupted"
    assert shown["runs"][0]["portals_done"] == len(results)
    (job,) = shown["jobs"]
    next_run = datetime.fromisoformat(job["next_run_time"])
    assert next_run > datetime.now(TZ)  # the missed night was consumed, the next is scheduled
    assert (next_run.hour, next_run.minute) == (2, 0)
    store.close()
