"""The checks against what an inspector concluded from the sample portals (expected.toml).

One crawl of the whole demo fleet per session, through the real server, crawler, checks
and SQLite store; every finding of every portal is then compared with the intended
status and figures. A divergence here means either a check or the expectation is wrong:
decide which by reading the page, never by loosening the assertion.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from checks.base import Finding
from checks.ruleset import load_ruleset
from probe.cli import main, registry_targets
from probe.demo.server import DemoServer
from probe.registry import load_registry
from probe.runner import RunSummary, execute_run
from probe.settings import CONFIG_DIR, ConnectTo, Settings
from probe.store.db import open_store

EXPECTED = tomllib.loads(
    (Path(__file__).resolve().parents[2] / "probe/demo/expected.toml").read_text("utf-8")
)
PORTALS = {p["url"]: p for p in EXPECTED["portal"]}
AGENCIES = {a["id"]: a for a in EXPECTED["agency"]}
REGISTRY = CONFIG_DIR / "portals.toml"


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoServer]:
    """The sample portals, their news dated against the run's own (UTC) calendar day."""
    with DemoServer(today=datetime.now(UTC).date()) as server:
        yield server


@pytest.fixture(scope="session")
def fleet(demo_server: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    """One nd43-2011 run over every portal of the registry, stored in a real SQLite file."""
    db = tmp_path_factory.mktemp("e2e") / "demo.sqlite"
    settings = Settings().with_(
        db_url=f"sqlite:///{db}",
        connect_to=tuple(ConnectTo.parse(c) for c in demo_server.connect_to),
        allow_private=True,
        min_delay=0.01,
        retry_backoff=0.01,
    )
    targets = registry_targets(load_registry(REGISTRY))
    return asyncio.run(
        execute_run(
            targets,
            settings=settings,
            store=open_store(settings.db_url),
            ruleset=load_ruleset("nd43-2011"),
            trigger="manual",
        )
    )


def _by_check(findings: tuple[Finding, ...] | list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def test_every_expected_portal_was_checked(fleet: RunSummary) -> None:
    seen = {p.url: p.outcome for p in fleet.portals}
    assert set(PORTALS) <= set(seen)
    assert {seen[url] for url in PORTALS} == {"checked"}


@pytest.mark.parametrize("url", sorted(PORTALS))
def test_portal_findings_match_expected(fleet: RunSummary, url: str) -> None:
    report = next(p for p in fleet.portals if p.url == url)
    got = _by_check(report.findings)
    expect: dict[str, str] = PORTALS[url]["expect"]
    wrong = {
        cid: (want, str(got[cid].status) if cid in got else None, _said(got.get(cid)))
        for cid, want in expect.items()
        if cid not in got or str(got[cid].status) != want
    }
    assert not wrong, f"{url}: check -> (expected, got, message): {wrong}"
    unexpected = set(got) - set(expect)
    assert not unexpected, f"{url}: findings expected.toml does not list: {unexpected}"


@pytest.mark.parametrize("url", sorted(PORTALS))
def test_portal_details_match_expected(fleet: RunSummary, url: str) -> None:
    report = next(p for p in fleet.portals if p.url == url)
    got = _by_check(report.findings)
    for key, want in PORTALS[url].get("details", {}).items():
        cid, field = key.rsplit(".", 1)
        assert got[cid].details.get(field) == want, f"{url}: {key}"


@pytest.mark.parametrize("agency", sorted(AGENCIES))
def test_agency_findings_match_expected(fleet: RunSummary, agency: str) -> None:
    got = _by_check(fleet.agencies[agency])
    for cid, want in AGENCIES[agency]["expect"].items():
        assert str(got[cid].status) == want, f"{agency} {cid}: {_said(got[cid])}"


def _said(finding: Finding | None) -> str:
    return "" if finding is None else finding.message.get("en", "")


def test_cli_check_json_shape_and_evidence(
    demo_server: DemoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`probe check AGENCY --format json` prints interface.md's document, with evidence."""
    monkeypatch.setenv("PROBE_MIN_DELAY", "0.01")
    code = main(
        [
            "check",
            "huyen-le-thuy",
            "--format",
            "json",
            "--ruleset",
            "nd43-2011",
            "--registry",
            str(REGISTRY),
            "--db",
            f"sqlite:///{tmp_path / 'cli.sqlite'}",
            "--connect-to",
            demo_server.connect_to[0],
            "--allow-private",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    doc: dict[str, Any] = json.loads(out)
    assert set(doc) >= {"run", "portals", "agencies"}
    assert doc["run"]["ruleset"] == "nd43-2011"
    assert set(doc["run"]) >= {"id", "trigger", "ruleset", "started_at", "finished_at"}
    urls = {p["url"] for p in doc["portals"]}
    assert urls == {"http://lethuy.quangbinh.gov.vn/", "http://lethuy.gov.vn/"}
    for portal in doc["portals"]:
        assert set(portal) >= {"agency", "url", "outcome", "score", "pages_fetched", "findings"}
        assert portal["agency"] == "huyen-le-thuy"
        assert portal["outcome"] == "checked"
        assert 0.0 <= portal["score"] <= 1.0
        expect = PORTALS[portal["url"]]["expect"]
        for finding in portal["findings"]:
            assert set(finding) >= {"check", "status", "message", "evidence", "details"}
            assert finding["status"] == expect[finding["check"]], finding
            if finding["status"] in ("pass", "fail", "warn"):
                assert finding["evidence"], finding
                for ev in finding["evidence"]:
                    assert ev["url"].startswith("http") and ev["text"].strip(), finding
    (agency,) = doc["agencies"]
    assert agency["agency"] == "huyen-le-thuy"
    parallel = {f["check"]: f for f in agency["findings"]}["portal.parallel"]
    assert parallel["status"] == "fail"
