"""Runs and results: partial failures, interrupted runs, replays, reads for the report."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from checks.base import Status
from probe.artifacts import FetchFailure
from probe.store import Store
from probe.store.models import Portal
from tests.store.conftest import NOW, FakeAgency, body_of, make_finding, make_site

LE_THUY = FakeAgency(
    "huyen-le-thuy",
    "UBND huyện Lệ Thủy",
    name_en="Le Thuy District People's Committee",
    portals=["http://lethuy.test/", "http://lethuy2.test/"],
)
SO_TTTT = FakeAgency(
    "so-tttt", "Sở Thông tin và Truyền thông", level="department", portals=["http://stttt.test/"]
)


def _run(store: Store, total: int = 3) -> int:
    return store.start_run("manual", "nd43-2011", 1, {"max_pages": 60, "extra": {1, 2}}, total)


def test_three_portals_one_failing_keeps_all_three(store: Store) -> None:
    store.sync_registry([LE_THUY, SO_TTTT])
    run_id = _run(store)
    broken = FetchFailure("http://lethuy.test/lien-he", "http_status", "HTTP 404", 404)
    site1 = make_site(
        "http://lethuy.test/",
        bodies={"": body_of("Trang chủ"), "gioi-thieu": body_of("Giới thiệu")},
        failures=(broken,),
    )
    site2 = make_site("http://lethuy2.test/", outcome="unreachable")
    site3 = make_site("http://stttt.test/", "so-tttt", bodies={"": body_of("Sở TTTT")})
    fail = make_finding("section.legal_documents", Status.FAIL, "http://lethuy.test/")
    ok = make_finding("section.intro", Status.PASS, "http://lethuy.test/gioi-thieu")
    store.save_portal(run_id, site1, [ok, fail], 0.5)
    store.save_portal(run_id, site2, [], None)
    store.save_portal(run_id, site3, [ok], 1.0)
    parallel = make_finding("portal.parallel", Status.FAIL, "http://lethuy2.test/")
    assert store.save_agency_findings(run_id, "huyen-le-thuy", [parallel]) == 1
    store.finish_run(run_id, "finished")

    run = store.get_run(run_id)
    assert run is not None
    assert (run.status, run.portals_total, run.portals_done, run.portals_failed) == (
        "finished",
        3,
        3,
        1,
    )
    assert run.settings == {"max_pages": 60, "extra": [1, 2]}
    assert run.host.endswith(":" + str(os.getpid()))
    assert run.finished_at is not None and run.finished_at.tzinfo is not None

    results = {r.portal_url: r for r in store.run_results(run_id)}
    assert set(results) == {"http://lethuy.test/", "http://lethuy2.test/", "http://stttt.test/"}
    first = results["http://lethuy.test/"]
    assert (first.outcome, first.score, first.pages_fetched) == ("checked", 0.5, 2)
    assert first.bytes_received == sum(len(body_of(t)) for t in ("Trang chủ", "Giới thiệu"))
    assert [p.url for p in first.pages] == [
        "http://lethuy.test/",
        "http://lethuy.test/gioi-thieu",
        "http://lethuy.test/lien-he",
    ]
    assert first.pages[2].failed and first.pages[2].error_code == "http_status"
    assert first.pages[2].status == 404
    assert [f.check for f in first.findings] == ["section.intro", "section.legal_documents"]
    stored_fail = first.findings[1]
    assert stored_fail.status is Status.FAIL
    assert stored_fail.message == {
        "vi": "Mục section.legal_documents",
        "en": "Item section.legal_documents",
    }
    assert stored_fail.evidence == fail.evidence
    assert stored_fail.details == {"newest": NOW.date().isoformat(), "count": 3}
    assert stored_fail.weight == 2.0
    down = results["http://lethuy2.test/"]
    assert down.outcome == "unreachable" and down.score is None
    assert down.reason is not None and down.reason.code == "connect_error"
    assert [(p.url, p.error_code) for p in down.pages] == [("http://lethuy2.test/", "unreachable")]
    [(agency, (stored_parallel,))] = store.agency_findings(run_id).items()
    assert agency == "huyen-le-thuy"
    assert (stored_parallel.check, stored_parallel.status) == ("portal.parallel", Status.FAIL)
    assert stored_parallel.evidence == parallel.evidence


def test_interrupted_run_is_marked_and_keeps_its_portal(store: Store) -> None:
    store.sync_registry([LE_THUY])
    run_id = _run(store, total=2)
    store.save_portal(run_id, make_site("http://lethuy.test/", bodies={"": body_of("a")}), [], 1.0)
    # Alive (fresh heartbeat, our own pid): left alone.
    assert store.mark_abandoned_runs(timedelta(minutes=10)) == []
    later = store.get_run(run_id).heartbeat_at + timedelta(hours=1)  # type: ignore[union-attr]
    assert store.mark_abandoned_runs(timedelta(minutes=10), now=later) == [run_id]
    run = store.get_run(run_id)
    assert run is not None and run.status == "interrupted"
    assert run.finished_at == run.heartbeat_at
    assert [r.portal_url for r in store.run_results(run_id)] == ["http://lethuy.test/"]
    assert store.mark_abandoned_runs(timedelta(minutes=10), now=later) == []


def test_run_of_a_dead_local_process_is_marked_at_once(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    script = tmp_path / "start.py"
    script.write_text(
        "import sys\nfrom probe.store import open_store\n"
        "with open_store(sys.argv[1]) as s:\n"
        "    print(s.start_run('scheduled', 'nd42-2022', 1, {}, 5))\n"
    )
    out = subprocess.run(
        [sys.executable, str(script), db_url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    dead_run = int(out.stdout.strip())
    mine = _run(store)
    assert store.mark_abandoned_runs(timedelta(days=1)) == [dead_run]
    assert store.get_run(mine).status == "running"  # type: ignore[union-attr]


def test_resaving_a_portal_replaces_it_and_keeps_counters_right(store: Store) -> None:
    run_id = _run(store)
    url = "http://lethuy.test/"
    store.save_portal(run_id, make_site(url, outcome="timeout"), [], None)
    store.save_portal(
        run_id,
        make_site(url, bodies={"": body_of("x")}),
        [make_finding("freshness", Status.WARN, url)],
        0.8,
    )
    run = store.get_run(run_id)
    assert run is not None and (run.portals_done, run.portals_failed) == (1, 0)
    [result] = store.run_results(run_id)
    assert result.outcome == "checked" and [f.check for f in result.findings] == ["freshness"]
    assert [p.error_code for p in result.pages] == [""]


def test_unknown_portal_url_gets_a_row(store: Store) -> None:
    store.sync_registry([LE_THUY])
    run_id = _run(store)
    store.save_portal(
        run_id,
        make_site("http://adhoc.test/", "no-such-agency", bodies={"": body_of("x")}),
        [],
        None,
    )
    store.save_portal(
        run_id,
        make_site("http://new.lethuy.test/", "huyen-le-thuy", bodies={"": body_of("y")}),
        [],
        None,
    )
    with store.session() as s:
        rows = dict(s.execute(sa.select(Portal.url, Portal.agency_id)).all())
    assert rows["http://adhoc.test/"] is None
    assert rows["http://new.lethuy.test/"] == "huyen-le-thuy"
    assert {r.agency_id for r in store.run_results(run_id)} == {"no-such-agency", "huyen-le-thuy"}


def test_registry_sync_updates_in_place(store: Store) -> None:
    store.sync_registry([LE_THUY])
    renamed = FakeAgency(
        LE_THUY.id, "UBND huyện Lệ Thủy (mới)", active=False, portals=["http://lethuy.test/"]
    )
    store.sync_registry([renamed])
    with store.session() as s:
        name, active = s.execute(sa.text("SELECT name, active FROM agency")).one()
        portals = s.execute(sa.text("SELECT count(*) FROM portal")).scalar()
    assert (name, bool(active), portals) == ("UBND huyện Lệ Thủy (mới)", False, 2)


def test_reads_latest_list_history(store: Store) -> None:
    url = "http://lethuy.test/"
    ids = []
    for trigger, score in (("scheduled", 0.4), ("on-demand", 0.6), ("scheduled", 0.9)):
        run_id = store.start_run(trigger, "nd43-2011", 1, {}, 1)
        store.save_portal(run_id, make_site(url, bodies={"": body_of(str(score))}), [], score)
        store.finish_run(run_id, "finished")
        ids.append(run_id)
    assert store.latest_run_id() == ids[2]
    assert store.latest_run_id("on-demand") == ids[1]
    assert store.latest_run_id("manual") is None
    assert [r.id for r in store.list_runs(2)] == [ids[2], ids[1]]
    assert store.get_run(10_000) is None
    history = store.score_history(url, 10)
    assert [(p.run_id, p.score, p.outcome) for p in history] == [
        (ids[2], 0.9, "checked"),
        (ids[1], 0.6, "checked"),
        (ids[0], 0.4, "checked"),
    ]
    assert history[0].started_at.tzinfo is not None


def test_bad_calls_are_refused(store: Store) -> None:
    run_id = _run(store)
    with pytest.raises(ValueError, match="run status 'done'"):
        store.finish_run(run_id, "done")
    with pytest.raises(LookupError, match="run 999 not found"):
        store.finish_run(999, "finished")
    with pytest.raises(LookupError, match="run 999 not found"):
        store.save_portal(999, make_site("http://x.test/"), [], None)


def test_long_strings_are_clipped_not_fatal(store: Store) -> None:
    run_id = _run(store)
    url = "http://lethuy.test/"
    long_page = "http://lethuy.test/?q=" + "x" * 3000
    failure = FetchFailure(long_page, "timeout-" + "y" * 100, "slow")
    store.save_portal(
        run_id,
        make_site(url, bodies={"": body_of("a")}, failures=(failure,), etag='"' + "e" * 400 + '"'),
        [],
        None,
    )
    [result] = store.run_results(run_id)
    assert len(result.pages[1].url) == 2000 and len(result.pages[1].error_code) == 60
    assert len(result.pages[0].etag) == 300


def test_agency_findings_are_stored_with_the_agencys_last_portal(store: Store) -> None:
    store.sync_registry([LE_THUY])
    run_id = _run(store, total=2)
    parallel = make_finding("portal.parallel", Status.FAIL, "http://lethuy2.test/")
    store.save_portal(run_id, make_site("http://lethuy.test/"), [], 1.0)
    store.save_portal(
        run_id, make_site("http://lethuy2.test/"), [], 1.0, agency_findings=[parallel]
    )
    stored = store.agency_findings(run_id)
    assert [(f.check, f.status) for f in stored["huyen-le-thuy"]] == [
        ("portal.parallel", Status.FAIL)
    ]
    assert stored["huyen-le-thuy"][0].evidence == parallel.evidence
    # One transaction: a portal that cannot be saved takes its agency's findings with it.
    with pytest.raises(LookupError):
        store.save_portal(
            run_id + 1, make_site("http://lethuy.test/"), [], 1.0, agency_findings=[parallel]
        )
    assert store.agency_findings(run_id + 1) == {}
