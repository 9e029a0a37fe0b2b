"""Real scheduled runs against loopback portals: nightly, per-agency, misfire, lease, status."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sched_helpers import (
    PortalServer,
    fire_at,
    make_settings,
    seed_missed,
    soon,
    wait_until,
    write_registry,
)
from sqlalchemy import func, select

from probe.cli import main
from probe.registry import load_registry
from probe.scheduler import JobRunner, PlannedJob, plan_jobs, serve, stored_jobs
from probe.store.db import open_store
from probe.store.models import Lease, Run

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _runs(store: Any) -> list[Any]:
    return sorted(store.list_runs(50), key=lambda r: r.id)


def _ended(store: Any, n: int) -> bool:
    runs = _runs(store)
    return len(runs) >= n and all(r.status != "running" for r in runs)


def _leases(store: Any) -> int:
    with store.session() as s:
        return int(s.execute(select(func.count()).select_from(Lease)).scalar_one())


async def _serve_until(store: Any, settings: Any, plan: list[PlannedJob], runs: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, store, plan, stop=stop))
    try:
        await wait_until(lambda: _ended(store, runs))
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


def test_nightly_and_agency_jobs_run_record_and_prune(
    tmp_path: Path, any_db_url: str, portals: PortalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = write_registry(tmp_path / "r.toml", 3, schedules={1: "0 3 * * 0"})
    settings = make_settings(registry, any_db_url, portals).with_(body_retention_days=0)
    when = soon()
    plan = [
        PlannedJob("nightly", "nightly", None, fire_at(when), "test"),
        PlannedJob("agency:xa-1", "scheduled", "xa-1", fire_at(when), "test"),
    ]
    store = open_store(any_db_url)
    asyncio.run(_serve_until(store, settings, plan, runs=2))

    runs = {r.trigger: r for r in _runs(store)}
    assert set(runs) == {"nightly", "scheduled"}
    nightly, own = runs["nightly"], runs["scheduled"]
    assert nightly.status == own.status == "finished"
    assert (nightly.portals_total, nightly.portals_done, nightly.portals_failed) == (2, 2, 0)
    assert (own.portals_total, own.portals_done) == (1, 1)
    nightly_results = store.run_results(nightly.id)
    assert sorted(r.agency_id for r in nightly_results) == ["xa-0", "xa-2"]  # xa-1 has its own
    assert [r.agency_id for r in store.run_results(own.id)] == ["xa-1"]
    assert _leases(store) == 0  # both leases given back

    # Retention ran with the nightly job: bodies gone, findings and evidence kept.
    hashes = {p.content_hash for r in nightly_results for p in r.pages if p.content_hash}
    assert hashes
    assert all(store.load_body(h) is None for h in hashes)
    findings = [f for r in nightly_results for f in r.findings]
    assert findings and any(f.evidence for f in findings)

    assert main(["status", "--db", any_db_url, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    shown = {r["trigger"]: r for r in data["runs"]}
    assert shown["nightly"]["id"] == nightly.id
    assert shown["nightly"]["status"] == "finished"
    assert shown["nightly"]["portals_checked"] == 2
    assert shown["scheduled"]["portals_total"] == 1
    jobs = {j["id"]: j for j in data["jobs"]}
    assert set(jobs) == {"nightly", "agency:xa-1"}
    assert datetime.fromisoformat(jobs["nightly"]["next_run_time"]) > datetime.now(TZ)
    store.close()


def test_missed_nights_run_once(tmp_path: Path, sqlite_url: str, portals: PortalServer) -> None:
    registry = load_registry(write_registry(tmp_path / "r.toml", 1))
    settings = make_settings(registry.path, sqlite_url, portals)
    last = datetime.now(TZ) - timedelta(minutes=1)  # the most recent fire is a minute ago
    plan = plan_jobs(registry, f"{last.minute} {last.hour} * * *", TZ, cron_where="--cron")
    store = open_store(sqlite_url)
    seed_missed(store, plan, settings, last - timedelta(days=3))  # down for 3 nights and more

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(serve(settings, store, plan, stop=stop))
        await wait_until(lambda: _ended(store, 1))
        await asyncio.sleep(1.5)  # room for any wrongly repeated fire to show up
        stop.set()
        await asyncio.wait_for(task, timeout=30)

    asyncio.run(go())
    runs = _runs(store)
    assert [(r.trigger, r.status) for r in runs] == [("nightly", "finished")]
    (job,) = stored_jobs(store.engine)
    assert job.next_run_time is not None and job.next_run_time > datetime.now(TZ)
    store.close()


def test_lease_lets_one_of_two_runners_run(
    tmp_path: Path, any_db_url: str, slow_portals: PortalServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(write_registry(tmp_path / "r.toml", 2), any_db_url, slow_portals)
    first, second = open_store(any_db_url), open_store(any_db_url)

    async def go() -> list[int | None]:
        runners = [
            JobRunner(settings, store, ruleset_id=None, own_schedule=frozenset(),
                      stop=asyncio.Event(), holder=f"host:{i}")
            for i, store in enumerate((first, second))
        ]  # fmt: skip
        return list(await asyncio.gather(*(r.fire("nightly") for r in runners)))

    with caplog.at_level(logging.WARNING, logger="probe.schedule"):
        results = asyncio.run(go())
    assert sorted(results, key=lambda r: r is None) == [results[0] or results[1], None]
    assert [r.trigger for r in _runs(first)] == ["nightly"]
    assert any("another scheduler holds the lease" in m for m in caplog.messages)
    assert _leases(first) == 0
    first.close()
    second.close()


def test_two_schedulers_on_one_database_run_the_night_once(
    tmp_path: Path, sqlite_url: str, slow_portals: PortalServer
) -> None:
    settings = make_settings(write_registry(tmp_path / "r.toml", 2), sqlite_url, slow_portals)
    plan = [PlannedJob("nightly", "nightly", None, fire_at(soon()), "test")]
    stores = [open_store(sqlite_url), open_store(sqlite_url)]
    loops: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
    ready = threading.Barrier(3)

    def scheduler_process(store: Any) -> None:
        async def go() -> None:
            stop = asyncio.Event()
            loops.append((asyncio.get_running_loop(), stop))
            ready.wait()
            await serve(settings, store, plan, stop=stop)

        asyncio.run(go())

    threads = [threading.Thread(target=scheduler_process, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    ready.wait()
    try:
        asyncio.run(wait_until(lambda: _ended(stores[0], 1)))
        asyncio.run(asyncio.sleep(1.0))  # let a second, wrong run start if it were to
    finally:
        for loop, stop in loops:
            if not loop.is_closed():  # a scheduler that crashed has closed its loop
                loop.call_soon_threadsafe(stop.set)
        for t in threads:
            t.join(timeout=30)
    with stores[0].session() as s:
        nightly = s.execute(select(func.count()).select_from(Run)).scalar_one()
    assert nightly == 1
    for store in stores:
        store.close()
