"""Read one stored run and the latest inspection values into plain dataclasses.

The report must not touch the database while rendering (2,000 portals, five formats), so
everything it needs is read here in a fixed number of queries, whatever the portal count:
run, results, findings, agencies, inspection values, score history.
"""

from __future__ import annotations

import gc
import json
import tomllib
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, Text, select, type_coerce
from sqlalchemy.orm import Session

from probe.errors import InputError
from probe.inspections import FieldCatalogue, load_field_catalogue
from probe.settings import CONFIG_DIR
from probe.store import models as m

HISTORY_RUNS = 30  # points in a portal's score chart


@dataclass(frozen=True)
class FindingData:
    """A stored finding; `evidence` is a tuple of (url, text)."""

    id: int
    check: str
    status: str
    weight: float
    message: Mapping[str, str]
    evidence: tuple[tuple[str, str], ...]
    details: Mapping[str, Any]


@dataclass(frozen=True)
class PortalData:
    """One portal's result in the run."""

    id: int
    url: str
    outcome: str
    reason_code: str
    reason_message: str
    final_url: str
    score: float | None
    pages_fetched: int
    findings: tuple[FindingData, ...]


@dataclass(frozen=True)
class AgencyData:
    """An agency with its portals and its agency-scope findings (e.g. portal.parallel)."""

    id: str
    name: str
    name_en: str
    level: str
    portals: tuple[PortalData, ...]
    findings: tuple[FindingData, ...]


@dataclass(frozen=True)
class InspectionData:
    """A manual value with its provenance."""

    field_id: str
    inspected_on: date
    value_text: str
    value_num: float | None
    inspector: str
    source: str
    note: str
    source_file: str
    source_row: int


@dataclass(frozen=True)
class RunData:
    """The run a report is about."""

    id: int
    trigger: str
    status: str
    ruleset_id: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class SectionInfo:
    """A mandated section of the ruleset, as the report labels it."""

    id: str
    label: Mapping[str, str]
    legal_basis: str


@dataclass(frozen=True)
class RulesetInfo:
    """What the report needs from a ruleset: sections in order and each check's basis."""

    id: str
    title: Mapping[str, str]
    sections: tuple[SectionInfo, ...]
    legal_basis: Mapping[str, str]  # check id -> basis


@dataclass(frozen=True)
class ReportData:
    """Everything a report renders; built by `load_report`, or by hand in tests."""

    run: RunData | None
    ruleset: RulesetInfo
    agencies: tuple[AgencyData, ...]
    inspections: Mapping[str, Mapping[str, tuple[InspectionData, ...]]]
    catalogue: FieldCatalogue
    history: Mapping[int, tuple[tuple[int, str, float | None], ...]] = field(default_factory=dict)
    check_titles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    check_bases: Mapping[str, str] = field(default_factory=dict)


def ruleset_info(ruleset_id: str) -> RulesetInfo:
    """Sections and bases of a ruleset, via `checks.ruleset` when it is there.

    Falls back to reading `config/rulesets/<id>.toml` so the report works on a store whose
    ruleset loader is missing or newer; an unknown id gives an empty ruleset, not a crash,
    because an old run must stay readable.
    """
    try:
        from checks.ruleset import load_ruleset  # type: ignore[import-not-found]
    except ImportError:
        load_ruleset = None
    if load_ruleset is not None:
        try:
            rs = load_ruleset(ruleset_id)
        except InputError:
            rs = None
        if rs is not None:
            sections = tuple(
                SectionInfo(s.id, dict(s.label), getattr(s, "legal_basis", ""))
                for s in getattr(rs, "sections", ())
            )
            bases = {k: getattr(v, "legal_basis", "") for k, v in _checks_of(rs).items()}
            return RulesetInfo(ruleset_id, dict(getattr(rs, "title", {})), sections, bases)
    path = CONFIG_DIR / "rulesets" / f"{ruleset_id}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return RulesetInfo(ruleset_id, {}, (), {})
    sections = tuple(
        SectionInfo(s["id"], dict(s.get("label", {})), s.get("legal_basis", ""))
        for s in raw.get("section", [])
    )
    bases = {k: v.get("legal_basis", "") for k, v in raw.get("checks", {}).items()}
    return RulesetInfo(ruleset_id, dict(raw.get("title", {})), sections, bases)


def _checks_of(rs: Any) -> Mapping[str, Any]:
    checks = getattr(rs, "checks", {})
    return checks if isinstance(checks, Mapping) else {}


def registry_meta() -> tuple[dict[str, Mapping[str, str]], dict[str, str]]:
    """Titles and legal bases of the registered checks (imports the check families)."""
    from checks import load_families
    from checks.base import REGISTRY

    load_families(strict=True)

    titles = {cid: c.meta.title for cid, c in REGISTRY.items()}
    bases = {cid: c.meta.legal_basis for cid, c in REGISTRY.items()}
    return titles, bases


def _json(raw: Any, empty: Any) -> Any:
    """A JSON column read as text on SQLite (decoded here, "{}"/"[]" without the parser);
    PostgreSQL drivers hand back the decoded value already."""
    if raw is None:
        return empty
    if isinstance(raw, str):
        return empty if raw in ("{}", "[]", "null", "") else json.loads(raw)
    return raw


def _finding(row: Any) -> FindingData:
    ev = tuple(
        (str(e.get("url", "")), str(e.get("text", "")))
        for e in _json(row.evidence, ())
        if isinstance(e, Mapping)
    )
    return FindingData(
        row.id,
        row.check_id,
        row.status,
        row.weight,
        {"vi": row.message_vi, "en": row.message_en},
        ev,
        dict(_json(row.details, {})),
    )


FINDING_COLUMNS = (
    m.FindingRecord.id,
    m.FindingRecord.result_id,
    m.FindingRecord.agency_id,
    m.FindingRecord.check_id,
    m.FindingRecord.status,
    m.FindingRecord.weight,
    m.FindingRecord.message_vi,
    m.FindingRecord.message_en,
    # Raw text: SQLAlchemy's JSON type would parse 64,000 "{}" one call at a time.
    type_coerce(m.FindingRecord.evidence, Text).label("evidence"),
    type_coerce(m.FindingRecord.details, Text).label("details"),
)
RESULT_COLUMNS = (
    m.PortalResult.id,
    m.PortalResult.portal_id,
    m.PortalResult.agency_id,
    m.PortalResult.outcome,
    m.PortalResult.reason_code,
    m.PortalResult.reason_message,
    m.PortalResult.final_url,
    m.PortalResult.score,
    m.PortalResult.pages_fetched,
    m.Portal.url,
)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector while a report's objects are built.

    A 2,000-portal report allocates a few million small acyclic objects; each allocation
    burst triggers full collections that walk all of them again, which cost about as much
    as the work itself. Nothing built here forms cycles, so pausing frees nothing late.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _session(source: Any) -> Session:
    if isinstance(source, Engine):
        return Session(source)
    engine = getattr(source, "engine", None)
    if isinstance(engine, Engine):
        return Session(engine)
    raise TypeError("expected a SQLAlchemy Engine or a Store with .engine")


def load_report(
    source: Any,
    *,
    run_id: int | None = None,
    agencies: Collection[str] | None = None,
    catalogue: FieldCatalogue | None = None,
    with_history: bool = True,
) -> ReportData:
    """Load run `run_id` (default: the latest finished or interrupted run) for the report.

    With no run stored at all, the report still shows the agencies' inspection values, so
    an inspection imported before the first crawl can be printed. Raises InputError for a
    run id that does not exist.
    """
    with paused_gc():
        return _load(source, run_id, agencies, catalogue, with_history)


def _load(
    source: Any,
    run_id: int | None,
    agencies: Collection[str] | None,
    catalogue: FieldCatalogue | None,
    with_history: bool,
) -> ReportData:
    cat = catalogue or load_field_catalogue()
    wanted = set(agencies) if agencies else None
    with _session(source) as s:
        if run_id is None:
            run = s.scalar(
                select(m.Run)
                .where(m.Run.status.in_(("finished", "interrupted")))
                .order_by(m.Run.started_at.desc(), m.Run.id.desc())
                .limit(1)
            )
        else:
            run = s.get(m.Run, run_id)
            if run is None:
                raise InputError(f"run {run_id} not found in the database")
        per_result: dict[int, list[FindingData]] = defaultdict(list)
        per_agency: dict[str, list[FindingData]] = defaultdict(list)
        results: list[Any] = []
        if run is not None:
            # Plain rows, not ORM objects: 2,000 results and 64,000 findings are read
            # once and never modified, so identity-map bookkeeping is pure overhead.
            q = (
                select(*RESULT_COLUMNS)
                .join(m.Portal, m.Portal.id == m.PortalResult.portal_id)
                .where(m.PortalResult.run_id == run.id)
            )
            fq = select(*FINDING_COLUMNS).where(m.FindingRecord.run_id == run.id)
            if wanted is not None:
                q = q.where(m.PortalResult.agency_id.in_(wanted))
                fq = fq.where(m.FindingRecord.agency_id.in_(wanted))
            results = list(s.execute(q.order_by(m.Portal.url)))
            for f in s.execute(fq.order_by(m.FindingRecord.id)):
                if f.result_id is not None:
                    per_result[f.result_id].append(_finding(f))
                elif f.agency_id:
                    per_agency[f.agency_id].append(_finding(f))
        ins_q = select(m.InspectionValue)
        if wanted is not None:
            ins_q = ins_q.where(m.InspectionValue.agency_id.in_(wanted))
        inspections = _latest_values(s.scalars(ins_q.order_by(m.InspectionValue.id)))
        ids = {r.agency_id for r in results if r.agency_id} | set(per_agency)
        ids |= wanted if wanted is not None else set(inspections)
        rows = {a.id: a for a in s.scalars(select(m.Agency).where(m.Agency.id.in_(ids)))}
        portals: dict[str, list[PortalData]] = defaultdict(list)
        for r in results:
            portals[r.agency_id or ""].append(
                PortalData(
                    r.portal_id,
                    r.url,
                    r.outcome,
                    r.reason_code,
                    r.reason_message,
                    r.final_url,
                    r.score,
                    r.pages_fetched,
                    tuple(per_result.get(r.id, ())),
                )
            )
        history = _history(s, [r.portal_id for r in results]) if with_history else {}
    agency_list = []
    for aid in sorted(ids | ({""} if portals.get("") else set())):
        a = rows.get(aid)
        agency_list.append(
            AgencyData(
                aid,
                a.name if a else aid,
                a.name_en if a else "",
                a.level if a else "",
                tuple(portals.get(aid, ())),
                tuple(per_agency.get(aid, ())),
            )
        )
    run_data = (
        RunData(run.id, run.trigger, run.status, run.ruleset_id, run.started_at, run.finished_at)
        if run is not None
        else None
    )
    titles, bases = registry_meta()
    return ReportData(
        run_data,
        ruleset_info(run.ruleset_id if run is not None else "nd43-2011"),
        tuple(agency_list),
        inspections,
        cat,
        history,
        titles,
        bases,
    )


def _latest_values(
    values: Any,
) -> dict[str, dict[str, tuple[InspectionData, ...]]]:
    """Per agency and field, every value of the latest date (several = a recorded conflict)."""
    best: dict[tuple[str, str], list[InspectionData]] = {}
    for v in values:
        d = InspectionData(
            v.field_id,
            v.inspected_on,
            v.value_text,
            v.value_num,
            v.inspector,
            v.source,
            v.note,
            v.source_file,
            v.source_row,
        )
        key = (v.agency_id, v.field_id)
        cur = best.get(key)
        if cur is None or d.inspected_on > cur[0].inspected_on:
            best[key] = [d]
        elif d.inspected_on == cur[0].inspected_on:
            cur.append(d)
    out: dict[str, dict[str, tuple[InspectionData, ...]]] = defaultdict(dict)
    for (aid, fid), vals in best.items():
        out[aid][fid] = tuple(vals)
    return dict(out)


def _history(
    s: Session, portal_ids: list[int]
) -> dict[int, tuple[tuple[int, str, float | None], ...]]:
    """Each portal's score over its stored runs, oldest first, last HISTORY_RUNS only."""
    if not portal_ids:
        return {}
    q = (
        select(m.PortalResult.portal_id, m.Run.id, m.Run.started_at, m.PortalResult.score)
        .join(m.Run, m.Run.id == m.PortalResult.run_id)
        .where(m.PortalResult.portal_id.in_(set(portal_ids)))
        .order_by(m.Run.started_at, m.Run.id)
    )
    out: dict[int, list[tuple[int, str, float | None]]] = defaultdict(list)
    for pid, rid, started, score in s.execute(q):
        out[pid].append((rid, started.date().isoformat(), score))
    return {pid: tuple(v[-HISTORY_RUNS:]) for pid, v in out.items()}
