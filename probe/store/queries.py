"""Read queries behind `Store`'s read methods, returning `probe.store.records` types.

Each query loads a run's results, findings and pages in three statements and groups
them in Python, so a report of 200 portals does not issue 400 lazy loads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from checks.base import Evidence, Finding, Status
from probe.artifacts import Reason
from probe.store.blobs import chunks, decompress_body
from probe.store.models import (
    Blob,
    FindingRecord,
    PageRecord,
    ParsedPage,
    Portal,
    PortalResult,
    Run,
)
from probe.store.parsed import load_parsed
from probe.store.records import RunInfo, ScorePoint, StoredPage, StoredResult
from probe.store.rows import Executor

_BLOB, _PAGE, _PARSED = Blob.__table__, PageRecord.__table__, ParsedPage.__table__
_FINDING = FindingRecord.__table__
_PORTAL, _RESULT = Portal.__table__, PortalResult.__table__


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
        evidence=_evidence(f.evidence),
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
            inputs_digest=r.inputs_digest,
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


def previous_findings(s: Executor, portal_url: str) -> tuple[str, list[Finding]]:
    """`(inputs_digest, findings)` of the portal's latest result with a digest, or `("", [])`.

    One statement: the result is found as a scalar subquery (the portal by its unique URL,
    then its results through `ix_portal_result_portal_id`) and outer-joined to its findings
    in finding-id order, so a result without findings still yields its digest. The rows
    are read through Core, not the ORM: this runs once per portal on every night.
    """
    rows = s.execute(PREVIOUS_FINDINGS, {"portal_url": portal_url}).all()
    if not rows:
        return "", []
    findings = [
        Finding(
            check=check_id,
            status=Status(status),
            message={"vi": vi, "en": en},
            evidence=_evidence(evidence),
            details=dict(details or {}),
            weight=weight,
        )
        for _digest, check_id, status, vi, en, evidence, details, weight in rows
        if check_id is not None
    ]
    return rows[0][0], findings


def _previous_findings_query() -> Select[Any]:
    """The statement of `previous_findings`, bound by `portal_url`."""
    latest = (
        select(func.max(_RESULT.c.id))
        .select_from(_RESULT.join(_PORTAL, _PORTAL.c.id == _RESULT.c.portal_id))
        .where(_PORTAL.c.url == bindparam("portal_url"), _RESULT.c.inputs_digest != "")
        .scalar_subquery()
    )
    return (
        select(
            _RESULT.c.inputs_digest,
            _FINDING.c.check_id,
            _FINDING.c.status,
            _FINDING.c.message_vi,
            _FINDING.c.message_en,
            _FINDING.c.evidence,
            _FINDING.c.details,
            _FINDING.c.weight,
        )
        .select_from(_RESULT.outerjoin(_FINDING, _FINDING.c.result_id == _RESULT.c.id))
        .where(_RESULT.c.id == latest)
        .order_by(_FINDING.c.id)
    )


# Built once, like the table handles above: building the Select per call was a third of
# the call's CPU (SQLAlchemy caches the compiled SQL, not the statement object).
PREVIOUS_FINDINGS = _previous_findings_query()


def _evidence(items: list[Any] | None) -> tuple[Evidence, ...]:
    return tuple(Evidence(str(e.get("url", "")), str(e.get("text", ""))) for e in items or ())


def _kept_pages() -> tuple[Any, ...]:
    """Where-clauses bound by `portal_url`: the pages of the portal's latest `checked`
    result (what a conditional re-crawl builds on, found as a scalar subquery so a read is
    one statement) with validators and a kept body."""
    latest_checked = (
        select(func.max(_RESULT.c.id))
        .select_from(_RESULT.join(_PORTAL, _PORTAL.c.id == _RESULT.c.portal_id))
        .where(_PORTAL.c.url == bindparam("portal_url"), _RESULT.c.outcome == "checked")
        .scalar_subquery()
    )
    return (
        _PAGE.c.result_id == latest_checked,
        _PAGE.c.error_code == "",
        (_PAGE.c.etag != "") | (_PAGE.c.last_modified != ""),
        _BLOB.c.data.is_not(None),
    )


# Built once and bound per call, like `PREVIOUS_FINDINGS`: building these Selects was
# about 40 % of a night-2 read's CPU.
VALIDATORS = (
    select(_PAGE.c.url, _PAGE.c.etag, _PAGE.c.last_modified, _PAGE.c.content_hash)
    .select_from(_PAGE.join(_BLOB, _BLOB.c.sha256 == _PAGE.c.content_hash))
    .where(*_kept_pages())
)
VALIDATORS_WITH_PARSES = (
    select(
        _PAGE.c.url,
        _PAGE.c.etag,
        _PAGE.c.last_modified,
        _PAGE.c.content_hash,
        _PAGE.c.content_type,
        _PAGE.c.parse_key,
        _PARSED.c.data,
    )
    .select_from(
        _PAGE.join(_BLOB, _BLOB.c.sha256 == _PAGE.c.content_hash).outerjoin(
            _PARSED, _PARSED.c.key == _PAGE.c.parse_key
        )
    )
    .where(*_kept_pages())
)
BODIES = select(_BLOB.c.sha256, _BLOB.c.encoding, _BLOB.c.data).where(
    _BLOB.c.sha256.in_(bindparam("hashes", expanding=True))
)


def validators(s: Executor, portal_url: str) -> dict[str, tuple[str, str, str]]:
    """Validators of the latest `checked` result's pages whose bodies are still kept."""
    rows = s.execute(VALIDATORS, {"portal_url": portal_url}).all()
    return {url: (etag, modified, digest) for url, etag, modified, digest in rows}


def validators_with_parses(
    s: Executor, portal_url: str, parsed_key: Callable[[str, str], str]
) -> dict[str, tuple[str, str, str, bytes, str, bytes]]:
    """`{url: (etag, last_modified, content_type, body, content_hash, parse)}`.

    One statement: the latest checked result's pages joined to their bodies' rows (only
    to know they are kept; nothing is read from them) and, through `page.parse_key`, to
    their cached parses. A page with a parse gets no body (b""): decompressing bodies
    that a 304 and the parse make unnecessary was a tenth of a second night. A page whose
    recorded key is not tonight's (written before migration 0003, or by another codec or
    extractor) is looked up by tonight's key; pages still without a parse get their body.
    Both are one more statement each, on the rare nights they are needed.
    """
    rows = s.execute(VALIDATORS_WITH_PARSES, {"portal_url": portal_url}).all()
    parses: dict[str, bytes] = {}
    stale: dict[str, str] = {}
    for url, _etag, _modified, digest, _ctype, recorded, data in rows:
        key = parsed_key(url, digest)
        if data is not None and recorded == key:
            parses[url] = bytes(data)
        else:
            stale[url] = key
    if stale:
        found = load_parsed(s, stale.values())
        parses.update((url, found[key]) for url, key in stale.items() if key in found)
    missing = sorted({r.content_hash for r in rows if r.url not in parses})
    bodies: dict[str, bytes] = {}
    for part in chunks(missing):
        for sha, encoding, data in s.execute(BODIES, {"hashes": part}):
            if data is not None:
                bodies[sha] = decompress_body(encoding, data)
    return {
        url: (etag, modified, ctype, bodies.get(digest, b""), digest, parses.get(url, b""))
        for url, etag, modified, digest, ctype, _recorded, _data in rows
    }
