"""Nightly and per-portal runs under APScheduler 3.x, safe to leave to a supervisor.

Why an `AsyncIOScheduler`: the run function (`probe.runner.execute_run`) is a coroutine that
takes a `stop` asyncio.Event. With one event loop in the main thread, SIGTERM/SIGINT handlers
(`loop.add_signal_handler`) set that very Event, and a job is a task in the same loop; a
`BlockingScheduler` would need `asyncio.run` in a worker thread and thread-hopping to stop it.

Why a custom executor: jobs live in the database (SQLAlchemyJobStore, so a missed night is
remembered across restarts), and a stored job can only name a module-level function with
picklable arguments. The settings, the store and the stop Event are not picklable and must
not be module globals, so the stored job holds only `(kind, agency_id)` and `_BoundExecutor`
hands it to the `JobRunner` of this process when it fires.

One run at a time across processes and hosts is the lease's job (`Store.acquire_lease`),
not APScheduler's: `max_instances` only counts inside one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy.exc
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, inspect

from probe.cron import parse_cron, parse_timezone
from probe.errors import InputError
from probe.registry import Agency, Registry, Target, load_registry
from probe.settings import Settings
from probe.store.repo import WRITE_OPTION

log = logging.getLogger("probe.schedule")

JOB_TABLE = "apscheduler_jobs"  # the name probe/store/migrations/env.py leaves alone
NIGHTLY_JOB_ID = "nightly"
# A missed fire still runs when the process comes back within this long; with
# coalesce=True several missed fires run once. Just under a day, so a nightly job that
# missed its night runs on restart but never twice in one day.
MISFIRE_GRACE = timedelta(hours=23)
LEASE_TTL = timedelta(minutes=2)  # a crashed holder blocks others at most this long
DRAIN_MARGIN = 10.0  # seconds beyond Settings.shutdown_grace before runs are cancelled


@dataclass(frozen=True)
class PlannedJob:
    """A job the registry and settings ask for: the nightly one or one agency's own."""

    id: str
    kind: str  # nightly | scheduled
    agency_id: str | None
    trigger: CronTrigger
    cron: str

    @property
    def run_trigger(self) -> str:
        """The `run.trigger` value its runs are recorded with."""
        return "nightly" if self.kind == "nightly" else "scheduled"


def plan_jobs(registry: Registry, cron: str, tz: ZoneInfo, *, cron_where: str) -> list[PlannedJob]:
    """The nightly job plus one job per active agency whose registry entry has a schedule."""
    jobs = [
        PlannedJob(NIGHTLY_JOB_ID, "nightly", None, parse_cron(cron, tz, where=cron_where), cron)
    ]
    for agency in registry.active:
        if agency.schedule:
            where = f"{registry.path}:{agency.line} (agency {agency.id!r}) field 'schedule'"
            trigger = parse_cron(agency.schedule, tz, where=where)
            jobs.append(
                PlannedJob(f"agency:{agency.id}", "scheduled", agency.id, trigger, agency.schedule)
            )
    return jobs


async def scheduled_run(kind: str, agency_id: str | None = None) -> None:
    """What a stored job names; only `_BoundExecutor` may run it, with this process's context."""
    raise RuntimeError(f"job {kind}/{agency_id} fired outside `probe schedule`")


class JobRunner:
    """Everything a firing job needs that cannot be pickled into the job store."""

    def __init__(
        self,
        settings: Settings,
        store: Any,
        *,
        ruleset_id: str | None,
        own_schedule: frozenset[str],
        stop: asyncio.Event,
        holder: str,
        lease_ttl: timedelta = LEASE_TTL,
    ) -> None:
        self.settings = settings
        self.store = store
        self.ruleset_id = ruleset_id
        self.own_schedule = own_schedule
        self.stop = stop
        self.holder = holder
        self.lease_ttl = lease_ttl
        self.active: set[asyncio.Task[Any]] = set()

    async def fire(self, kind: str, agency_id: str | None = None) -> int | None:
        """One scheduled run under its lease; returns the run id, or None when skipped."""
        task = asyncio.current_task()
        if task is not None:
            self.active.add(task)
        try:
            if self.stop.is_set():
                return None
            lease = NIGHTLY_JOB_ID if kind == "nightly" else f"agency:{agency_id}"
            got = await asyncio.to_thread(
                self.store.acquire_lease, lease, self.holder, self.lease_ttl
            )
            if not got:
                log.warning(
                    "run skipped: another scheduler holds the lease", extra={"lease": lease}
                )
                return None
            renewer = asyncio.create_task(self._renew(lease))
            try:
                return await self._run(kind, agency_id)
            finally:
                renewer.cancel()
                await asyncio.to_thread(self.store.release_lease, lease, self.holder)
        finally:
            if task is not None:
                self.active.discard(task)

    async def _renew(self, lease: str) -> None:
        while True:
            await asyncio.sleep(self.lease_ttl.total_seconds() / 3)
            kept = await asyncio.to_thread(
                self.store.renew_lease, lease, self.holder, self.lease_ttl
            )
            if kept is False:
                log.error("lease lost while running", extra={"lease": lease})

    def _targets(self, kind: str, agency_id: str | None) -> list[Target]:
        """Read the registry again at every fire, so nightly edits need no restart."""
        registry = load_registry(self.settings.registry_path)
        if kind == "nightly":
            chosen: Sequence[Agency] = [a for a in registry.active if a.id not in self.own_schedule]
        else:
            agency = registry.get(agency_id or "")
            chosen = [agency] if agency is not None and agency.active else []
        return [Target(a, tuple(a.portals)) for a in chosen]

    async def _run(self, kind: str, agency_id: str | None) -> int | None:
        from probe.cli import resolve_ruleset
        from probe.runner import execute_run

        trigger = "nightly" if kind == "nightly" else "scheduled"
        try:
            targets = self._targets(kind, agency_id)
            ruleset = resolve_ruleset(self.ruleset_id)  # the one in force on the run date
        except InputError as exc:
            log.error("run skipped: %s", exc, extra={"trigger": trigger, "agency": agency_id})
            return None
        if not targets:
            log.warning(
                "run skipped: nothing to probe", extra={"trigger": trigger, "agency": agency_id}
            )
            return None
        began = time.monotonic()
        summary = await execute_run(
            targets, settings=self.settings, store=self.store, ruleset=ruleset,
            trigger=trigger, stop=self.stop, keep_reports=False,
            on_agency=lambda _agency, _findings: None,  # stored; a daemon keeps none
        )  # fmt: skip
        pruned = None
        if kind == "nightly" and not self.stop.is_set():
            pruned = await asyncio.to_thread(
                self.store.prune_bodies, self.settings.body_retention_days, datetime.now(UTC)
            )
        log.info(
            "run done",
            extra={
                "run_id": summary.run_id, "trigger": trigger, "status": summary.status,
                "checked": summary.checked, "failed": summary.failed, "agency": agency_id,
                "duration_s": round(time.monotonic() - began, 2), "bodies_pruned": pruned,
            },
        )  # fmt: skip
        return summary.run_id

    async def drain(self, timeout: float) -> None:
        """Wait for runs in flight (they honour `stop`), then cancel what is left."""
        pending = {t for t in self.active if t is not asyncio.current_task()}
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=DRAIN_MARGIN)


class _BoundJob:
    """A stored job seen through this process's runner (what the executor actually calls)."""

    def __init__(self, job: Any, runner: JobRunner) -> None:
        self._job = job
        self.id = job.id
        self._jobstore_alias = job._jobstore_alias
        self.misfire_grace_time = job.misfire_grace_time
        self.args = job.args
        self.kwargs = job.kwargs
        self.func = runner.fire

    def __str__(self) -> str:
        return str(self._job)


class _BoundExecutor(AsyncIOExecutor):
    """AsyncIOExecutor that runs stored jobs through the runner of this process."""

    def __init__(self, runner: JobRunner) -> None:
        super().__init__()
        self._runner = runner

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        super()._do_submit_job(_BoundJob(job, self._runner), run_times)


class _SharedEngineJobStore(SQLAlchemyJobStore):
    """The job table in the probe database, written in the Store's write transactions.

    On SQLite every job-store transaction is BEGIN IMMEDIATE (the Store's WRITE_OPTION): the
    job store reads then writes, and a deferred transaction upgrading to a write while another
    process writes fails at once with "database is locked" instead of waiting.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__(
            engine=engine.execution_options(**{WRITE_OPTION: True}), tablename=JOB_TABLE
        )

    def start(self, scheduler: Any, alias: str) -> None:
        """Create the table if missing; a second scheduler creating it at the same moment wins."""
        try:
            super().start(scheduler, alias)
        except sqlalchemy.exc.DBAPIError:
            if not inspect(self.engine).has_table(JOB_TABLE):
                raise
            super().start(scheduler, alias)  # the other process created it; now checkfirst skips

    def shutdown(self) -> None:
        """Do not dispose the Store's engine (the base class would)."""


def build_scheduler(
    engine: Engine, runner: JobRunner, tz: ZoneInfo, misfire_grace: timedelta
) -> AsyncIOScheduler:
    """One scheduler, its jobs in the probe database, coalescing and never overlapping."""
    return AsyncIOScheduler(
        jobstores={"default": _SharedEngineJobStore(engine)},
        executors={"default": _BoundExecutor(runner)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(misfire_grace.total_seconds()),
        },
        timezone=tz,
    )


def sync_jobs(scheduler: AsyncIOScheduler, plan: Sequence[PlannedJob]) -> None:
    """Make the stored jobs match the plan without losing a pending (missed) fire time.

    `add_job(replace_existing=True)` would recompute the next fire time from now, so a night
    missed while the process was down would be forgotten; an unchanged trigger keeps it.
    """
    wanted = {job.id for job in plan}
    for stored in scheduler.get_jobs():
        if stored.id not in wanted:
            scheduler.remove_job(stored.id)
    for job in plan:
        options = {"args": (job.kind, job.agency_id), "name": job.cron}
        stored = scheduler.get_job(job.id)
        if stored is None:
            try:
                scheduler.add_job(scheduled_run, trigger=job.trigger, id=job.id, **options)
                continue
            except ConflictingIdError:  # another scheduler added it a moment ago
                stored = scheduler.get_job(job.id)
        if stored is None:
            continue
        scheduler.modify_job(job.id, **options)
        if repr(stored.trigger) != repr(job.trigger):
            scheduler.reschedule_job(job.id, trigger=job.trigger)


@dataclass(frozen=True)
class JobInfo:
    """A job as stored: for `--list` and `probe status`."""

    id: str
    kind: str
    agency_id: str | None
    cron: str  # as the operator wrote it
    timezone: str
    trigger: str  # APScheduler's reading of it
    next_run_time: datetime | None


def stored_jobs(engine: Engine) -> list[JobInfo]:
    """The jobs in the database (none when no scheduler ever ran), read without running one."""
    if not inspect(engine).has_table(JOB_TABLE):
        return []
    jobstore = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)
    out = []
    for job in jobstore.get_all_jobs():
        kind, agency_id = (*job.args, None, None)[:2]
        tz = str(getattr(job.trigger, "timezone", ""))
        info = JobInfo(
            job.id, str(kind), agency_id, job.name, tz, str(job.trigger), job.next_run_time
        )
        out.append(info)
    return out


def preview_jobs(engine: Engine, plan: Sequence[PlannedJob], now: datetime) -> list[JobInfo]:
    """Next fire times `probe schedule` would use: the stored one when the trigger is unchanged."""
    stored = {j.id: j for j in stored_jobs(engine)}
    out = []
    for job in plan:
        old = stored.get(job.id)
        tz = str(job.trigger.timezone)
        if old is not None and (old.trigger, old.timezone) == (str(job.trigger), tz):
            next_time = old.next_run_time
        else:
            next_time = job.trigger.get_next_fire_time(None, now)
        out.append(
            JobInfo(job.id, job.kind, job.agency_id, job.cron, tz, str(job.trigger), next_time)
        )
    return out


def default_holder() -> str:
    """Who holds a lease: host and pid for operators, a random tail to tell apart two schedulers."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


async def serve(
    settings: Settings,
    store: Any,
    plan: Sequence[PlannedJob],
    *,
    ruleset_id: str | None = None,
    stop: asyncio.Event | None = None,
    holder: str | None = None,
    lease_ttl: timedelta = LEASE_TTL,
    misfire_grace: timedelta = MISFIRE_GRACE,
    on_started: Callable[[AsyncIOScheduler], None] | None = None,
) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT (or `stop`) arrives.

    On a stop: no new job starts, runs in flight stop taking portals and get
    `settings.shutdown_grace` seconds (they record `interrupted`); a second signal cancels.
    """
    stop = stop or asyncio.Event()
    tz = parse_timezone(settings.schedule_timezone)
    runner = JobRunner(
        settings, store, ruleset_id=ruleset_id,
        own_schedule=frozenset(j.agency_id for j in plan if j.agency_id),
        stop=stop, holder=holder or default_holder(), lease_ttl=lease_ttl,
    )  # fmt: skip
    scheduler = build_scheduler(store.engine, runner, tz, misfire_grace)
    loop = asyncio.get_running_loop()
    signals = _install_signals(loop, stop, runner)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, plan)
        for job in scheduler.get_jobs():
            log.info(
                "job scheduled",
                extra={"job": job.id, "trigger": str(job.trigger), "next_run": job.next_run_time},
            )
        if on_started is not None:
            on_started(scheduler)
        scheduler.resume()
        await stop.wait()
        log.info("stop requested: no new runs; finishing the current ones")
        scheduler.pause()
        await runner.drain(settings.shutdown_grace + DRAIN_MARGIN)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        if scheduler.running:  # start() itself may have failed (database gone)
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down through call_soon
    log.info("scheduler stopped")


def _install_signals(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, runner: JobRunner
) -> list[int]:
    """First signal: stop gracefully; second: cancel runs now. Only in the main thread."""

    def on_signal() -> None:
        if stop.is_set():
            for task in runner.active:
                task.cancel()
        stop.set()

    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
    return installed
