"""Helpers of the safety tests: the real CLI in a subprocess, and servers that count.

The safety promises of issue 6 are promises of the `probe` command an operator runs, so
these tests drive `python -m probe.cli` in a child process (exit code, stderr lines and
the database are what the operator sees) rather than calling functions in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CliResult:
    """What the operator sees of one `probe` invocation."""

    code: int
    out: str
    err: str
    max_rss_kib: int = 0

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def cli_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child `probe`: no inherited PROBE_* and a private data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBE_")}
    env["XDG_DATA_HOME"] = str(home / "xdg")
    env["COLUMNS"] = "200"
    env.update(extra or {})
    return env


def probe_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "probe.cli", *args]


def run_probe(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> CliResult:
    """Run `probe ARGS` to completion; `timeout` only guards against a hang."""
    proc = subprocess.Popen(
        probe_args(*args),
        cwd=ROOT,
        env=cli_env(home, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"probe {' '.join(args)} did not finish: {err.decode()}") from None
    return CliResult(proc.returncode, out.decode(), err.decode())


# A child spawned straight from pytest inherits pytest's own peak RSS (Linux carries the
# old image's high-water mark across fork/vfork + exec), so a big test process made every
# child look ~430 MiB. The launcher is forked small, forks probe, and reports the peak of
# probe alone (os.wait4 of a child forked from a small process) in a file.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_probe_measured(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> CliResult:
    """Like run_probe, but also reports the child's own peak resident memory (KiB, Linux)."""
    rss_file = home / f"rss-{os.getpid()}-{threading.get_ident()}.txt"
    proc = subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, str(rss_file), *probe_args(*args)[1:]],
        cwd=ROOT,
        env=cli_env(home, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return CliResult(
        proc.returncode,
        out.decode(),
        err.decode(),
        int(rss_file.read_text()) if rss_file.exists() else 0,
    )


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections = 0
        self.lock = threading.Lock()

    def verify_request(self, request: Any, client_address: Any) -> bool:
        with self.lock:
            self.connections += 1
        return True


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><head><title>secret</title></head><body>internal</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@contextmanager
def counting_server() -> Iterator[_CountingServer]:
    """An HTTP server on 127.0.0.1 that counts every TCP connection it accepts.

    Counting connections rather than requests makes "zero requests reached it" strict:
    even a connect that never sends a request line is seen.
    """
    server = _CountingServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def assert_one_line(result: CliResult, *needles: str) -> None:
    """Exit 2, exactly one `probe: error:` line on stderr naming every needle, no traceback."""
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("probe: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)


def sqlite_dump(db: Path) -> list[str]:
    """Every row and schema statement of a SQLite file, to prove nothing was written."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())
