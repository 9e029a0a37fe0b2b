"""`probe schedule` (foreground scheduler for systemd/Docker) and `probe status` (monitoring).

`probe/cli.py` calls `add_commands(cli, crawl_options)` at its end. The options are handed in
rather than imported because `python -m probe.cli` runs cli.py as `__main__`: importing
`probe.cli` from here at import time would load it a second time, mid-way through this module.

`schedule` takes the very options of `probe run` (through `crawl_options`), so whatever an
operator tried by hand is what runs at night. `status` answers "did last night run, and
when is the next one?" for people (a table) and for monitoring systems (`--format json`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from probe.registry import load_registry

if TYPE_CHECKING:  # APScheduler and rich load only when these commands run (issue 7)
    from rich.table import Table

    from probe.scheduler import JobInfo

LABELS = {
    "vi": {
        "job": "Lịch", "agency": "Cơ quan", "cron": "Cron", "tz": "Múi giờ", "next": "Lần chạy tới",
        "missed": "bị lỡ: chạy ngay khi khởi động", "id": "Lượt", "trigger": "Kiểu",
        "status": "Trạng thái", "started": "Bắt đầu", "finished": "Kết thúc",
        "checked": "Kiểm tra được", "failed": "Lỗi truy cập", "none": "chưa có lượt nào",
    },
    "en": {
        "job": "Job", "agency": "Agency", "cron": "Cron", "tz": "Time zone", "next": "Next run",
        "missed": "missed: runs at start", "id": "Run", "trigger": "Trigger",
        "status": "Status", "started": "Started", "finished": "Finished",
        "checked": "Checked", "failed": "Unreachable", "none": "no runs yet",
    },
}  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _job_json(job: JobInfo) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "agency": job.agency_id,
        "cron": job.cron,
        "timezone": job.timezone,
        "trigger": job.trigger,
        "next_run_time": _iso(job.next_run_time),
    }


def _jobs_table(jobs: list[JobInfo], lang: str, now: datetime) -> Table:
    from rich.table import Table
    from rich.text import Text

    h = LABELS[lang]
    table = Table()
    for key in ("job", "agency", "cron", "tz", "next"):
        table.add_column(h[key])
    for job in jobs:
        when = job.next_run_time.isoformat(timespec="minutes") if job.next_run_time else "—"
        if job.next_run_time is not None and job.next_run_time <= now:
            when = f"{when} ({h['missed']})"
        cells = (job.id, job.agency_id or "*", job.cron, job.timezone, when)
        table.add_row(*(Text(c) for c in cells))
    return table


def add_commands(group: click.Group, crawl_options: Callable[..., Any]) -> None:
    """Register `schedule` (with the options of `probe run`) and `status` on the CLI group."""
    group.add_command(click.command("schedule")(crawl_options(_schedule_options(schedule_main))))
    group.add_command(status)


def _schedule_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--cron", default=None, metavar="EXPR",
                     help='Crontab expression of the nightly run (default "0 2 * * *").'),
        click.option("--timezone", "tz_name", default=None, metavar="TZ",
                     help="IANA time zone of the cron expressions (default Asia/Ho_Chi_Minh)."),
        click.option("--list", "list_only", is_flag=True,
                     help="Show the jobs and their next fire times, then exit; runs nothing."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def schedule_main(cron: str | None, tz_name: str | None, list_only: bool, **opts: Any) -> int:
    """Run nightly probes in the foreground (for systemd, Docker or a supervisor)."""
    from probe.cli import build_settings
    from probe.logs import configure_logging
    from probe.runner import STALE_AFTER
    from probe.scheduler import parse_timezone, plan_jobs, preview_jobs, serve
    from probe.store.db import open_store

    settings = build_settings(opts)
    if cron is not None:
        settings = settings.with_(schedule_cron=cron)
    if tz_name is not None:
        settings = settings.with_(schedule_timezone=tz_name)
    tz_where = "--timezone" if tz_name is not None else "PROBE_SCHEDULE_TZ"
    tz = parse_timezone(settings.schedule_timezone, where=tz_where)
    registry = load_registry(settings.registry_path)
    cron_where = "--cron" if cron is not None else "PROBE_SCHEDULE_CRON"
    plan = plan_jobs(registry, settings.schedule_cron, tz, cron_where=cron_where)
    store = open_store(settings.db_url)
    if list_only:
        jobs = preview_jobs(store.engine, plan, datetime.now(tz))
        if opts["fmt"] == "json":
            json.dump({"jobs": [_job_json(j) for j in jobs]}, sys.stdout, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            from rich.console import Console

            Console().print(_jobs_table(jobs, opts["lang"], datetime.now(tz)))
        return 0
    configure_logging(logging.INFO)
    logging.getLogger("apscheduler").handlers[:] = logging.getLogger("probe").handlers
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    abandoned = store.mark_abandoned_runs(STALE_AFTER)
    if abandoned:
        logging.getLogger("probe.schedule").warning(
            "runs left running by a dead process marked interrupted", extra={"runs": abandoned}
        )
    import probe.runner  # noqa: F401  (loaded before the heap is settled)
    from probe.cli import _settle_heap

    _settle_heap()
    asyncio.run(serve(settings, store, plan, ruleset_id=opts["ruleset"]))
    return 0


def _run_json(run: Any) -> dict[str, Any]:
    return {
        "id": run.id,
        "trigger": run.trigger,
        "status": run.status,
        "ruleset": run.ruleset_id,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "heartbeat_at": _iso(run.heartbeat_at),
        "host": run.host,
        "portals_total": run.portals_total,
        "portals_done": run.portals_done,
        "portals_checked": run.portals_done - run.portals_failed,
        "portals_failed": run.portals_failed,
    }


@click.command()
@click.option(
    "--db",
    "db",
    default=None,
    help="SQLAlchemy URL (default: a SQLite file or $PROBE_DATABASE_URL).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, help="How many runs to show.")
def status(db: str | None, fmt: str, lang: str, limit: int) -> int:
    """The last runs and the next scheduled ones, for people and monitoring systems."""
    from rich.console import Console
    from rich.table import Table

    from probe.cli import build_settings
    from probe.scheduler import stored_jobs
    from probe.store.db import open_store

    settings = build_settings({"db": db})
    store = open_store(settings.db_url)
    runs = store.list_runs(limit)
    jobs = stored_jobs(store.engine)
    if fmt == "json":
        data = {
            "runs": [_run_json(r) for r in runs],
            "jobs": [_job_json(j) for j in jobs],
            "now": datetime.now(UTC).isoformat(),
        }
        json.dump(data, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    h = LABELS[lang]
    console = Console()
    if not runs:
        console.print(h["none"])
    else:
        table = Table()
        for key in ("id", "trigger", "status", "started", "finished", "checked", "failed"):
            table.add_column(h[key])
        for r in runs:
            table.add_row(
                str(r.id), r.trigger, r.status,
                r.started_at.isoformat(timespec="seconds"),
                r.finished_at.isoformat(timespec="seconds") if r.finished_at else "—",
                str(r.portals_done - r.portals_failed), str(r.portals_failed),
            )  # fmt: skip
        console.print(table)
    if jobs:
        console.print(_jobs_table(jobs, lang, datetime.now(UTC)))
    return 0
