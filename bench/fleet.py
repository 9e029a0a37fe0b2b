"""The benchmark fleet: generated portals, served by nginx on 127.0.x.y, and a registry.

The fleet itself comes from the yardstick's generator (`shared/bench/gen_fleet.py`, beside
the repository in CI) so probe and Scrapy are measured on exactly the pages the README's
figures were taken on. This module only finds that generator, runs nginx on its output
(each fleet in its own directory with its own pid file, so nothing else is touched) and
writes the registry `probe run` reads.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"


def yardstick_dir() -> Path:
    """`shared/bench/` beside the repository (CI), or `$PROBE_BENCH_SHARED`."""
    candidates = [
        Path(os.environ.get("PROBE_BENCH_SHARED", "")),
        REPO.parent / "shared" / "bench",
        Path("/work/shared/bench"),
    ]
    for path in candidates:
        if str(path) and (path / "gen_fleet.py").is_file():
            return path
    raise SystemExit("bench: cannot find shared/bench/gen_fleet.py (set PROBE_BENCH_SHARED)")


@dataclass(frozen=True)
class Fleet:
    """A generated fleet on disk."""

    root: Path
    portals: int
    port: int

    @property
    def manifest(self) -> dict:
        return json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))

    @property
    def pid_file(self) -> Path:
        return self.root / "nginx" / "nginx.pid"

    def origins(self) -> list[str]:
        return [p["origin"] for p in self.manifest["portals"]]


def generate(portals: int, port: int = 8080, seed: int = 1) -> Fleet:
    """Generate (once) the fleet of `portals` portals under bench/out/fleet-N."""
    root = OUT / f"fleet-{portals}"
    fleet = Fleet(root, portals, port)
    if (root / "manifest.json").is_file() and len(fleet.manifest["portals"]) == portals:
        return fleet
    cmd = [sys.executable, str(yardstick_dir() / "gen_fleet.py"), "--out", str(root)]
    cmd += ["--portals", str(portals), "--port", str(port), "--seed", str(seed)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return fleet


def write_registry(
    fleet: Fleet, path: Path, port: int | None = None, portals: int | None = None
) -> Path:
    """One agency per portal: the registry `probe run` crawls (via `port` if given), of
    the fleet's first `portals` portals if given."""
    lines = []
    for p in fleet.manifest["portals"][:portals]:
        origin = p["origin"] if port is None else f"http://{p['ip']}:{port}"
        lines += [
            "[[agency]]",
            f'id = "{p["id"]}"',
            f"name = {json.dumps('Cổng thông tin điện tử ' + p['name'], ensure_ascii=False)}",
            'level = "department"',
            f'portals = ["{origin}/"]',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _running(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start_nginx(fleet: Fleet) -> int:
    """Start nginx on the fleet (if not already running); return the master's pid."""
    pid = _running(fleet.pid_file)
    if pid is not None:
        return pid
    if shutil.which("nginx") is None:
        raise SystemExit("bench: nginx is not installed (apt-get install -y nginx)")
    _refuse_if_taken(fleet)
    conf = str(fleet.root / "nginx.conf")
    prefix = str(fleet.root / "nginx") + "/"
    subprocess.run(
        ["nginx", "-c", conf, "-p", prefix, "-g", "daemon on;"],
        check=True,
        stderr=subprocess.DEVNULL,
        preexec_fn=_raise_nofile,
    )
    first = fleet.origins()[0] + "/"
    for _ in range(50):
        try:
            with urllib.request.urlopen(first, timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    pid = _running(fleet.pid_file)
    if pid is None:
        raise SystemExit(f"bench: nginx did not start (see {fleet.root}/nginx/error.log)")
    return pid


def _refuse_if_taken(fleet: Fleet) -> None:
    """Stop if something already answers on the fleet's first address.

    Every fleet the generator makes listens on the same addresses and port with
    `reuseport`, so a fleet of another size left running shares the listeners silently:
    the kernel spreads connections over both, pages come from two trees with different
    mtimes, and a second night sees new ETags (seen: 11.5 % of bytes fetched again instead
    of ~2 %).
    """
    host, _, port = fleet.origins()[0].removeprefix("http://").partition(":")
    try:
        with socket.create_connection((host, int(port or 80)), timeout=0.5):
            pass
    except OSError:
        return
    raise SystemExit(
        f"bench: something already listens on {host}:{port} (a fleet left running? "
        "pkill -f 'nginx -c .*/bench/out/fleet-')"
    )


def stop_nginx(fleet: Fleet) -> None:
    """Stop the nginx this fleet's pid file names (and only it)."""
    pid = _running(fleet.pid_file)
    if pid is None:
        return
    os.kill(pid, signal.SIGQUIT)
    for _ in range(50):
        if _running(fleet.pid_file) is None:
            return
        time.sleep(0.1)


def _raise_nofile() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
