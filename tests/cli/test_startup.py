"""What `probe run` loads before its first portal (issue 7): what the run needs, no more.

The loading is checked in fresh processes (a test process has long imported everything),
on a registry whose only agency is inactive: the run opens the store, loads the ruleset
and every module a crawl needs, and ends without a request.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from probe.cli import main
from probe.demo.server import DemoServer

ROOT = Path(__file__).resolve().parents[2]

REPORT = """
import gc, json, sys, weakref
from probe.cli import main
code = main(sys.argv[1:])
class Node: pass
node = Node(); node.me = node; alive = weakref.ref(node); del node  # garbage in a cycle
young = [[] for _ in range(200_000)]  # enough new objects for a collection
loaded = sorted({m.split(".")[0] for m in sys.modules if m.startswith(("rich", "pygments"))})
print(json.dumps({"code": code, "loaded": loaded, "httpx_main": "httpx._main" in sys.modules
                  and sys.modules["httpx._main"] is not None, "gc": gc.isenabled(),
                  "frozen": gc.get_freeze_count(), "threshold": gc.get_threshold(),
                  "cycle_collected": alive() is None,
                  "postgresql": "sqlalchemy.dialects.postgresql" in sys.modules}), file=sys.stderr)
"""


def _idle_registry(tmp_path: Path) -> Path:
    registry = tmp_path / "portals.toml"
    registry.write_text(
        '[[agency]]\nid = "idle"\nname = "Idle"\nlevel = "department"\n'
        'portals = ["http://127.0.0.1:9/"]\nactive = false\n',
        encoding="utf-8",
    )
    return registry


def _fresh_run(tmp_path: Path, *options: str) -> tuple[str, dict[str, object]]:
    args = ["run", "--registry", str(_idle_registry(tmp_path)),
            "--db", f"sqlite:///{tmp_path / 'p.sqlite'}", "--lang", "en", *options]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", REPORT, *args], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def test_json_run_loads_no_terminal_library_and_freezes_what_it_loaded(tmp_path: Path) -> None:
    _fresh_run(tmp_path, "--format", "json")  # creates the schema (Alembic, mako, pygments)
    out, seen = _fresh_run(tmp_path, "--format", "json")
    doc = json.loads(out)
    assert seen["code"] == 0 and doc["portals"] == [] and doc["run"]["status"] == "finished"
    assert seen["loaded"] == [] and seen["httpx_main"] is False
    assert seen["postgresql"] is False  # a SQLite run needs no PostgreSQL dialect
    # the collector is back on, and the libraries, ruleset and store are out of its sight
    assert seen["gc"] is True and int(str(seen["frozen"])) > 100_000
    # it runs less often than Python's default (700 new objects), and still finds cycles
    assert seen["threshold"][0] > 700 and seen["cycle_collected"] is True  # type: ignore[index]


def test_table_run_still_draws_with_rich(tmp_path: Path) -> None:
    out, seen = _fresh_run(tmp_path, "--format", "table")
    assert seen["code"] == 0 and "rich" in seen["loaded"]
    assert "Run 1: 0 portals, 0 checked, 0 not reachable [finished]" in out


def test_httpx_keeps_working_without_its_command_line_client() -> None:
    import httpx

    import probe.net  # noqa: F401 - the package that keeps httpx's CLI out

    response = httpx.MockTransport(lambda request: httpx.Response(204)).handle_request(
        httpx.Request("GET", "http://127.0.0.1/")
    )
    assert response.status_code == 204 and callable(httpx.main)


def test_a_failed_start_leaves_the_collector_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["run", "--registry", str(_idle_registry(tmp_path)), "--db", "mysql://x/y"])
    assert code == 2 and "SQLite and PostgreSQL only" in capsys.readouterr().err
    assert gc.isenabled()


def _demo_run(tmp_path: Path, name: str, server: DemoServer) -> None:
    code = main(
        ["run", "--format", "json", "--allow-private", "--ruleset", "nd43-2011",
         "--agency", "so-tu-phap", "--agency", "so-cong-thuong",
         "--db", f"sqlite:///{tmp_path / name}",
         *(f"--connect-to={spec}" for spec in server.connect_to)]
    )  # fmt: skip
    assert code == 0


def test_progress_bar_on_a_terminal_changes_nothing_in_the_result(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def portals(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
        return sorted(
            (p["url"], p["outcome"], p["score"], [(f["check"], f["status"]) for f in p["findings"]])
            for p in doc["portals"]
        )

    with DemoServer() as server:
        _demo_run(tmp_path, "plain.sqlite", server)
        plain = json.loads(capsys.readouterr().out)
        leader, follower = os.openpty()
        with os.fdopen(follower, "w") as terminal:
            monkeypatch.setattr(sys, "stderr", terminal)
            assert sys.stderr.isatty()
            _demo_run(tmp_path, "tty.sqlite", server)
        os.set_blocking(leader, False)
        drawn = os.read(leader, 1 << 16)
        os.close(leader)
    shown = json.loads(capsys.readouterr().out)  # the bar drew on the terminal, not in the JSON
    assert drawn
    assert len(plain["portals"]) == 2
    assert portals(shown) == portals(plain)
