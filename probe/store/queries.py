"""Read queries behind `Store`'s read methods, returning `probe.store.records` types.

Each query loads a run's results, findings and pages in three statements and groups
them in Python, so a report of 200 portals does not issue 400 lazy loads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checks.base import Evidence, Finding, Status
from probe.artifacts import Reason
from probe.store.blobs import CHUNK, decompress_body
from probe.store.models import Blob, FindingRecord, PageRecord, Portal, PortalResult, Run
from probe.store.parsed import load_parsed
from probe.store.records import RunInfo, ScorePoint, StoredPage, StoredResult


def latest_run_id(s: Session, trigger: str | None) -> int | None:
    """The highest run id (ids grow with start time), optionally of one trigger."""
    stmt = select(func.max(Run.id))
    if trigger is not None:
        stmt = stmt.where(Run.trigger == trigger)
    return s.execute(stmt).scalar()


def _run_info(r: Run) -> RunInfo:
    return RunInfo(
        id=r.id,
        trigger=r.trigger,
        status=r.status,
        ruleset_id=r.ruleset_id,
        ruleset_version=r.ruleset_version,
        tool_version=r.tool_version,
        started_at=r.started_at,
        finished_at=r.finished_at,
        heartbeat_at=r.heartbeat_at,
        host=r.host,
        portals_total=r.portals_total,
        portals_done=r.portals_done,
        portals_failed=r.portals_failed,
        settings=dict(r.settings or {}),
    )


def list_runs(s: Session, limit: int) -> list[RunInfo]:
    """Newest first."""
    runs = s.execute(select(Run).order_by(Run.id.desc()).limit(limit)).scalars()
    return [_run_info(r) for r in runs]


def get_run(s: Session, run_id: int) -> RunInfo | None:
    """One run or None."""
    r = s.get(Run, run_id)
    return _run_info(r) if r is not None else None


def _finding(f: FindingRecord) -> Finding:
    return Finding(
        check=f.check_id,
        status=Status(f.status),
        message={"vi": f.message_vi, "en": f.message_en},
        evidence=tuple(
            Evidence(str(e.get("url", "")), str(e.get("text", ""))) for e in f.evidence or []
        ),
        details=dict(f.details or {}),
        weight=f.weight,
    )


def _page(p: PageRecord) -> StoredPage:
    return StoredPage(
        url=p.url,
        final_url=p.final_url,
        status=p.status,
        content_type=p.content_type,
        depth=p.depth,
        elapsed_ms=p.elapsed_ms,
        fetched_at=p.fetched_at,
        content_hash=p.content_hash,
        size=p.size,
        etag=p.etag,
        last_modified=p.last_modified,
        not_modified=p.not_modified,
        error_code=p.error_code,
        error_message=p.error_message,
    )


def run_results(s: Session, run_id: int) -> list[StoredResult]:
    """Portal results of a run, ordered by agency id then portal URL."""
    rows = s.execute(
        select(PortalResult, Portal.url)
        .join(Portal, Portal.id == PortalResult.portal_id)
        .where(PortalResult.run_id == run_id)
        .order_by(PortalResult.agency_id, Portal.url)
    ).all()
    findings: dict[int, list[Finding]] = defaultdict(list)
    for f in s.execute(
        select(FindingRecord)
        .where(FindingRecord.run_id == run_id, FindingRecord.result_id.is_not(None))
        .order_by(FindingRecord.id)
    ).scalars():
        findings[f.result_id or 0].append(_finding(f))
    pages: dict[int, list[StoredPage]] = defaultdict(list)
    for p in s.execute(
        select(PageRecord)
        .join(PortalResult, PortalResult.id == PageRecord.result_id)
        .where(PortalResult.run_id == run_id)
        .order_by(PageRecord.id)
    ).scalars():
        pages[p.result_id].append(_page(p))
    return [
        StoredResult(
            id=r.id,
            run_id=r.run_id,
            portal_url=url,
            agency_id=r.agency_id,
            outcome=r.outcome,
            reason=Reason(r.reason_code, r.reason_message) if r.reason_code else None,
            final_url=r.final_url,
            score=r.score,
            pages_fetched=r.pages_fetched,
            bytes_received=r.bytes_received,
            started_at=r.started_at,
            finished_at=r.finished_at,
            findings=tuple(findings.get(r.id, ())),
            pages=tuple(pages.get(r.id, ())),
        )
        for r, url in rows
    ]


def agency_findings(s: Session, run_id: int) -> dict[str, tuple[Finding, ...]]:
    """Findings stored with no portal result, by agency id."""
    out: dict[str, list[Finding]] = defaultdict(list)
    for f in s.execute(
        select(FindingRecord)
        .where(FindingRecord.run_id == run_id, FindingRecord.result_id.is_(None))
        .order_by(FindingRecord.id)
    ).scalars():
        out[f.agency_id or ""].append(_finding(f))
    return {k: tuple(v) for k, v in out.items()}


def score_history(s: Session, portal_url: str, limit: int) -> list[ScorePoint]:
    """Newest first."""
    rows = s.execute(
        select(Run.id, Run.started_at, PortalResult.outcome, PortalResult.score)
        .join(PortalResult, PortalResult.run_id == Run.id)
        .join(Portal, Portal.id == PortalResult.portal_id)
        .where(Portal.url == portal_url)
        .order_by(Run.id.desc())
        .limit(limit)
    ).all()
    return [ScorePoint(r.id, r.started_at, r.outcome, r.score) for r in rows]


def latest_checked_result(s: Session, portal_url: str) -> int | None:
    """Id of the portal's latest `checked` result: what a conditional re-crawl builds on."""
    return s.execute(
        select(func.max(PortalResult.id))
        .join(Portal, Portal.id == PortalResult.portal_id)
        .where(Portal.url == portal_url, PortalResult.outcome == "checked")
    ).scalar()


def validators(s: Session, portal_url: str) -> dict[str, tuple[str, str, str]]:
    """Validators of the latest `checked` result's pages whose bodies are still kept."""
    latest = latest_checked_result(s, portal_url)
    if latest is None:
        return {}
    rows = s.execute(
        select(PageRecord.url, PageRecord.etag, PageRecord.last_modified, PageRecord.content_hash)
        .join(Blob, Blob.sha256 == PageRecord.content_hash)
        .where(
            PageRecord.result_id == latest,
            PageRecord.error_code == "",
            (PageRecord.etag != "") | (PageRecord.last_modified != ""),
            Blob.data.is_not(None),
        )
    ).all()
    return {r.url: (r.etag, r.last_modified, r.content_hash) for r in rows}


def validators_with_parses(
    s: Session, portal_url: str, parsed_key: Callable[[str, str], str]
) -> dict[str, tuple[str, str, str, str, bytes, bytes]]:
    """`{url: (etag, last_modified, content_hash, content_type, body, parse)}`.

    A page with a cached parse gets no body (b""): decompressing bodies that a 304 and
    the parse make unnecessary was a tenth of a second night. Pages without a parse
    get their body, read in one more statement.
    """
    latest = latest_checked_result(s, portal_url)
    if latest is None:
        return {}
    rows = s.execute(
        select(
            PageRecord.url,
            PageRecord.etag,
            PageRecord.last_modified,
            PageRecord.content_hash,
            PageRecord.content_type,
        )
        .join(Blob, Blob.sha256 == PageRecord.content_hash)
        .where(
            PageRecord.result_id == latest,
            PageRecord.error_code == "",
            (PageRecord.etag != "") | (PageRecord.last_modified != ""),
            Blob.data.is_not(None),
        )
    ).all()
    keys = {r.url: parsed_key(r.url, r.content_hash) for r in rows}
    parses = load_parsed(s, keys.values())
    missing = sorted({r.content_hash for r in rows if keys[r.url] not in parses})
    bodies: dict[str, bytes] = {}
    for i in range(0, len(missing), CHUNK):
        part = missing[i : i + CHUNK]
        for sha, encoding, data in s.execute(
            select(Blob.sha256, Blob.encoding, Blob.data).where(Blob.sha256.in_(part))
        ):
            if data is not None:
                bodies[sha] = decompress_body(encoding, data)
    return {
        r.url: (
            r.etag,
            r.last_modified,
            r.content_hash,
            r.content_type,
            bodies.get(r.content_hash, b""),
            parses.get(keys[r.url], b""),
        )
        for r in rows
    }
