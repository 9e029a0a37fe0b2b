"""Two processes writing one SQLite file at once (a nightly run and an on-demand check)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa

from probe.store import open_store

ROOT = Path(__file__).resolve().parents[2]
PORTALS = 40

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from checks.base import Evidence, Finding, Status
    from probe.artifacts import Page, PortalArtifacts
    from probe.store import open_store
    import hashlib

    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    now = datetime.now(UTC)
    with open_store(url) as store:  # both processes may be first: migration races too
        run_id = store.start_run(name, "nd43-2011", 1, {}, count)
        for i in range(count):
            bodies = [b"<p>shared home</p>" * 50, f"<p>{name} {i}</p>".encode() * 50]
            pages = tuple(
                Page(url=f"http://{name}-{i}.test/{j}", final_url="", status=200,
                     content_hash=hashlib.sha256(b).hexdigest(), size=len(b), fetched_at=now)
                for j, b in enumerate(bodies)
            )
            site = PortalArtifacts(
                agency_id=name, agency_level="district", url=f"http://{name}-{i}.test/",
                now=now, pages=pages, bodies={p.content_hash: b for p, b in zip(pages, bodies)},
            )
            finding = Finding("availability", Status.PASS, {"vi": "có", "en": "up"},
                              (Evidence(site.url, "200"),))
            store.save_portal(run_id, site, [finding], 1.0)
            store.heartbeat(run_id)
            store.validators_for(site.url)
        store.finish_run(run_id, "finished")
    print(run_id)
    """
)


def test_two_processes_hammering_one_sqlite_file_both_succeed(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    url = f"sqlite:///{db}"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), url, name, str(PORTALS)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("nightly", "on-demand")
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    with open_store(url) as store:
        runs = store.list_runs(10)
        assert sorted(r.trigger for r in runs) == ["nightly", "on-demand"]
        for run in runs:
            assert (run.status, run.portals_done, run.portals_failed) == ("finished", PORTALS, 0)
            results = store.run_results(run.id)
            assert len(results) == PORTALS
            assert all(len(r.pages) == 2 and len(r.findings) == 1 for r in results)
        with store.session() as s:
            blobs = s.execute(sa.text("SELECT count(*) FROM blob")).scalar()
    assert blobs == 1 + 2 * PORTALS  # the shared home body is stored once
