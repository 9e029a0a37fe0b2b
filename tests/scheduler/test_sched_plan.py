"""Cron and time zone parsing, the job plan, and keeping a missed fire time across restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sched_helpers import make_settings, seed_missed, write_registry

from probe.errors import InputError
from probe.registry import load_registry
from probe.scheduler import (
    JobRunner,
    build_scheduler,
    parse_cron,
    parse_timezone,
    plan_jobs,
    preview_jobs,
    stored_jobs,
    sync_jobs,
)
from probe.store.db import open_store

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 11, 23, 0, 0, tzinfo=TZ)  # a Monday


def _weekdays(expr: str) -> set[str]:
    """Names of the weekdays an expression fires on during two weeks."""
    trigger = parse_cron(expr, TZ)
    seen, prev, when = set(), None, START
    for _ in range(14):
        nxt = trigger.get_next_fire_time(prev, when)
        assert nxt is not None
        seen.add(nxt.strftime("%a").lower())
        prev, when = nxt, nxt + timedelta(seconds=1)
    return seen


@pytest.mark.parametrize(
    ("expr", "days"),
    [
        ("0 3 * * 0", {"sun"}),
        ("0 3 * * 7", {"sun"}),
        ("0 3 * * 1-5", {"mon", "tue", "wed", "thu", "fri"}),
        ("0 3 * * 5-7", {"fri", "sat", "sun"}),
        ("0 3 * * */2", {"sun", "tue", "thu", "sat"}),
        ("0 3 * * sat,sun", {"sat", "sun"}),
        ("0 3 * * 6", {"sat"}),
    ],
)
def test_weekdays_mean_what_crontab_means(expr: str, days: set[str]) -> None:
    assert _weekdays(expr) == days


def test_default_cron_fires_at_two_in_hanoi() -> None:
    trigger = parse_cron("0 2 * * *", parse_timezone("Asia/Ho_Chi_Minh"))
    nxt = trigger.get_next_fire_time(None, START)
    assert nxt is not None
    assert (nxt.hour, nxt.minute) == (2, 0)
    assert nxt.astimezone(UTC).hour == 19  # 02:00 +07:00


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("0 2 * *", "expected 5 fields"),
        ("0 25 * * *", "0 25 * * *"),
        ("x 2 * * *", "x 2 * * *"),
        ("0 2 * * 8", "weekday"),
        ("0 2 * * 5-1", "backwards"),
    ],
)
def test_bad_cron_is_input_error_naming_the_option(expr: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_cron(expr, TZ, where="--cron")
    message = str(info.value)
    assert message.startswith("--cron: ")
    assert fragment in message
    assert "\n" not in message


def test_bad_timezone_is_input_error() -> None:
    with pytest.raises(InputError, match=r"--timezone: unknown time zone 'Mars/Olympus'"):
        parse_timezone("Mars/Olympus")


def test_plan_gives_scheduled_agencies_their_own_job(tmp_path: Path) -> None:
    registry = load_registry(write_registry(tmp_path / "r.toml", 3, schedules={1: "0 3 * * 0"}))
    plan = plan_jobs(registry, "0 2 * * *", TZ, cron_where="--cron")
    assert [(j.id, j.kind, j.agency_id, j.run_trigger) for j in plan] == [
        ("nightly", "nightly", None, "nightly"),
        ("agency:xa-1", "scheduled", "xa-1", "scheduled"),
    ]


def test_bad_agency_schedule_names_file_line_and_field(tmp_path: Path) -> None:
    path = write_registry(tmp_path / "r.toml", 3, schedules={2: "every sunday"})
    registry = load_registry(path)
    with pytest.raises(InputError) as info:
        plan_jobs(registry, "0 2 * * *", TZ, cron_where="--cron")
    message = str(info.value)
    line = registry.get("xa-2").line  # type: ignore[union-attr]
    assert f"{path}:{line}" in message
    assert "'xa-2'" in message and "'schedule'" in message


def _sync(store: object, plan: list, settings: object) -> None:
    async def go() -> None:
        runner = JobRunner(
            settings, store, ruleset_id=None, own_schedule=frozenset(),
            stop=asyncio.Event(), holder="t",
        )  # type: ignore[arg-type]  # fmt: skip
        scheduler = build_scheduler(store.engine, runner, TZ, timedelta(hours=23))  # type: ignore[attr-defined]
        scheduler.start(paused=True)
        sync_jobs(scheduler, plan)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)

    asyncio.run(go())


def test_restart_keeps_a_missed_fire_and_follows_changes(
    tmp_path: Path, any_db_url: str, portals: object
) -> None:
    registry = load_registry(write_registry(tmp_path / "r.toml", 2, schedules={1: "0 3 * * 0"}))
    settings = make_settings(registry.path, any_db_url, portals)  # type: ignore[arg-type]
    store = open_store(any_db_url)
    plan = plan_jobs(registry, "0 2 * * *", TZ, cron_where="--cron")
    assert stored_jobs(store.engine) == []

    _sync(store, plan, settings)
    first = {j.id: j for j in stored_jobs(store.engine)}
    assert set(first) == {"nightly", "agency:xa-1"}
    now = datetime.now(TZ)
    assert first["nightly"].next_run_time > now  # type: ignore[operator]

    missed = now - timedelta(hours=5)
    seed_missed(store, plan[:1], settings, missed)
    _sync(store, plan, settings)  # a restart with the same cron: the missed night is kept
    kept = {j.id: j for j in stored_jobs(store.engine)}
    assert kept["nightly"].next_run_time == missed
    assert preview_jobs(store.engine, plan, now)[0].next_run_time == missed

    changed = plan_jobs(registry, "30 1 * * *", TZ, cron_where="--cron")[:1]
    preview = preview_jobs(store.engine, changed, now)[0]
    assert preview.next_run_time is not None and preview.next_run_time > now
    assert (preview.next_run_time.hour, preview.next_run_time.minute) == (1, 30)
    _sync(store, changed, settings)  # new cron: rescheduled; the agency job left the plan
    after = {j.id: j for j in stored_jobs(store.engine)}
    assert set(after) == {"nightly"}
    assert after["nightly"].next_run_time == preview.next_run_time
    store.close()
