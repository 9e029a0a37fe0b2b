"""The portal-compliance table: pure, from `ReportData` to rows, cells and evidence.

Every renderer draws the same `Table`, so a status shown in the terminal, the spreadsheet
and the HTML page can never disagree. Cells carry the ids of the evidence that justifies
them; a cell is highlighted where the inspectors' manual value and the crawler disagree,
because that is exactly where a person has to go and look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from probe.inspections import FieldDef
from probe.report.labels import STATUS_RANK, STATUS_SYMBOL, pick, ui
from probe.report.load import AgencyData, FindingData, InspectionData, PortalData, ReportData

# column id -> (checks it aggregates (exact id or "prefix."), registry ids to title it)
AUTO_COLUMNS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("footer", ("footer.",), ("footer",)),
    ("licence", ("licence",), ("licence",)),
    ("services", ("services.level",), ("services.level", "services")),
    ("freshness", ("freshness",), ("freshness",)),
    ("email", ("email.public_provider",), ("email.public_provider", "email")),
    ("transport", ("availability", "https", "tls", "domain"), ("transport", "availability")),
    ("parallel", ("portal.parallel",), ("portal.parallel",)),
)


@dataclass(frozen=True)
class Column:
    """A table column; `kind` is section, auto, score or manual."""

    id: str
    label: str
    kind: str
    legal_basis: str = ""


@dataclass
class Cell:
    """One status with its short text, its evidence ids and why it is highlighted."""

    status: str
    text: str = ""
    title: str = ""
    evidence: list[str] = field(default_factory=list)
    highlight: str = ""
    conflict: bool = False

    @property
    def symbol(self) -> str:
        """The status symbol of the legend."""
        return STATUS_SYMBOL.get(self.status, "?")


@dataclass
class Row:
    """An agency (is_sub False) or one of its portals (is_sub True)."""

    agency_id: str
    agency_name: str
    level: str
    portal_url: str
    portal_id: int | None
    is_sub: bool
    outcome: str
    score: float | None
    cells: dict[str, Cell]
    history: tuple[tuple[int, str, float | None], ...] = ()


@dataclass(frozen=True)
class EvidenceItem:
    """One finding as the evidence sheet and the detail view show it."""

    id: str
    agency_id: str
    portal_url: str
    check: str
    check_title: str
    status: str
    message: str
    legal_basis: str
    evidence: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Change:
    """A status or score that moved between the compared run and this one."""

    agency_id: str
    portal_url: str
    column: str
    before: str
    after: str
    improved: bool


@dataclass
class Table:
    """What every renderer draws."""

    lang: str
    title: str
    run_label: str
    ruleset_label: str
    columns: list[Column]
    rows: list[Row]
    evidence: list[EvidenceItem]
    changes: list[Change] = field(default_factory=list)
    compare_run: int | None = None


def worst(statuses: Sequence[str]) -> str:
    """Worst status, ignoring `na` unless everything is `na`; nothing known is `unknown`."""
    real = [s for s in statuses if s != "na"]
    if not statuses:
        return "unknown"
    if not real:
        return "na"
    return min(real, key=lambda s: STATUS_RANK.get(s, 2))


def _matches(check: str, patterns: Sequence[str]) -> bool:
    return any(check.startswith(p) if p.endswith(".") else check == p for p in patterns)


def judge_manual(fdef: FieldDef, values: Sequence[InspectionData], lang: str) -> Cell:
    """A manual value as a cell: judged by the catalogue's `good`/thresholds; several
    different values recorded for one date are a source conflict, shown as such."""
    if not values:
        return Cell("unknown", "", ui("no_value", lang))
    texts = list(dict.fromkeys(_fmt_value(fdef, v, lang) for v in values))
    statuses = [_judge_one(fdef, v) for v in values]
    prov = "; ".join(
        f"{v.source or v.source_file} ({v.inspected_on.isoformat()}"
        + (f", {v.inspector}" if v.inspector else "")
        + ")"
        for v in values
    )
    if len(texts) > 1:
        return Cell("warn", " | ".join(texts), f"{ui('conflict', lang)}: {prov}", conflict=True)
    return Cell(statuses[0], texts[0], prov)


def _fmt_value(fdef: FieldDef, v: InspectionData, lang: str) -> str:
    if fdef.type == "boolean":
        return ui("yes" if v.value_text == "true" else "no", lang)
    if fdef.type == "percent":
        return f"{v.value_text} %"
    return v.value_text


def _judge_one(fdef: FieldDef, v: InspectionData) -> str:
    if fdef.type == "boolean" and fdef.good is not None:
        return "pass" if (v.value_text == "true") == fdef.good else "fail"
    n = v.value_num
    if n is None:
        return "na"
    if fdef.pass_max is not None:
        return "pass" if n <= fdef.pass_max else "fail"
    if fdef.pass_min is not None:
        if n >= fdef.pass_min:
            return "pass"
        return "warn" if fdef.warn_min is not None and n >= fdef.warn_min else "fail"
    return "na"


def _short(col: str, found: Sequence[FindingData]) -> str:
    """A few characters of detail next to the symbol (level, age, licence number)."""
    for f in found:
        d = f.details
        if col == "services" and d.get("max_level") is not None:
            return f"{d['max_level']}"
        if col == "freshness" and d.get("age_days") is not None:
            return f"{d['age_days']} d"
        if col == "licence" and d.get("number"):
            return str(d["number"])
    return ""


class _Builder:
    """Holds the lookups of one table while it is built (not shared, not global)."""

    def __init__(self, data: ReportData, lang: str) -> None:
        self.data, self.lang = data, lang
        self.evidence: list[EvidenceItem] = []
        rs = data.ruleset
        self.section_basis = {f"section.{s.id}": s.legal_basis for s in rs.sections}
        self._col_of: dict[str, str | None] = {}
        self._titles: dict[str, str] = {}
        self._basis: dict[str, str] = {}

    def columns(self) -> list[Column]:
        lang, cols = self.lang, []
        for s in self.data.ruleset.sections:
            cols.append(
                Column(f"section.{s.id}", pick(s.label, lang, s.id), "section", s.legal_basis)
            )
        for cid, _, reg in AUTO_COLUMNS:
            title = next(
                (self.data.check_titles[r] for r in reg if r in self.data.check_titles), None
            )
            label = pick(title, lang) if title else ui(f"col.{cid}", lang)
            cols.append(Column(cid, label, "auto", self.basis(reg[0])))
        cols.append(Column("score", ui("score", lang), "score"))
        for f in self.data.catalogue.fields:
            cols.append(Column(f"manual.{f.id}", f.title(lang), "manual", f.section))
        return cols

    def basis(self, check: str) -> str:
        """The legal basis of a check (cached: asked once per finding)."""
        if check not in self._basis:
            self._basis[check] = self._find_basis(check)
        return self._basis[check]

    def _find_basis(self, check: str) -> str:
        rs_bases = self.data.ruleset.legal_basis
        if check in self.section_basis:
            return self.section_basis[check]
        if check in rs_bases:
            return rs_bases[check]
        family = check.split(".")[0]
        return self.data.check_bases.get(check) or self.data.check_bases.get(family, "")

    def add_evidence(self, agency: str, url: str, f: FindingData, title: str) -> str:
        eid = f"E{len(self.evidence) + 1}"
        msg = pick(f.message, self.lang)
        self.evidence.append(
            EvidenceItem(
                eid, agency, url, f.check, title, f.status, msg, self.basis(f.check), f.evidence
            )
        )
        return eid

    def auto_cells(
        self,
        agency: str,
        url: str,
        findings: Sequence[FindingData],
        cols: Sequence[Column],
        not_checked: str,
    ) -> dict[str, Cell]:
        cells: dict[str, Cell] = {}
        by_col: dict[str, list[FindingData]] = defaultdict(list)
        for f in findings:
            col = self.column_of(f.check, cols)
            if col is not None:
                by_col[col].append(f)
        titles = self.titles(cols)
        for col in cols:
            if col.kind not in ("section", "auto") or col.id == "parallel":
                continue
            found = by_col.get(col.id)
            if not found:
                cells[col.id] = Cell("unknown", "", not_checked or ui("no_finding", self.lang))
                continue
            ids = [self.add_evidence(agency, url, f, titles[col.id]) for f in found]
            msgs = [pick(f.message, self.lang) for f in found]
            msg = " · ".join(m for m in msgs if m)
            cells[col.id] = Cell(worst([f.status for f in found]), _short(col.id, found), msg, ids)
        return cells

    def column_of(self, check: str, cols: Sequence[Column]) -> str | None:
        """The column a check id belongs to, computed once per check id (not per finding:
        2,000 portals × 32 findings × 26 columns of prefix tests took seconds)."""
        if check in self._col_of:
            return self._col_of[check]
        specs = {c: pats for c, pats, _ in AUTO_COLUMNS}
        found = None
        for col in cols:
            if col.kind not in ("section", "auto") or col.id == "parallel":
                continue
            pats = (col.id,) if col.kind == "section" else specs[col.id]
            if _matches(check, pats):
                found = col.id
                break
        self._col_of[check] = found
        return found

    def titles(self, cols: Sequence[Column]) -> dict[str, str]:
        """Column id → label, built once."""
        if not self._titles:
            self._titles = {c.id: c.label for c in cols}
        return self._titles

    def portal_row(self, a: AgencyData, p: PortalData, cols: Sequence[Column], sub: bool) -> Row:
        reason = (
            ""
            if p.outcome == "checked"
            else f"{ui('not_checked', self.lang)}: {p.outcome} {p.reason_message}".strip()
        )
        cells = self.auto_cells(a.id, p.url, p.findings, cols, reason)
        cells["score"] = _score_cell(p.score)
        hist = self.data.history.get(p.id, ())
        return Row(
            a.id,
            a.name if self.lang == "vi" else (a.name_en or a.name),
            a.level,
            p.url,
            p.id,
            sub,
            p.outcome,
            p.score,
            cells,
            hist,
        )

    def agency_rows(self, a: AgencyData, cols: Sequence[Column]) -> list[Row]:
        subs = [self.portal_row(a, p, cols, len(a.portals) > 1) for p in a.portals]
        name = a.name if self.lang == "vi" else (a.name_en or a.name)
        if len(subs) == 1:
            head = subs[0]
        else:
            cells = {}
            for col in cols:
                if col.kind in ("section", "auto") and col.id != "parallel":
                    parts = [r.cells[col.id] for r in subs if col.id in r.cells]
                    cells[col.id] = Cell(
                        worst([c.status for c in parts]),
                        "",
                        "",
                        [e for c in parts for e in c.evidence],
                    )
            scores = [r.score for r in subs if r.score is not None]
            score = sum(scores) / len(scores) if scores else None
            cells["score"] = _score_cell(score)
            head = Row(a.id, name, a.level, "", None, False, "", score, cells)
        agency_found = [f for f in a.findings if f.check == "portal.parallel"]
        if agency_found:
            ids = [self.add_evidence(a.id, "", f, "portal.parallel") for f in agency_found]
            head.cells["parallel"] = Cell(
                worst([f.status for f in agency_found]),
                "",
                pick(agency_found[0].message, self.lang),
                ids,
            )
        else:
            head.cells["parallel"] = Cell("unknown", "", ui("no_finding", self.lang))
        manual = self.data.inspections.get(a.id, {})
        for f in self.data.catalogue.fields:
            head.cells[f"manual.{f.id}"] = judge_manual(f, manual.get(f.id, ()), self.lang)
        _contradictions(head.cells, manual, self.lang)
        return [head] if len(subs) == 1 else [head, *subs]


def _score_cell(score: float | None) -> Cell:
    if score is None:
        return Cell("unknown", "")
    status = "pass" if score >= 0.8 else "warn" if score >= 0.5 else "fail"
    return Cell(status, f"{round(score * 100)}")


def _contradictions(
    cells: dict[str, Cell], manual: Mapping[str, Sequence[InspectionData]], lang: str
) -> None:
    """Mark where the inspectors and the crawler disagree (both cells, with the reason)."""
    why = ui("contradiction", lang)

    def nums(fid: str) -> list[float]:
        return [v.value_num for v in manual.get(fid, ()) if v.value_num is not None]

    def mark(auto: str, fid: str, detail: str) -> None:
        text = f"{why}: {detail}"
        for key in (auto, f"manual.{fid}"):
            if key in cells:
                cells[key].highlight = text

    lic, mail, par = cells.get("licence"), cells.get("email"), cells.get("parallel")
    licensed = nums("portal_licence_obtained")
    if lic and licensed and 1.0 in licensed and lic.status == "fail":
        mark("licence", "portal_licence_obtained", "licensed per inspection, no licence line found")
    if lic and licensed and 1.0 not in licensed and lic.status == "pass":
        mark("licence", "portal_licence_obtained", "no licence per inspection, licence line found")
    if (
        mail
        and any(n >= 80 for n in nums("official_email_use_pct"))
        and mail.status in ("fail", "warn")
    ):
        mark(
            "email",
            "official_email_use_pct",
            "official mail ≥ 80 % per inspection, portal publishes public mail",
        )
    count = nums("parallel_portal_count")
    if (
        par
        and count
        and (
            (max(count) >= 2 and par.status == "pass") or (max(count) <= 1 and par.status == "fail")
        )
    ):
        mark("parallel", "parallel_portal_count", "parallel portal count differs")


def build_table(data: ReportData, *, lang: str = "vi", compare: ReportData | None = None) -> Table:
    """Build the table of `data` in `lang`; with `compare`, list what moved since that run."""
    b = _Builder(data, lang)
    cols = b.columns()
    rows = [r for a in data.agencies for r in b.agency_rows(a, cols)]
    run = data.run
    run_label = (
        f"#{run.id} {run.trigger} {run.started_at.isoformat(timespec='minutes')}"
        if run
        else ui("no_run", lang)
    )
    table = Table(
        lang,
        ui("title", lang),
        run_label,
        pick(data.ruleset.title, lang, data.ruleset.id),
        cols,
        rows,
        b.evidence,
    )
    if compare is not None:
        old = build_table(compare, lang=lang)
        table.compare_run = compare.run.id if compare.run else None
        table.changes = diff_tables(old, table)
    return table


def diff_tables(old: Table, new: Table) -> list[Change]:
    """Cells whose status changed rank, per agency/portal and column (manual ones excluded)."""

    def index(t: Table) -> dict[tuple[str, str, str], str]:
        return {
            (r.agency_id, r.portal_url, cid): c.status
            for r in t.rows
            for cid, c in r.cells.items()
            if not cid.startswith("manual.")
        }

    before, after = index(old), index(new)
    labels = {c.id: c.label for c in new.columns}
    out = []
    for key, now in after.items():
        was = before.get(key)
        if was is None or was == now or "na" in (was, now):
            continue
        out.append(
            Change(
                key[0],
                key[1],
                labels.get(key[2], key[2]),
                was,
                now,
                STATUS_RANK.get(now, 2) > STATUS_RANK.get(was, 2),
            )
        )
    return out
