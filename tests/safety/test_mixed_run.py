"""A real `probe run` over a registry where some portals are hostile: every portal ends.

Issue 6: "A nightly run must finish, report every portal with a reason, … and the other
portals of the same run are checked normally." The registry is the bundled one (the
eleven agencies of the 2015 inspection, served by the demo portals on loopback) plus one
agency per fault of the fault server (tests/net/net_faults.py). One `probe run` subprocess
probes them all; the same healthy agencies are also probed alone, in parallel, and must
come out with exactly the same findings.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from probe.demo.server import DemoServer
from probe.registry import load_registry
from probe.settings import CONFIG_DIR
from tests.net.net_faults import FaultServer
from tests.safety.safety_helpers import ROOT, CliResult, cli_env, probe_args, run_probe_measured

# fault host → (outcome, reason codes that may explain it). Where two codes are listed the
# race between a per-attempt budget and the portal deadline decides which one speaks first.
FAULTS: dict[str, tuple[str, set[str]]] = {
    "hang": ("timeout", {"read_timeout", "deadline"}),
    "trickle": ("timeout", {"slow_response", "deadline"}),
    "endless": ("error", {"too_large"}),
    "huge": ("error", {"too_large"}),
    "huge-nolength": ("error", {"too_large"}),
    "gzip-bomb": ("error", {"decompression_bomb"}),
    "deflate-bomb": ("error", {"decompression_bomb"}),
    "br-bomb": ("error", {"decompression_bomb"}),
    "loop": ("error", {"redirect_loop"}),
    "chain": ("error", {"too_many_redirects"}),
    "e500": ("error", {"http_500"}),
    "e503": ("error", {"http_503"}),
    "reset": ("unreachable", {"connection_reset"}),
    "garbage": ("error", {"invalid_response"}),
    "badlength": ("error", {"incomplete_body"}),
    "image": ("error", {"not_html"}),
    "botwall": ("blocked", {"bot_wall"}),
    "blocked": ("blocked", {"robots_disallow"}),
    "redirect-metadata": ("refused", {"address_refused"}),
    "down": ("unreachable", {"connect_error"}),
}
# Faults a portal survives: it is checked, with what could be read.
SURVIVABLE = ["e429", "cp1258", "invalid-bytes", "many-links", "trap", "robots-hang",
              "robots-huge", "robots-html", "retry503", "gzip-ok"]  # fmt: skip
METADATA = "http://169.254.169.254/latest/meta-data/"
ENV = {"PROBE_READ_TIMEOUT": "0.5", "PROBE_PORTAL_DEADLINE": "8", "PROBE_MIN_DELAY": "0"}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[DemoServer, FaultServer]]:
    faults = FaultServer().start()
    with DemoServer() as demo:
        yield demo, faults
    faults.stop()


def _registry(tmp_path: Path) -> Path:
    """The bundled registry plus one commune-level agency per fault host."""
    text = (CONFIG_DIR / "portals.toml").read_text(encoding="utf-8")
    hosts = [*FAULTS, *SURVIVABLE]
    for host in hosts:
        text += (f'\n[[agency]]\nid = "f-{host}"\nname = "Lỗi {host}"\nlevel = "commune"\n'
                 f'portals = ["http://{host}.test/"]\n')  # fmt: skip
    text += f'\n[[agency]]\nid = "f-metadata"\nname = "Metadata"\nlevel = "commune"\nportals = ["{METADATA}"]\n'
    path = tmp_path / "portals.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _connect_to(demo: DemoServer, faults: FaultServer) -> list[str]:
    rules = [f"{h}::127.0.0.1:{demo.port}" for h in demo.hosts]
    rules.append("down.test::127.0.0.1:9")  # nothing listens on the discard port
    rules.append(f"::127.0.0.1:{faults.port}")
    return [arg for rule in rules for arg in ("--connect-to", rule)]


def _statuses(doc: dict[str, object], agencies: set[str]) -> dict[tuple[str, str, str], str]:
    return {
        (p["agency"], p["url"], f["check"]): f["status"]
        for p in doc["portals"]  # type: ignore[attr-defined]
        if p["agency"] in agencies
        for f in p["findings"]
    }


def test_nightly_run_with_hostile_portals_reports_every_portal(
    tmp_path: Path, servers: tuple[DemoServer, FaultServer]
) -> None:
    demo, faults = servers
    registry_path = _registry(tmp_path)
    registry = load_registry(registry_path)
    healthy = {a.id for a in registry.agencies if not a.id.startswith("f-")}
    common = ["--registry", str(registry_path), "--allow-private", "--max-pages", "6",
              "--ruleset", "nd43-2011", "--format", "json", *_connect_to(demo, faults)]  # fmt: skip
    solo_db = tmp_path / "solo.sqlite"
    solo_args = [a for agency in sorted(healthy) for a in ("--agency", agency)]
    db = tmp_path / "probe.sqlite"
    mixed: CliResult = run_probe_measured(
        "run", *common, "--db", f"sqlite:///{db}", home=tmp_path, env=ENV, timeout=150
    )
    # The solo run comes after, not beside, the mixed one: with 0.5 s read timeouts two
    # CPU-bound runs (and the bombs) on two cores made healthy portals time out by chance.
    solo = subprocess.Popen(
        probe_args("run", *common, *solo_args, "--db", f"sqlite:///{solo_db}"),
        cwd=ROOT, env=cli_env(tmp_path, ENV), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    solo_out, solo_err = solo.communicate(timeout=150)

    assert mixed.code == 0, mixed.err
    assert "Traceback" not in mixed.err
    doc = json.loads(mixed.out)
    assert doc["run"]["status"] == "finished"

    # Every portal of the registry is reported, once, with an outcome and (if not checked) a reason.
    expected_urls = {(a.id, u) for a in registry.agencies for u in a.portals}
    reported = {(p["agency"], p["url"]): p for p in doc["portals"]}
    assert set(reported) == expected_urls and len(doc["portals"]) == len(expected_urls)
    for portal in reported.values():
        if portal["outcome"] != "checked":
            assert portal["reason"]["code"] and portal["reason"]["message"], portal["url"]

    for host, (outcome, codes) in FAULTS.items():
        portal = reported[(f"f-{host}", f"http://{host}.test/")]
        got = (portal["outcome"], portal.get("reason", {}).get("code"))
        assert got[0] == outcome and got[1] in codes, (host, got, portal.get("reason"))
        # No check claims a failure the crawler could not observe (interface.md).
        judged = {f["check"]: f["status"] for f in portal["findings"]}
        assert judged["availability"] in ("fail", "unknown"), (host, judged["availability"])
    for host in SURVIVABLE:
        portal = reported[(f"f-{host}", f"http://{host}.test/")]
        assert portal["outcome"] == "checked", (host, portal.get("reason"))
        assert 1 <= portal["pages_fetched"] <= 6
    meta = reported[("f-metadata", METADATA)]
    assert (meta["outcome"], meta["reason"]["code"]) == ("refused", "address_refused")
    assert faults.hits[("trap.test", "/robots.txt")] >= 1  # the fault server was really used

    # The healthy portals are checked exactly as when they are probed alone.
    assert solo.returncode == 0, solo_err.decode()
    alone = json.loads(solo_out)
    for agency in healthy:
        for url in registry.get(agency).portals:  # type: ignore[union-attr]
            assert reported[(agency, url)]["outcome"] == "checked", (agency, url)
    assert _statuses(doc, healthy) == _statuses(alone, healthy)
    assert doc["agencies"] and {a["agency"] for a in doc["agencies"]} >= healthy

    # … and the database holds the same story: every portal, an outcome, a reason.
    with sqlite3.connect(db) as conn:
        run = conn.execute("select status, portals_total, portals_done from run").fetchall()
        rows = conn.execute(
            "select r.agency_id, p.url, r.outcome, r.reason_code, r.reason_message "
            "from portal_result r join portal p on p.id = r.portal_id"
        ).fetchall()
        findings = conn.execute(
            "select count(distinct result_id) from finding where result_id is not null"
        ).fetchone()[0]
    assert run == [("finished", len(expected_urls), len(expected_urls))]
    assert {(a, u) for a, u, *_ in rows} == expected_urls and len(rows) == len(expected_urls)
    assert all(code and message for _a, _u, outcome, code, message in rows if outcome != "checked")
    assert findings == len(expected_urls)

    # Bombs (64 MiB expanded) and 50 MiB bodies did not inflate the process: the body cap
    # (5 MiB) holds while streaming. Measured: ~150 MiB peak for the whole run.
    assert mixed.max_rss_kib < 400 * 1024, mixed.max_rss_kib
