"""`kill -9` in the middle of `probe run` loses nothing that was finished (issue 6).

A real subprocess probes six slow portals one at a time; once two are stored it is killed
with SIGKILL. Every portal finished before the kill must be in the database with its
findings, the next command must mark the run `interrupted`, and the next run must work.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HOSTS = [f"xa{i}.slow.quangbinh.gov.vn" for i in range(6)]

PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>UBND xã {n}</title></head>
<body><nav><ul><li><a href="/gioi-thieu">Giới thiệu</a></li><li><a href="/tin-tuc">Tin tức - Sự kiện</a></li></ul></nav>
<main><h1>Cổng thông tin điện tử UBND xã {n}</h1><p>Ngày 20/11/2026: họp giao ban.</p></main>
<footer>Cơ quan chủ quản: UBND xã {n}. Địa chỉ: thôn 1. Điện thoại: (0232) 3822 111</footer></body></html>"""


class SlowPortal(BaseHTTPRequestHandler):
    """Every page takes 0.4 s, so a six-portal run lasts long enough to be killed."""

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            self.send_response(404)
            self.end_headers()
            return
        time.sleep(0.4)
        body = PAGE.format(n=self.headers.get("Host", "?").split(".")[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def slow_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowPortal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def _registry(tmp_path: Path) -> Path:
    entries = "".join(
        f'[[agency]]\nid = "xa-{i}"\nname = "UBND xã {i}"\nlevel = "commune"\n'
        f'portals = ["http://{host}/"]\n\n'
        for i, host in enumerate(HOSTS)
    )
    path = tmp_path / "portals.toml"
    path.write_text(entries, encoding="utf-8")
    return path


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_kill_9_keeps_finished_portals(tmp_path: Path, slow_server: int) -> None:
    db = tmp_path / "probe.sqlite"
    args = [
        sys.executable, "-m", "probe.cli", "run", "--registry", str(_registry(tmp_path)),
        "--db", f"sqlite:///{db}", "--connect-to", f"::127.0.0.1:{slow_server}",
        "--allow-private", "--max-pages", "3", "--ruleset", "nd43-2011",
    ]  # fmt: skip
    env = {**os.environ, "PROBE_PORTAL_CONCURRENCY": "1", "PROBE_MIN_DELAY": "0"}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                stored = _count(db, "select count(*) from portal_result")
            except sqlite3.OperationalError:
                stored = 0  # tables not created yet
            if stored >= 2:
                break
        time.sleep(0.1)
    assert proc.poll() is None, f"run ended before it could be killed: {proc.stderr.read()!r}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    finished = _count(db, "select count(*) from portal_result")
    assert 2 <= finished < len(HOSTS)
    orphans = "select count(*) from portal_result r where not exists (select 1 from finding f where f.result_id = r.id)"
    assert _count(db, orphans) == 0  # every stored portal has its findings
    assert _count(db, "select count(*) from run where status = 'running'") == 1

    rerun = subprocess.run(
        [*args[:-2], "--ruleset", "nd43-2011", "--format", "json"],
        env={**env, "PROBE_PORTAL_CONCURRENCY": "6"},
        capture_output=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert _count(db, "select count(*) from run where status = 'interrupted'") == 1
    assert _count(db, "select count(*) from run where status = 'finished'") == 1
    assert _count(db, "select count(*) from portal_result where run_id = 2") == len(HOSTS)
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
