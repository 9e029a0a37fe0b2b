#!/usr/bin/env python3
"""`make bench`: probe and Scrapy over the same loopback fleet, in one invocation.

Absolute figures drift between machines and runs, so the peer is measured in the same
run and the table's last column is the ratio that issue 7's targets are stated in. Every
process runs under GNU time (`/usr/bin/time -v`): CPU is user + system of the whole
process, peak RSS is its high-water mark. Everything stays on 127.0.0.0/8.

Rows: Scrapy (the yardstick's spider: depth 3, robots.txt, 4 per portal, 32 in total);
probe night 1 (empty database: full fetch, parse, all checks, storage in SQLite); probe
night 2 (same database: conditional requests, 304s); with `--delay`, probe through a proxy
that holds each request, against the ideal wall time the per-host limit allows, with the
whole fleet in flight or, with `--in-flight`, each of several first parts of it (the
ideal stays the same while the CPU time grows with the portals: the run becomes
CPU-bound).

`--rounds K` runs Scrapy and probe's night 1 K times, alternately, and adds a line with
each round's ratio and their median: this VM's speed drifts by ±20 % over minutes, so one
Scrapy run and one probe run a minute apart can differ by more than a change being judged.

Usage: run_bench.py [--portals 200[,1000,2000]] [--no-scrapy] [--delay 1.0]
                    [--in-flight 50,100,200] [--portal-concurrency 8] [--per-host 4]
                    [--nights 2] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import OUT, REPO, Fleet, generate, start_nginx, stop_nginx, write_registry, yardstick_dir

SCRAPY_VENV = OUT / "scrapy-venv"


def ensure_tools(need_scrapy: bool) -> None:
    """nginx and GNU time from Debian, Scrapy in its own venv: installed only if missing."""
    tools = (("nginx", "nginx"), ("time", "/usr/bin/time"))
    missing = [pkg for pkg, path in tools if not shutil.which(path)]
    if missing:
        if os.geteuid() != 0:
            raise SystemExit(f"bench: install {' '.join(missing)} (apt-get install -y ...)")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)
    if need_scrapy and not (SCRAPY_VENV / "bin" / "scrapy").exists():
        subprocess.run([sys.executable, "-m", "venv", str(SCRAPY_VENV)], check=True)
        pip = [str(SCRAPY_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "scrapy>=2.11"], check=True)  # pyproject's `bench` extra


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `cmd` under GNU time; wall, CPU and peak RSS of that process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        started = time.monotonic()
        proc = subprocess.run(
            ["/usr/bin/time", "-v", "-o", tf.name, *cmd],
            env={**os.environ, **(env or {})},
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - started
        report = Path(tf.name).read_text()
    if proc.returncode != 0:
        raise SystemExit(f"bench: {cmd[0]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")

    def field(label: str) -> float:
        m = re.search(re.escape(label) + r":\s*([\d.]+)", report)
        return float(m.group(1)) if m else 0.0

    cpu = field("User time (seconds)") + field("System time (seconds)")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "rss_mb": round(field("Maximum resident set size (kbytes)") / 1024, 1),
        "stdout": proc.stdout,
    }


def run_scrapy(fleet: Fleet, concurrency: int, per_host: int) -> dict:
    script = yardstick_dir() / "scrapy_fleet.py"
    cmd = [str(SCRAPY_VENV / "bin" / "python"), str(script), "--manifest"]
    cmd += [str(fleet.root / "manifest.json"), "--concurrency", str(concurrency)]
    cmd += ["--per-domain", str(per_host), "--out", str(OUT / "scrapy-items.jsonl")]
    r = timed(cmd)
    line = [x for x in r.pop("stdout").splitlines() if x.startswith("{")][-1]
    stats = json.loads(line)
    return {**r, "pages": stats["responses"], "bytes": stats.get("bytes") or 0}


def run_probe(
    fleet: Fleet,
    db: Path,
    *,
    portal_concurrency: int,
    per_host: int,
    port: int | None = None,
    portals: int | None = None,
) -> dict:
    """One `probe run` over the fleet (its first `portals`); pages and bytes come from the
    run it stored."""
    name = f"registry-{fleet.portals}" + ("" if port is None else f"-via-{port}-{portals}")
    registry = write_registry(fleet, OUT / f"{name}.toml", port, portals)
    env = {
        "PROBE_PER_HOST": str(per_host),
        "PROBE_PORTAL_CONCURRENCY": str(portal_concurrency),
        "PROBE_MIN_DELAY": "0",
        "PROBE_MAX_PAGES": "60",
    }
    cmd = [sys.executable, "-m", "probe.cli", "run", "--registry", str(registry)]
    cmd += ["--db", f"sqlite:///{db}", "--allow-private", "--max-depth", "3", "--format", "json"]
    r = timed(cmd, env)
    r.pop("stdout")
    with sqlite3.connect(db) as con:
        pages, size, checked = con.execute(
            "SELECT SUM(pages_fetched), SUM(bytes_received), SUM(outcome = 'checked')"
            " FROM portal_result WHERE run_id = (SELECT MAX(id) FROM run)"
        ).fetchone()
        not_modified = con.execute(
            "SELECT COUNT(*) FROM page JOIN portal_result r ON r.id = page.result_id"
            " WHERE r.run_id = (SELECT MAX(id) FROM run) AND page.not_modified"
        ).fetchone()[0]
    return {**r, "pages": pages or 0, "bytes": size or 0, "checked": checked or 0,
            "not_modified": not_modified}  # fmt: skip


def run_delayed(fleet: Fleet, delay: float, per_host: int, in_flight: int) -> dict:
    """probe through the delaying proxy over the fleet's first `in_flight` portals, all
    in flight at once.

    The ideal is what the per-host limit allows: robots.txt, then the home page, then
    the rest `per_host` at a time, `delay` each. It does not grow with the portals in
    flight, but the CPU time does; once that is above the ideal, the run is CPU-bound,
    and the line also gives wall time over the larger of the two.
    """
    port = fleet.port + 1
    proxy = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "delay_proxy.py"), "--manifest",
         str(fleet.root / "manifest.json"), "--listen-port", str(port), "--delay", str(delay)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proxy.stdout is not None
        if proxy.stdout.readline().strip() != "ready":
            raise SystemExit("bench: delay proxy did not start")
        db = OUT / f"delay-{fleet.portals}-{in_flight}.sqlite"
        db.unlink(missing_ok=True)
        r = run_probe(
            fleet, db, portal_concurrency=in_flight, per_host=per_host, port=port,
            portals=in_flight,
        )  # fmt: skip
    finally:
        proxy.terminate()
        proxy.wait(10)
    pages_per_portal = r["pages"] / max(1, in_flight)
    ideal = delay * (2 + -(-(pages_per_portal - 1) // per_host))
    bound = max(ideal, r["cpu_s"])
    return {**r, "in_flight": in_flight, "ideal_s": round(ideal, 2),
            "wall_over_ideal": round(r["wall_s"] / ideal, 2),
            "wall_over_bound": round(r["wall_s"] / bound, 2)}  # fmt: skip


def _ms(r: dict) -> float:
    """CPU milliseconds a page of a timed run."""
    return 1000 * r["cpu_s"] / max(1, r["pages"])


def row(name: str, r: dict, peer: dict | None) -> str:
    ms = _ms(r)
    ratio = ""
    if peer is not None:
        ratio = f"{_ms(peer) / ms:.2f}x"
    return (
        f"| {name} | {r['pages']} | {r['pages'] / r['wall_s']:.0f} | {ms:.2f} | "
        f"{r['rss_mb']:.0f} | {r['bytes'] / 1e6:.1f} | {ratio} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--portals", default="200", help="comma-separated fleet sizes")
    ap.add_argument("--no-scrapy", action="store_true")
    ap.add_argument("--nights", type=int, default=2)
    ap.add_argument("--delay", type=float, default=0.0, help="also run through a delaying proxy")
    ap.add_argument("--portal-concurrency", type=int, default=8)
    ap.add_argument("--per-host", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=1, help="Scrapy and night 1, alternated")
    ap.add_argument(
        "--in-flight",
        default="",
        help="comma-separated portal counts for the delayed runs (default: the whole fleet)",
    )
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_tools(not a.no_scrapy)
    results = []
    lines = [
        "| run | pages | pages/s | CPU ms/page | peak RSS MB | MB received | Scrapy ÷ this |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in (int(x) for x in a.portals.split(",")):
        fleet = generate(n)
        start_nginx(fleet)
        try:
            db = OUT / f"probe-{n}.sqlite"
            ratios: list[float] = []
            for turn in range(1, max(1, a.rounds) + 1):
                label = f" (round {turn})" if a.rounds > 1 else ""
                peer = None
                if not a.no_scrapy:
                    peer = run_scrapy(fleet, a.portal_concurrency * a.per_host, a.per_host)
                    lines.append(row(f"Scrapy, {n} portals{label}", peer, None))
                    results.append({"run": "scrapy", "portals": n, "round": turn, **peer})
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                first = run_probe(
                    fleet, db, portal_concurrency=a.portal_concurrency, per_host=a.per_host
                )
                lines.append(row(f"probe night 1, {n} portals{label}", first, peer))
                results.append({"run": "probe-night1", "portals": n, "round": turn, **first})
                if peer is not None:
                    ratios.append(_ms(peer) / _ms(first))
            if len(ratios) > 1:
                shown = ", ".join(f"{x:.2f}x" for x in ratios)
                lines.append(f"| Scrapy ÷ probe night 1, {n} portals: {shown}; median"
                             f" {statistics.median(ratios):.2f}x | | | | | | |")  # fmt: skip
            for night in range(2, a.nights + 1):
                r = run_probe(
                    fleet, db, portal_concurrency=a.portal_concurrency, per_host=a.per_host
                )
                lines.append(row(f"probe night {night}, {n} portals", r, peer))
                share = r["bytes"] / max(1, first["bytes"]), r["cpu_s"] / first["cpu_s"]
                lines[-1] += f" bytes {share[0]:.1%}, CPU {share[1]:.1%} of night 1"
                results.append({"run": f"probe-night{night}", "portals": n, **r})
            if a.delay:
                counts = [int(x) for x in a.in_flight.split(",") if x] or [n]
                for k in (min(k, n) for k in counts):
                    r = run_delayed(fleet, a.delay, a.per_host, k)
                    label = f"probe, {a.delay:g} s delay, {k} portals in flight"
                    lines.append(row(label, r, None))
                    lines[-1] += (
                        f" wall {r['wall_s']:.1f} s = {r['wall_over_ideal']:.2f}x"
                        f" the ideal {r['ideal_s']:.1f} s; CPU {r['cpu_s']:.1f} s"
                    )
                    if r["cpu_s"] > r["ideal_s"]:
                        lines[-1] += f", wall {r['wall_over_bound']:.2f}x that (CPU-bound)"
                    results.append({"run": f"probe-delay{a.delay:g}", "portals": n, **r})
        finally:
            stop_nginx(fleet)
    machine = (
        f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()}"
    )
    print(f"\n{machine}, {time.strftime('%Y-%m-%d %H:%M')}\n")
    print("\n".join(lines))
    with open(OUT / "results.jsonl", "a", encoding="utf-8") as f:
        for r in results:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            f.write(json.dumps({"time": stamp, "machine": machine, **r}) + "\n")


if __name__ == "__main__":
    main()
