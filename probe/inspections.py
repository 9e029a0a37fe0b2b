"""Manual inspection data: the field catalogue and the CSV/XLSX import.

Inspectors record what a crawler cannot see (e-mail use, firewalls, licences obtained).
Their files are validated completely before anything is written, because a half-imported
spreadsheet is worse than none: the report would mix two inspections without saying so.
Every value keeps its provenance (file, row, inspector, date) so a reader can go back to
the paper. Re-importing a file is a no-op (same sha256), and a corrected file only touches
the rows whose value changed (natural key: agency, field, date, file name, row).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
import zipfile
import zlib
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from probe.errors import InputError
from probe.settings import CONFIG_DIR
from probe.store.models import InspectionImport, InspectionValue

FIELD_TYPES = ("percent", "boolean", "count", "money_mvnd", "text")
DEFAULT_CATALOGUE = CONFIG_DIR / "inspection_fields.toml"
LONG_COLUMNS = ("agency", "date", "field", "value", "inspector", "source", "note")
# Headers inspectors actually type, mapped to the canonical column names.
HEADER_ALIASES = {
    "agency": "agency", "co quan": "agency", "cơ quan": "agency", "agency_id": "agency",
    "date": "date", "ngay": "date", "ngày": "date", "inspected_on": "date",
    "field": "field", "truong": "field", "trường": "field", "chỉ tiêu": "field",
    "value": "value", "gia tri": "value", "giá trị": "value",
    "inspector": "inspector", "nguoi kiem tra": "inspector", "người kiểm tra": "inspector",
    "source": "source", "nguon": "source", "nguồn": "source",
    "note": "note", "ghi chu": "note", "ghi chú": "note",
}  # fmt: skip
_TRUE = {"true", "yes", "1", "x", "có", "co", "đạt", "dat", "y"}
_FALSE = {"false", "no", "0", "không", "khong", "chưa", "chua", "n"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


@dataclass(frozen=True)
class FieldDef:
    """One manual field of the catalogue; `good`/thresholds let the report judge it."""

    id: str
    type: str
    label: dict[str, str]
    section: str = ""
    min: float | None = None
    max: float | None = None
    good: bool | None = None
    pass_min: float | None = None
    warn_min: float | None = None
    pass_max: float | None = None

    def title(self, lang: str) -> str:
        """The label in `lang`, English when a translation is missing."""
        return self.label.get(lang) or self.label.get("en") or self.id


@dataclass(frozen=True)
class FieldCatalogue:
    """The ordered catalogue of manual fields (order = column order in the report)."""

    fields: tuple[FieldDef, ...]

    def get(self, field_id: str) -> FieldDef | None:
        """The field with this id, or None."""
        return next((f for f in self.fields if f.id == field_id), None)

    def by_header(self, header: str) -> FieldDef | None:
        """A wide-format column header may be the field id or either label."""
        h = header.strip().casefold()
        for f in self.fields:
            if h in (f.id.casefold(), *(v.casefold() for v in f.label.values())):
                return f
        return None


def load_field_catalogue(path: Path = DEFAULT_CATALOGUE) -> FieldCatalogue:
    """Read and check the catalogue; a broken catalogue is an input error, not a crash."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read field catalogue: {exc}", where=str(path)) from None
    fields: list[FieldDef] = []
    for i, item in enumerate(raw.get("field", []), start=1):
        where = f"{path}: [[field]] #{i}"
        fid, ftype, label = item.get("id"), item.get("type"), item.get("label")
        if not isinstance(fid, str) or not re.fullmatch(r"[a-z0-9_]+", fid):
            raise InputError(f"id {fid!r} must be lower-case letters, digits, _", where=where)
        if ftype not in FIELD_TYPES:
            raise InputError(f"type {ftype!r} not one of {', '.join(FIELD_TYPES)}", where=where)
        if not isinstance(label, dict) or not label.get("vi") or not label.get("en"):
            raise InputError("label needs both vi and en", where=where)
        lo = item.get("min", 0 if ftype in ("percent", "count", "money_mvnd") else None)
        hi = item.get("max", 100 if ftype == "percent" else None)
        fields.append(
            FieldDef(
                fid,
                ftype,
                dict(label),
                item.get("section", ""),
                lo,
                hi,
                item.get("good"),
                item.get("pass_min"),
                item.get("warn_min"),
                item.get("pass_max"),
            )
        )
    if len({f.id for f in fields}) != len(fields):
        raise InputError("duplicate field id", where=str(path))
    return FieldCatalogue(tuple(fields))


@dataclass(frozen=True)
class ParsedValue:
    """One validated value with where it came from."""

    agency_id: str
    field_id: str
    inspected_on: date
    value_text: str
    value_num: float | None
    inspector: str
    source: str
    note: str
    source_row: int


@dataclass(frozen=True)
class ImportResult:
    """What an import did; `already_imported` means the same bytes were seen before."""

    file: str
    sha256: str
    layout: str  # "long" | "wide"
    values: int
    inserted: int
    updated: int
    unchanged: int
    already_imported: bool
    import_id: int | None


def parse_value(fdef: FieldDef, raw: Any) -> tuple[str, float | None]:
    """Normalise one cell to (text, number); raise ValueError with the reason."""
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise ValueError("value is empty")
    if fdef.type == "text":
        return text, None
    if fdef.type == "boolean":
        low = text.casefold()
        if low in _TRUE:
            return "true", 1.0
        if low in _FALSE:
            return "false", 0.0
        raise ValueError(f"{text!r} is not yes/no (true/false, có/không)")
    num_text = text.rstrip("%").strip().replace(" ", "")
    if "," in num_text and "." not in num_text:
        num_text = num_text.replace(",", ".")
    try:
        num = float(num_text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if num != num or num in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a number")
    if fdef.type == "count" and not num.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    unit = " %" if fdef.type == "percent" else ""
    if fdef.min is not None and num < fdef.min:
        raise ValueError(f"{text} is below the allowed minimum {fdef.min:g}{unit}")
    if fdef.max is not None and num > fdef.max:
        raise ValueError(f"{text} is above the allowed maximum {fdef.max:g}{unit}")
    return f"{num:g}", num


def _parse_date(raw: Any, today: date) -> date:
    if isinstance(raw, datetime):
        d = raw.date()
    elif isinstance(raw, date):
        d = raw
    else:
        text = str(raw or "").strip()
        if not text:
            raise ValueError("date is empty")
        d = None
        for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
            try:
                d = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        if d is None:
            raise ValueError(f"{text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")
    if d > today:
        raise ValueError(f"{d.isoformat()} is in the future (today is {today.isoformat()})")
    return d


def _col_name(index: int) -> str:
    """Spreadsheet column letter (0 → A) so an inspector can find the cell."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _read_rows(path: Path, data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(row number as the inspector sees it, cells) for CSV or XLSX."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        # A damaged workbook fails in the zip layer, at open or lazily while rows are
        # read (read-only mode); either way it is the inspector's file, not our bug.
        unreadable = (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError,
                      EOFError, zlib.error)  # fmt: skip
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
            wb.close()
        except unreadable as exc:
            raise InputError(f"not a readable XLSX file ({exc})", where=str(path)) from None
        except IndexError:
            raise InputError("XLSX file has no sheet", where=str(path)) from None
        yield from enumerate(rows, start=1)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"row {line}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as CSV UTF-8",
            where=str(path),
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    yield from enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1)


def read_inspection_file(
    path: Path,
    data: bytes,
    *,
    catalogue: FieldCatalogue,
    agencies: Collection[str] | None,
    today: date,
) -> tuple[str, list[ParsedValue]]:
    """Validate a whole file into values, or raise InputError at the first problem.

    The layout is detected from the header: `field` + `value` columns mean long format,
    otherwise every column that names a catalogue field makes it wide format.
    """
    where = str(path)
    rows = [(n, r) for n, r in _read_rows(path, data) if any(str(c or "").strip() for c in r)]
    if not rows:
        raise InputError("file is empty (no header row)", where=where)
    head_n, header = rows[0]
    names = [str(h or "").strip() for h in header]
    canon = [HEADER_ALIASES.get(h.casefold(), "") for h in names]
    if "agency" not in canon:
        raise InputError(f"row {head_n}: no 'agency' column in the header", where=where)
    long = "field" in canon and "value" in canon
    field_cols: dict[int, FieldDef] = {}
    if not long:
        if "date" not in canon:
            raise InputError(f"row {head_n}: no 'date' column in the header", where=where)
        for i, h in enumerate(names):
            if canon[i] or not h:
                continue
            fdef = catalogue.by_header(h)
            if fdef is None:
                raise InputError(
                    f"row {head_n}, column {_col_name(i)} {h!r}: unknown field", where=where
                )
            field_cols[i] = fdef
        if not field_cols:
            raise InputError(f"row {head_n}: neither long nor wide format", where=where)
    pos = {c: i for i, c in enumerate(canon) if c}
    out: list[ParsedValue] = []
    for n, row in rows[1:]:
        cells = list(row) + [None] * (len(names) - len(row))

        def cell(name: str, cells: list[Any] = cells) -> Any:
            i = pos.get(name)
            return cells[i] if i is not None else None

        def fail(col: str, problem: str, n: int = n) -> InputError:
            i = pos.get(col)
            label = f"column {_col_name(i)} {names[i]!r}" if i is not None else f"column {col!r}"
            return InputError(f"row {n}, {label}: {problem}", where=where)

        agency = str(cell("agency") or "").strip()
        if not agency:
            raise fail("agency", "agency is empty")
        if agencies is not None and agency not in agencies:
            raise fail("agency", f"unknown agency {agency!r} (not in the registry)")
        if agencies is None and not _SLUG.match(agency):
            raise fail("agency", f"{agency!r} is not an agency id")
        try:
            day = _parse_date(cell("date"), today)
        except ValueError as exc:
            raise fail("date", str(exc)) from None
        meta = {k: str(cell(k) or "").strip() for k in ("inspector", "source", "note")}
        if long:
            fid = str(cell("field") or "").strip()
            fdef = catalogue.get(fid) or catalogue.by_header(fid)
            if fdef is None:
                raise fail("field", f"unknown field {fid!r}")
            pairs = [(pos["value"], fdef)]
        else:
            pairs = [(i, f) for i, f in field_cols.items() if str(cells[i] or "").strip()]
        for i, fdef in pairs:
            try:
                text, num = parse_value(fdef, cells[i])
            except ValueError as exc:
                col = f"column {_col_name(i)} {names[i]!r}"
                raise InputError(f"row {n}, {col}, field {fdef.id}: {exc}", where=where) from None
            out.append(ParsedValue(agency, fdef.id, day, text, num, **meta, source_row=n))
    return ("long" if long else "wide"), out


@contextmanager
def _write_session(store_or_engine: Any) -> Iterator[Session]:
    """One write transaction; a Store's own `write_session()` when given one.

    The store opens SQLite write transactions with BEGIN IMMEDIATE: the import then waits
    for a nightly run's short write to finish instead of reading first, finding its
    snapshot stale at the first INSERT and failing with "database is locked".
    """
    write_session = getattr(store_or_engine, "write_session", None)
    if callable(write_session):
        with write_session() as session:
            yield session
        return
    if not isinstance(store_or_engine, Engine):
        raise TypeError("expected a SQLAlchemy Engine or a Store with .write_session()")
    with Session(store_or_engine) as session, session.begin():
        yield session


def import_inspections(
    store_or_engine: Any,
    path: Path,
    *,
    today: date,
    agencies: Collection[str] | None = None,
    catalogue: FieldCatalogue | None = None,
) -> ImportResult:
    """Validate `path` entirely, then write its values in one transaction.

    `agencies` are the registry ids; None skips that check (only the id syntax is checked),
    so callers with a registry should always pass it.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", where=str(path)) from None
    sha = hashlib.sha256(data).hexdigest()
    cat = catalogue or load_field_catalogue()
    layout, values = read_inspection_file(path, data, catalogue=cat, agencies=agencies, today=today)
    with _write_session(store_or_engine) as session:
        seen = session.scalar(select(InspectionImport).where(InspectionImport.sha256 == sha))
        if seen is not None:
            return ImportResult(path.name, sha, layout, len(values), 0, 0, 0, True, seen.id)
        imp = InspectionImport(
            file_name=path.name, sha256=sha, imported_at=datetime.now(UTC), rows=len(values)
        )
        session.add(imp)
        session.flush()
        existing = {
            (v.agency_id, v.field_id, v.inspected_on, v.source_row): v
            for v in session.scalars(
                select(InspectionValue).where(InspectionValue.source_file == path.name)
            )
        }
        inserted = updated = unchanged = 0
        for pv in values:
            key = (pv.agency_id, pv.field_id, pv.inspected_on, pv.source_row)
            old = existing.get(key)
            fields = {
                "value_text": pv.value_text, "value_num": pv.value_num,
                "inspector": pv.inspector, "source": pv.source, "note": pv.note,
            }  # fmt: skip
            if old is None:
                session.add(
                    InspectionValue(
                        import_id=imp.id,
                        agency_id=pv.agency_id,
                        field_id=pv.field_id,
                        inspected_on=pv.inspected_on,
                        source_file=path.name,
                        source_row=pv.source_row,
                        **fields,
                    )
                )
                inserted += 1
            elif any(getattr(old, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(old, k, v)
                old.import_id = imp.id
                updated += 1
            else:
                unchanged += 1
        return ImportResult(
            path.name, sha, layout, len(values), inserted, updated, unchanged, False, imp.id
        )
