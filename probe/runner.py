"""Wires registry → crawl → checks → store for one run; nothing here decides compliance.

`check`, `run` and the nightly scheduler all call `execute_run`, so an on-demand check
and a nightly run can never drift apart. Each portal is stored in its own transaction as
soon as it is judged, so a crash or a SIGTERM keeps every portal already finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from checks.base import Finding, Status
from checks.engine import CheckOptions, run_agency_checks, run_portal_checks
from checks.scoring import score as score_findings
from probe.artifacts import AgencyArtifacts, PortalArtifacts, Reason
from probe.memo import RunKey, portal_digest
from probe.net.client import build_client
from probe.net.crawl import Validator, crawl_portal
from probe.net.hosts import HostGate
from probe.registry import Target
from probe.settings import Settings
from probe.store.calls import StoreCalls
from probe.store.pagecodec import parsed_key

log = logging.getLogger("probe.run")

HEARTBEAT_EVERY = 30.0  # seconds; a run silent for much longer is taken for dead
STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class PortalReport:
    """What one portal came to, for the terminal and the JSON output."""

    agency_id: str
    url: str
    outcome: str
    reason: Reason | None
    score: float | None
    pages_fetched: int
    findings: tuple[Finding, ...]
    seconds: float
    counts: Mapping[str, int] | None = None  # kept by `slim()` when findings are dropped

    def status_counts(self) -> Mapping[str, int]:
        """How many findings have each status (from the findings, or kept by `slim()`)."""
        if self.counts is not None:
            return self.counts
        counts = {str(s): 0 for s in Status}
        for finding in self.findings:
            counts[str(finding.status)] += 1
        return counts

    def slim(self) -> PortalReport:
        """The same report without its findings: what a long run keeps per portal."""
        return replace(self, findings=(), counts=self.status_counts())

    def to_json(self, lang: str = "vi") -> dict[str, Any]:
        """The portal object of interface.md."""
        data: dict[str, Any] = {
            "agency": self.agency_id,
            "url": self.url,
            "outcome": self.outcome,
            "score": None if self.score is None else round(self.score, 4),
            "pages_fetched": self.pages_fetched,
            "findings": [f.to_json(lang) for f in self.findings],
        }
        if self.reason is not None:
            data["reason"] = {"code": self.reason.code, "message": self.reason.message}
        return data


@dataclass
class RunSummary:
    """A finished (or interrupted) run as the CLI shows it."""

    run_id: int
    trigger: str
    ruleset_id: str
    ruleset_version: int
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    portals: list[PortalReport] = field(default_factory=list)
    agencies: dict[str, list[Finding]] = field(default_factory=dict)
    checked: int = 0
    failed: int = 0

    def run_json(self) -> dict[str, Any]:
        """The `run` object of interface.md."""
        return {
            "id": self.run_id,
            "trigger": self.trigger,
            "status": self.status,
            "ruleset": self.ruleset_id,
            "ruleset_version": self.ruleset_version,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    def agencies_json(self, lang: str = "vi") -> list[dict[str, Any]]:
        """The `agencies` list of interface.md (agency-level findings)."""
        return [
            {"agency": agency_id, "findings": [f.to_json(lang) for f in findings]}
            for agency_id, findings in self.agencies.items()
        ]

    def to_json(self, lang: str = "vi") -> dict[str, Any]:
        """The JSON document of interface.md."""
        return {
            "run": self.run_json(),
            "portals": [p.to_json(lang) for p in self.portals],
            "agencies": self.agencies_json(lang),
        }


@dataclass
class _AgencyGroup:
    """An agency's portals while they are crawled: its checks run when the last is done."""

    target: Target
    pending: int
    sites: list[PortalArtifacts] = field(default_factory=list)


def stored_validators(
    store: Any, url: str, rows: dict[str, tuple[str, str, str, bytes, str, bytes]] | None = None
) -> dict[str, Validator]:
    """What last night kept of a portal, as the crawler's conditional-request validators.

    A 304 is only useful with what it stands for: the cached parse of the page or, where
    there is none, its stored body; pages with neither (pruned) are fetched in full. One
    query per portal (a query per page was measurable on a second night); `rows` is its
    answer when the caller already has it (`Store.earlier`).
    """
    if rows is None:
        rows = store.validators_with_parses(url)
    result: dict[str, Validator] = {}
    for page_url, (etag, modified, ctype, body, digest, parsed) in rows.items():
        if (body or parsed) and (etag or modified):
            result[page_url] = Validator(etag, modified, body, ctype, digest, parsed)
    return result


def _earlier(store: Any, url: str) -> tuple[dict[str, Validator], tuple[str, list[Finding]]]:
    """Last night's validators and findings of a portal, in one store call and
    one connection (`Store.earlier`)."""
    rows, findings = store.earlier(url)
    return stored_validators(store, url, rows), findings


def _error_site(target: Target, url: str, now: datetime, exc: BaseException) -> PortalArtifacts:
    """A crawl that raised (a bug, not a portal fault) still yields a stored outcome."""
    return PortalArtifacts(
        agency_id=target.agency.id,
        agency_level=target.agency.level,
        url=url,
        now=now,
        outcome="error",
        reason=Reason("internal_error", f"{type(exc).__name__}: {exc}"),
    )


async def execute_run(
    targets: Sequence[Target],
    *,
    settings: Settings,
    store: Any,
    ruleset: Any,
    trigger: str,
    stop: asyncio.Event | None = None,
    on_portal: Callable[[PortalReport], None] | None = None,
    keep_reports: bool = True,
    on_agency: Callable[[str, list[Finding]], None] | None = None,
) -> RunSummary:
    """Probe every target portal, judge it, store it; return the summary.

    `stop` asks the run to take no new portals; portals in flight get `grace` seconds,
    then are abandoned, and the run is marked `interrupted`. With `on_agency`, each
    agency's findings go to the caller and the summary keeps none, as `keep_reports`
    does for portals: a registry of thousands of agencies must not grow the process.
    """
    stop = stop or asyncio.Event()
    store.mark_abandoned_runs(STALE_AFTER)
    store.sync_registry([t.agency for t in targets])
    total = sum(len(t.urls) for t in targets)
    settings_record = {
        "max_pages": settings.max_pages,
        "max_depth": settings.max_depth,
        "per_host_concurrency": settings.per_host_concurrency,
        "connect_to": [
            f"{c.host}:{c.port or ''}:{c.addr}:{c.addr_port or ''}" for c in settings.connect_to
        ],
        "allow_private": settings.allow_private,
    }
    run_id = store.start_run(trigger, ruleset.id, ruleset.version, settings_record, total)
    started = datetime.now(UTC)
    summary = RunSummary(run_id, trigger, ruleset.id, ruleset.version, started)
    options = CheckOptions.from_settings(settings)
    run_key = RunKey(ruleset, options)
    hosts = HostGate(settings)  # one per run: portals sharing a server share its limits
    write = StoreCalls(store)  # SQLite: in this loop; PostgreSQL: in a thread
    slots = asyncio.Semaphore(max(1, settings.portal_concurrency))

    async def probe_portal(client: Any, group: _AgencyGroup, url: str) -> None:
        target = group.target
        began = time.monotonic()
        now = datetime.now(UTC)
        validators, (earlier_digest, earlier) = await write(_earlier, store, url)
        try:
            site = await crawl_portal(
                client,
                url,
                agency_id=target.agency.id,
                agency_level=target.agency.level,
                settings=settings,
                now=now,
                validators=validators,
                licence_required=(
                    settings.licence_required
                    if settings.licence_required is not None
                    else target.agency.licence_required
                ),
                province_domain=target.agency.province_domain,
                agency_domains=target.agency.official_domains,
                hosts=hosts,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a crawler bug must not end the run
            log.exception("crawl of %s raised", url)
            site = _error_site(target, url, now, exc)
        digest = portal_digest(site, run_key)
        reuse = earlier if earlier_digest == digest and site.outcome == "checked" else None
        findings = run_portal_checks(site, ruleset, options, reuse=reuse)
        del earlier, reuse
        # A portal that could not be crawled has no measurable compliance: its score is
        # None (shown apart), not 0 %, or an outage would read as a breach of the law.
        score = score_findings(findings) if site.outcome == "checked" else None
        cached = {parsed_key(u, v.content_hash) for u, v in validators.items() if v.parsed}
        del validators  # last night's parses: not needed while the portal is stored
        group.sites.append(site)
        group.pending -= 1
        agency_findings = None
        if group.pending == 0 and not stop.is_set():  # the agency's last portal: judge it
            agency = AgencyArtifacts(
                target.agency.id, target.agency.level, tuple(group.sites), datetime.now(UTC)
            )
            group.sites.clear()
            agency_findings = run_agency_checks(agency, ruleset, options)
            del agency
        save = functools.partial(
            store.save_portal, cached_parses=cached, inputs_digest=digest,
            agency_findings=agency_findings or (),
        )  # fmt: skip
        await write(save, run_id, site, findings, score)
        if agency_findings is not None:
            if on_agency is not None:
                on_agency(target.agency.id, agency_findings)
            else:
                summary.agencies[target.agency.id] = agency_findings
        report = PortalReport(
            agency_id=target.agency.id,
            url=url,
            outcome=site.outcome,
            reason=site.reason,
            score=score,
            pages_fetched=len(site.pages),
            findings=tuple(findings),
            seconds=time.monotonic() - began,
        )
        log.info(
            "portal done",
            extra={
                "run_id": run_id,
                "agency": report.agency_id,
                "url": url,
                "outcome": report.outcome,
                "pages": report.pages_fetched,
                "score": report.score,
                "duration_s": round(report.seconds, 2),
            },
        )
        if site.outcome == "checked":
            summary.checked += 1
        else:
            summary.failed += 1
        if keep_reports:
            summary.portals.append(report)
        if on_portal is not None:
            on_portal(report)

    async def one_portal(client: Any, group: _AgencyGroup, url: str) -> None:
        try:
            await probe_portal(client, group, url)
        finally:
            slots.release()

    async def feed(client: Any) -> None:
        """Start portals as slots free up, so a registry of thousands of portals never
        has more than `portal_concurrency` crawls (or tasks, or artifacts) in memory."""
        running: set[asyncio.Task[None]] = set()
        failure: list[BaseException] = []

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            if not task.cancelled() and task.exception() is not None:
                failure.append(task.exception())  # type: ignore[arg-type]
                stop_feeding.set()

        stop_feeding = asyncio.Event()
        try:
            for target in targets:
                group = _AgencyGroup(target, pending=len(target.urls))
                for url in target.urls:
                    await slots.acquire()
                    if stop.is_set() or stop_feeding.is_set():
                        slots.release()
                        break
                    task = asyncio.create_task(one_portal(client, group, url))
                    running.add(task)
                    task.add_done_callback(finished)
                if stop.is_set() or stop_feeding.is_set():
                    break
            while running:
                await asyncio.wait(set(running))
        except asyncio.CancelledError:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        if failure:
            raise failure[0]

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            await write(store.heartbeat, run_id)

    status = "finished"
    beat = asyncio.create_task(heartbeat())
    try:
        async with build_client(settings) as client:
            work = asyncio.create_task(feed(client))
            stopper = asyncio.create_task(stop.wait())
            finished, _ = await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if work not in finished:
                status = "interrupted"
                with contextlib.suppress(TimeoutError):  # wait_for cancels what is left
                    await asyncio.wait_for(work, timeout=settings.shutdown_grace)
            else:
                work.result()
            stopper.cancel()
            if stop.is_set():
                status = "interrupted"
    except asyncio.CancelledError:
        status = "interrupted"
        raise
    finally:
        beat.cancel()
        keys = [(t.agency.id, u) for t in targets for u in t.urls]
        order = {key: i for i, key in enumerate(keys)}
        summary.portals.sort(key=lambda r: order.get((r.agency_id, r.url), len(order)))
        summary.status = status
        summary.finished_at = datetime.now(UTC)
        await write(store.finish_run, run_id, status)
        write.close()
    return summary


def failed_count(findings: Sequence[Finding]) -> int:
    """How many findings failed (for summaries)."""
    return sum(1 for f in findings if f.status is Status.FAIL)
