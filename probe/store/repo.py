"""`Store`: every write of a run, each in one short transaction, plus the reads others need.

Short transactions are what let a nightly run and an on-demand check share one SQLite
file: each call takes the write lock (BEGIN IMMEDIATE, see `probe.store.db`) only for the
few milliseconds its rows need, and a portal is either stored whole or not at all, so a
run killed half-way keeps every portal it finished. The store holds no state besides its
engine; sessions are opened per call.

Read shapes are documented in `probe.store.records`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

import probe
from checks.base import Finding
from probe.artifacts import PortalArtifacts
from probe.store import queries
from probe.store.blobs import load_body, prune_bodies, prune_cutoff, store_bodies
from probe.store.models import (
    Agency,
    FindingRecord,
    Lease,
    PageRecord,
    Portal,
    PortalResult,
    Run,
)
from probe.store.pagecodec import parsed_key
from probe.store.parsed import prune_parsed, store_parsed
from probe.store.records import RunInfo, ScorePoint, StoredResult
from probe.store.rows import clip, finding_rows, jsonable, page_rows, upsert

# Execution option that makes SQLite open the transaction with BEGIN IMMEDIATE.
WRITE_OPTION = "probe_write"
RUN_END_STATUSES = frozenset({"finished", "interrupted", "failed"})
_AGENCY, _PORTAL, _RUN = Agency.__table__, Portal.__table__, Run.__table__
_RESULT, _PAGE, _FINDING = PortalResult.__table__, PageRecord.__table__, FindingRecord.__table__


class AgencyLike(Protocol):
    """What `sync_registry` reads of a registry agency."""

    id: str
    name: str
    name_en: str
    level: str
    province: str
    active: bool

    @property
    def portals(self) -> Sequence[str]: ...


def utcnow() -> datetime:
    """The store's clock (aware UTC)."""
    return datetime.now(UTC)


def this_host() -> str:
    """`hostname:pid`, recorded on a run so a later process can tell if it died."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Store:
    """The probe database: runs, portal results, pages, blobs, findings, leases."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def embedded(self) -> bool:
        """Whether the database runs inside this process (SQLite): its statements cost
        this process CPU, not round trips to a server (`probe.store.calls`)."""
        return self.engine.dialect.name == "sqlite"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections (the file stays as it is)."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session for callers that query the models directly (report, status)."""
        with self._reader() as s:
            yield s

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any exception."""
        with self._writer.begin() as s:
            yield s

    # -- registry and runs ------------------------------------------------------------

    def sync_registry(self, agencies: Iterable[AgencyLike]) -> None:
        """Upsert the given agencies and their portals.

        Agencies not given are left alone: `probe check X` syncs only X, and old runs
        must stay readable after an agency leaves the registry.
        """
        with self.write_session() as s:
            for a in agencies:
                values = {
                    "id": a.id,
                    "name": clip(a.name, 300),
                    "name_en": clip(a.name_en or "", 300),
                    "level": clip(a.level, 20),
                    "province": clip(a.province or "", 100),
                    "active": bool(a.active),
                }
                stmt = upsert(s, Agency).values(**values)
                s.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))
                for url in a.portals:
                    p = upsert(s, Portal).values(url=url, agency_id=a.id)
                    s.execute(
                        p.on_conflict_do_update(index_elements=["url"], set_={"agency_id": a.id})
                    )

    def start_run(
        self,
        trigger: str,
        ruleset_id: str,
        ruleset_version: int,
        settings: dict[str, Any],
        portals_total: int,
    ) -> int:
        """Record a new `running` run and return its id."""
        now = utcnow()
        run = Run(
            trigger=trigger,
            status="running",
            ruleset_id=ruleset_id,
            ruleset_version=ruleset_version,
            tool_version=probe.__version__,
            started_at=now,
            heartbeat_at=now,
            host=clip(this_host(), 200),
            portals_total=portals_total,
            portals_done=0,
            portals_failed=0,
            settings=jsonable(settings),
        )
        with self.write_session() as s:
            s.add(run)
            s.flush()
            return run.id

    def heartbeat(self, run_id: int) -> None:
        """Say the run is alive, so `mark_abandoned_runs` leaves it alone."""
        with self.write_session() as s:
            s.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow()))

    def finish_run(self, run_id: int, status: str) -> None:
        """Close a run as finished, interrupted or failed."""
        if status not in RUN_END_STATUSES:
            raise ValueError(f"run status {status!r}: expected one of {sorted(RUN_END_STATUSES)}")
        now = utcnow()
        with self.write_session() as s:
            done = s.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(status=status, finished_at=now, heartbeat_at=now)
            )
            if done.rowcount == 0:
                raise LookupError(f"run {run_id} not found")

    def mark_abandoned_runs(
        self, stale_after: timedelta, *, now: datetime | None = None
    ) -> list[int]:
        """Mark `interrupted` the runs a crashed or killed process left `running`.

        A run is abandoned when its heartbeat is older than `stale_after`, or when it was
        started on this host by a process that no longer exists. Its `finished_at` is its
        last heartbeat: the last moment it was known alive.
        """
        cutoff = (now or utcnow()) - stale_after
        with self.write_session() as s:
            rows = s.execute(
                select(Run.id, Run.host, Run.heartbeat_at, Run.started_at).where(
                    Run.status == "running"
                )
            ).all()
            dead = sorted(
                r.id
                for r in rows
                if (r.heartbeat_at or r.started_at) < cutoff or _local_process_gone(r.host)
            )
            if dead:
                s.execute(
                    update(Run)
                    .where(Run.id.in_(dead), Run.status == "running")
                    .values(
                        status="interrupted",
                        finished_at=func.coalesce(Run.heartbeat_at, Run.started_at),
                    )
                )
        return dead

    # -- results ----------------------------------------------------------------------

    def save_portal(
        self,
        run_id: int,
        site: PortalArtifacts,
        findings: Sequence[Finding],
        score: float | None,
        *,
        started_at: datetime | None = None,
        cached_parses: Collection[str] | None = None,
        inputs_digest: str = "",
        agency_findings: Sequence[Finding] = (),
    ) -> int:
        """Store one portal of a run (result, pages, failures, bodies, findings) atomically.

        Saving the same portal twice in one run replaces the first result. A portal URL
        not in the registry gets a portal row of its own (agency kept only if known).
        `started_at` defaults to the first page's fetch time, else the run clock.
        With `cached_parses` (the parse-cache keys the crawl used), every page's parse not
        cached yet is cached for the next night (`probe.store.pagecodec`); None leaves the
        cache alone. `inputs_digest` is the digest of what `findings` were computed from
        (`probe.memo.portal_digest`); the next night's `previous_findings` hands the findings
        back with it, and "" means they are never reused. `agency_findings` (about the
        agency as a whole, as `save_agency_findings` stores them) go in the same transaction:
        the runner judges an agency with its last portal, and a transaction of its own per
        agency was a measurable share of a night of 304s.

        This runs once per portal, in the run's event loop on SQLite (`probe.store.calls`),
        so it is written for few statements (about ten a portal, whatever its page count)
        through SQLAlchemy Core on one connection: the ORM's unit of work and bulk-insert
        path cost more CPU than SQLite itself did.
        """
        now = utcnow()
        failed = site.outcome != "checked"
        first = min((p.fetched_at for p in site.pages if p.fetched_at), default=None)
        agency_id = site.agency_id or None
        with self._write_engine.begin() as conn:
            portal_id, old_id, old_outcome = _portal_and_result(conn, site.url, agency_id, run_id)
            done_delta, failed_delta = 1, int(failed)
            if old_id is not None:
                conn.execute(_DROP_RESULT, {"result_id": old_id})
                done_delta, failed_delta = 0, int(failed) - int(old_outcome != "checked")
            counted = conn.execute(
                _COUNT_PORTAL,
                {"run_id": run_id, "done": done_delta, "failed": failed_delta, "now": now},
            )
            if counted.rowcount == 0:
                raise LookupError(f"run {run_id} not found")
            added = conn.execute(
                _ADD_RESULT,
                {
                    "run_id": run_id,
                    "portal_id": portal_id,
                    "agency_id": agency_id,
                    "outcome": clip(site.outcome, 20),
                    "reason_code": clip(site.reason.code if site.reason else "", 60),
                    "reason_message": site.reason.message if site.reason else "",
                    "final_url": clip(site.final_url, 2000),
                    "score": score,
                    "pages_fetched": len(site.pages),
                    "bytes_received": sum(p.size for p in site.pages if not p.not_modified),
                    "started_at": started_at or first or site.now,
                    "finished_at": now,
                    "inputs_digest": clip(inputs_digest, 64),
                },
            )
            result_id = int(added.inserted_primary_key[0])
            keys = [parsed_key(p.url, p.content_hash) if p.content_hash else "" for p in site.pages]
            pages = page_rows(result_id, site, keys)
            if pages:
                conn.execute(_ADD_PAGES, pages)
            rows = finding_rows(run_id, result_id, agency_id, findings)
            if agency_findings:
                rows += finding_rows(run_id, None, site.agency_id, agency_findings)
            if rows:
                conn.execute(_ADD_FINDINGS, rows)
            hashes = {p.content_hash for p in site.pages if p.content_hash}
            store_bodies(conn, site.bodies, hashes, now)
            if cached_parses is not None:
                store_parsed(conn, site.pages, keys, cached_parses, now, site.parses)
            return result_id

    def previous_findings(self, portal_url: str) -> tuple[str, list[Finding]]:
        """`(inputs_digest, findings)` of the portal's latest result that recorded a digest.

        Latest means highest id, in any run and with any outcome: the runner compares the
        digest with tonight's and, when they are equal, reuses the findings (in their stored
        order) instead of re-running the checks that do not read the clock. `("", [])` when
        the portal has no such result. One statement.
        """
        with self.engine.connect() as conn:
            return queries.previous_findings(conn, portal_url)

    def save_agency_findings(self, run_id: int, agency_id: str, findings: Sequence[Finding]) -> int:
        """Store findings about an agency as a whole (e.g. parallel portals)."""
        rows = finding_rows(run_id, None, agency_id, findings)
        if rows:
            with self.write_session() as s:
                s.execute(insert(FindingRecord), rows)
        return len(rows)

    # -- bodies and conditional requests ----------------------------------------------

    def validators_for(self, portal_url: str) -> dict[str, tuple[str, str, str]]:
        """`{page url: (etag, last_modified, content_hash)}` for a conditional re-crawl.

        Taken from the portal's latest `checked` result, and only for pages whose body is
        still stored: a 304 for a page whose body was pruned would leave nothing to check.
        """
        with self.engine.connect() as conn:
            return queries.validators(conn, portal_url)

    def validators_with_parses(
        self, portal_url: str
    ) -> dict[str, tuple[str, str, str, bytes, str, bytes]]:
        """`{page url: (etag, last_modified, content_type, body, content_hash, parse)}`.

        The pages of `validators_for`, each with its cached parse (`probe.store.pagecodec`)
        or, when it has none, its body; one of the two is always there.
        """
        with self.engine.connect() as conn:
            return queries.validators_with_parses(conn, portal_url, parsed_key)

    def earlier(
        self, portal_url: str
    ) -> tuple[dict[str, tuple[str, str, str, bytes, str, bytes]], tuple[str, list[Finding]]]:
        """`(validators_with_parses(url), previous_findings(url))` on one connection, in one
        read transaction: what the runner asks of every portal before crawling it, for one
        connection checkout and one BEGIN instead of two."""
        with self.engine.connect() as conn:
            return (
                queries.validators_with_parses(conn, portal_url, parsed_key),
                queries.previous_findings(conn, portal_url),
            )

    def load_body(self, sha256: str) -> bytes | None:
        """A stored page body, or None if never stored or pruned."""
        with self.session() as s:
            return load_body(s, sha256)

    def prune_bodies(self, older_than_days: int, now: datetime | None = None) -> int:
        """Drop body data and parses not seen for `older_than_days` (plus up to the touch
        slack, `probe.store.blobs.prune_cutoff`; 0 drops all); findings and evidence stay."""
        cutoff = prune_cutoff(now or utcnow(), older_than_days)
        with self.write_session() as s:
            prune_parsed(s, cutoff)
            return prune_bodies(s, cutoff)

    # -- leases -------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take the named lease if it is free, expired, or already ours; True if we hold it.

        One upsert decides, so two processes racing for it cannot both win: on SQLite the
        write lock serialises them, on PostgreSQL the row lock of ON CONFLICT does.
        """
        now = utcnow()
        values = {"name": name, "holder": holder, "expires_at": now + ttl}
        with self.write_session() as s:
            stmt = upsert(s, Lease).values(**values)
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["name"],
                    set_={"holder": holder, "expires_at": now + ttl},
                    where=(Lease.expires_at <= now) | (Lease.holder == holder),
                )
            )
            current = s.execute(select(Lease.holder).where(Lease.name == name)).scalar_one()
        return current == holder

    def renew_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Extend a lease we hold; False if someone else has taken it over."""
        with self.write_session() as s:
            done = s.execute(
                update(Lease)
                .where(Lease.name == name, Lease.holder == holder)
                .values(expires_at=utcnow() + ttl)
            )
            return done.rowcount == 1

    def release_lease(self, name: str, holder: str) -> bool:
        """Give a lease back; False if it was not ours (any more)."""
        with self.write_session() as s:
            done = s.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
            return done.rowcount == 1

    # -- reads --------------------------------------------------------------------------

    def latest_run_id(self, trigger: str | None = None) -> int | None:
        """The newest run, optionally of one trigger."""
        with self.session() as s:
            return queries.latest_run_id(s, trigger)

    def list_runs(self, limit: int = 20) -> list[RunInfo]:
        """Newest runs first."""
        with self.session() as s:
            return queries.list_runs(s, limit)

    def get_run(self, run_id: int) -> RunInfo | None:
        """One run, or None."""
        with self.session() as s:
            return queries.get_run(s, run_id)

    def run_results(self, run_id: int) -> list[StoredResult]:
        """Every portal result of a run with findings and pages, by agency then URL."""
        with self.session() as s:
            return queries.run_results(s, run_id)

    def agency_findings(self, run_id: int) -> dict[str, tuple[Finding, ...]]:
        """Agency-scope findings of a run, by agency id."""
        with self.session() as s:
            return queries.agency_findings(s, run_id)

    def score_history(self, portal_url: str, limit: int = 30) -> list[ScorePoint]:
        """A portal's scores over its stored runs, newest first."""
        with self.session() as s:
            return queries.score_history(s, portal_url, limit)


# save_portal's statements, built once and bound per call: SQLAlchemy caches the compiled
# SQL but not the statement, and building them per portal (clauses, cache keys) was about
# a third of a second night's save.
_FIND_PORTAL = (
    select(_PORTAL.c.id, _RESULT.c.id, _RESULT.c.outcome)
    .select_from(
        _PORTAL.outerjoin(
            _RESULT,
            (_RESULT.c.portal_id == _PORTAL.c.id) & (_RESULT.c.run_id == bindparam("run_id")),
        )
    )
    .where(_PORTAL.c.url == bindparam("url"))
)
_PORTAL_ID = select(_PORTAL.c.id).where(_PORTAL.c.url == bindparam("url"))
_AGENCY_KNOWN = select(_AGENCY.c.id).where(_AGENCY.c.id == bindparam("agency_id"))
_DROP_RESULT = delete(_RESULT).where(_RESULT.c.id == bindparam("result_id"))
_COUNT_PORTAL = (
    update(_RUN)
    .where(_RUN.c.id == bindparam("run_id"))
    .values(
        portals_done=_RUN.c.portals_done + bindparam("done"),
        portals_failed=_RUN.c.portals_failed + bindparam("failed"),
        heartbeat_at=bindparam("now"),
    )
)
_ADD_RESULT, _ADD_PAGES, _ADD_FINDINGS = insert(_RESULT), insert(_PAGE), insert(_FINDING)


def _portal_and_result(
    conn: Connection, url: str, agency_id: str | None, run_id: int
) -> tuple[int, int | None, str | None]:
    """The portal's id (its row made if new) and its result in this run, if saved before."""
    found = conn.execute(_FIND_PORTAL, {"url": url, "run_id": run_id}).first()
    if found is not None:
        return found[0], found[1], found[2]
    if agency_id is not None:
        known = conn.execute(_AGENCY_KNOWN, {"agency_id": agency_id}).first()
        agency_id = agency_id if known is not None else None
    conn.execute(upsert(conn, Portal).values(url=url, agency_id=agency_id).on_conflict_do_nothing())
    return conn.execute(_PORTAL_ID, {"url": url}).scalar_one(), None, None


def _local_process_gone(host: str) -> bool:
    """Was the run started on this host by a process that has since died?"""
    name, _, pid_text = host.rpartition(":")
    if name != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False
