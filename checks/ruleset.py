"""Rulesets: the law as data (`config/rulesets/<id>.toml`), loaded and validated here.

Which sections a portal must have, on what legal basis, for which agency levels and with
which words they are recognised changes with the decree in force; keeping all of that in
TOML lets an inspector read and correct it without touching code, and stores the ruleset
id and version with every run so a finding can be traced to the rule that produced it.

File schema (every problem raises `InputError` naming the file, the entry and the field):

- top level: ``id`` (= file stem), ``version`` (int), ``title = {vi, en}``,
  ``effective_from`` (date), optional ``effective_until`` (date), optional ``inherit``
  (another ruleset id whose recognition patterns and check options are reused),
  ``default_levels`` (levels an entry applies to unless it says otherwise).
- ``[[section]]``: ``id``, ``label = {vi, en}``, ``legal_basis``, ``weight`` (>= 0),
  optional ``levels``, ``verified`` (default true), ``required`` (default true; false =
  recommended), ``kind`` (``link`` | ``search`` | ``sitemap`` | ``contacts``), ``effective_from``,
  ``na_reason = {vi, en}``, and the recognition lists ``labels`` (phrases in link text,
  title, alt), ``slugs`` (phrases in URL path segments), ``hosts`` (first host label, e.g.
  ``dichvucong``), ``exclude`` (phrases that veto a label match), ``fields`` (search-box
  input names). Its check id is ``section.<id>``.
- ``[checks."<id>"]``: ``legal_basis``, ``weight``, optional ``levels``,
  ``effective_from``, ``na_reason``, and ``[checks."<id>".options]``.

Option keys the other checks read from ``ctx.options`` (the engine merges the options of
every id a family emits, so keys are unique across a family); a key ending in
``_patterns`` is a list of regexes, validated here and matched on NFC text and on the
diacritic-stripped copy:

- ``footer.*``: ``owner_patterns``, ``responsible_patterns``, ``address_patterns``,
  ``phone_patterns``, ``email_patterns``, ``source_note_patterns``.
- ``licence``: ``number_patterns`` (groups: number, GP|GXN, suffix), ``date_patterns``
  (day, month, year), ``issuer_patterns``, ``old_suffixes``, ``known_suffixes``; the
  engine adds ``licence_required`` (registry/settings).
- ``services.level``: ``scheme`` (``"2011"`` | ``"2022"``), ``pass_level``,
  ``level_2011_patterns``, ``level_2022_full_patterns``, ``level_2022_partial_patterns``,
  ``section_patterns``, ``dvc_host_patterns``, ``national_portal``.
- ``freshness``: ``freshness_warn_days``, ``freshness_fail_days`` (settings override),
  ``sections``.
- ``email.public_provider``: ``official_suffixes``, ``public_domains``.
- ``https``: ``required``; ``tls``: ``expiry_warn_days``; ``domain``:
  ``required_suffix``, ``government_suffix``, ``name_templates``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from checks.text import compact, match_key
from probe.errors import InputError
from probe.settings import CONFIG_DIR

RULESETS_DIR = CONFIG_DIR / "rulesets"
LEVELS = ("province", "department", "district", "commune")
KINDS = ("link", "search", "sitemap", "contacts")
PATTERN_FIELDS = ("labels", "slugs", "hosts", "exclude", "fields")
_TOP_FIELDS = frozenset(
    {"id", "version", "title", "effective_from", "effective_until", "inherit", "default_levels"}
    | {"section", "checks"}
)
_SECTION_FIELDS = frozenset(
    {"id", "label", "legal_basis", "levels", "weight", "verified", "required", "kind"}
    | {"effective_from", "na_reason", *PATTERN_FIELDS}
)
_CHECK_FIELDS = frozenset({"legal_basis", "weight", "levels", "effective_from", "na_reason"})
_CHECK_FIELDS |= {"options"}
_ID = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")

Label = Mapping[str, str]


@dataclass(frozen=True)
class Section:
    """A mandated (or recommended) section and how a reader recognises its link."""

    id: str
    label: Label
    legal_basis: str
    levels: tuple[str, ...]
    weight: float
    verified: bool = True
    required: bool = True
    kind: str = "link"
    effective_from: date | None = None
    na_reason: Label | None = None
    labels: tuple[str, ...] = ()
    slugs: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()

    @property
    def check_id(self) -> str:
        """The finding id of this section, ``section.<id>``."""
        return f"section.{self.id}"

    @cached_property
    def label_keys(self) -> tuple[str, ...]:
        """`labels` as match keys, longest first so evidence names the most specific."""
        return _keys(self.labels)

    @cached_property
    def slug_keys(self) -> tuple[str, ...]:
        """`slugs` as match keys (slug words are compared like label words)."""
        return _keys(self.slugs)

    @cached_property
    def slug_compacts(self) -> frozenset[str]:
        """Multi-word slugs glued (``thutuchanhchinh``): matched against whole segments."""
        return frozenset(compact(s) for s in self.slugs if len(compact(s)) >= 4)

    @cached_property
    def host_words(self) -> frozenset[str]:
        """First host labels that name this section (``dichvucong``)."""
        return frozenset(compact(h) for h in self.hosts)

    @cached_property
    def key_words(self) -> tuple[tuple[str, ...], ...]:
        """The distinct words of each label and slug key.

        A name or slug that holds a key holds its every word, so a link lacking one word
        of each key cannot name the section by words (`checks.sections._Places`).
        """
        keys = dict.fromkeys((*self.label_keys, *self.slug_keys))
        return tuple(tuple(dict.fromkeys(k.split())) for k in keys)

    @cached_property
    def exclude_keys(self) -> tuple[str, ...]:
        """Phrases whose presence in a label vetoes a label match."""
        return _keys(self.exclude)

    @cached_property
    def field_names(self) -> frozenset[str]:
        """Search-box input names, lower-case."""
        return frozenset(f.lower() for f in self.fields)


def _keys(phrases: tuple[str, ...]) -> tuple[str, ...]:
    keys = {match_key(p) for p in phrases} - {" "}
    return tuple(sorted(keys, key=lambda k: (-len(k), k)))


@dataclass(frozen=True)
class CheckConfig:
    """A non-section check as the ruleset configures it."""

    id: str
    legal_basis: str
    weight: float
    levels: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    effective_from: date | None = None
    na_reason: Label | None = None


@dataclass(frozen=True)
class Ruleset:
    """One decree's requirements, immutable; matchers are compiled once per instance."""

    id: str
    version: int
    title: Label
    effective_from: date
    sections: tuple[Section, ...]
    checks: Mapping[str, CheckConfig]
    effective_until: date | None = None
    source: str = ""
    _regex_cache: dict[tuple[str, str], tuple[re.Pattern[str], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @cached_property
    def _sections_by_id(self) -> Mapping[str, Section]:
        return MappingProxyType({s.id: s for s in self.sections})

    @cached_property
    def _check_ids(self) -> tuple[str, ...]:
        return tuple(s.check_id for s in self.sections) + tuple(self.checks)

    @cached_property
    def _family_ids(self) -> dict[str, tuple[str, ...]]:
        return {}

    def check_ids(self) -> tuple[str, ...]:
        """Every finding id this ruleset asks for: sections first, then the other checks."""
        return self._check_ids

    def family_ids(self, family: str) -> tuple[str, ...]:
        """The ids a check family answers for: its own id or ids under it (``section.…``).

        Kept per family: the engine asks for every family of every portal it judges.
        """
        found = self._family_ids.get(family)
        if found is None:
            prefix = family + "."
            found = tuple(c for c in self._check_ids if c == family or c.startswith(prefix))
            self._family_ids[family] = found
        return found

    def section(self, section_id: str) -> Section:
        """The section with this id (``intro`` or ``section.intro``)."""
        return self._sections_by_id[section_id.removeprefix("section.")]

    def _entry(self, check_id: str) -> Section | CheckConfig | None:
        if check_id.startswith("section."):
            return self._sections_by_id.get(check_id.removeprefix("section."))
        return self.checks.get(check_id)

    def has(self, check_id: str) -> bool:
        """Does this ruleset ask for `check_id` at all?"""
        return self._entry(check_id) is not None

    def applies(self, check_id: str, level: str, on: date | None = None) -> bool:
        """Does `check_id` apply to an agency of `level` (on date `on`, if given)?"""
        return self.not_applicable_reason(check_id, level, on) is None

    def not_applicable_reason(
        self, check_id: str, level: str, on: date | None = None
    ) -> Label | None:
        """Why `check_id` is `na` for this level/date, or None when it applies."""
        entry = self._entry(check_id)
        if entry is None:
            return {
                "vi": f"Bộ quy tắc {self.id} không yêu cầu mục này.",
                "en": f"Ruleset {self.id} does not ask for this item.",
            }
        if level not in entry.levels:
            return entry.na_reason or {
                "vi": f"Không áp dụng cho cấp {_LEVEL_VI.get(level, level)} theo {self.id}.",
                "en": f"Does not apply to {level} level under {self.id}.",
            }
        if on is not None and entry.effective_from is not None and on < entry.effective_from:
            return {
                "vi": f"Quy định có hiệu lực từ {entry.effective_from:%d/%m/%Y}.",
                "en": f"In force only from {entry.effective_from.isoformat()}.",
            }
        return None

    def weight(self, check_id: str) -> float:
        """The score weight of `check_id` (0 when the ruleset does not ask for it)."""
        entry = self._entry(check_id)
        return entry.weight if entry is not None else 0.0

    def options(self, check_id: str) -> Mapping[str, Any]:
        """The ``[checks."<id>".options]`` table (empty for sections and unknown ids)."""
        entry = self.checks.get(check_id)
        return entry.options if entry is not None else MappingProxyType({})

    def legal_basis(self, check_id: str) -> str:
        """The exact citation for `check_id` in this ruleset ('' when not asked for)."""
        entry = self._entry(check_id)
        return entry.legal_basis if entry is not None else ""

    def sections_for(self, level: str, on: date | None = None) -> tuple[Section, ...]:
        """The sections that apply to an agency of `level` on date `on`."""
        return tuple(s for s in self.sections if self.applies(s.check_id, level, on))

    def regexes(self, check_id: str, key: str) -> tuple[re.Pattern[str], ...]:
        """The compiled ``<key>`` regex list of a check's options, cached on this ruleset."""
        cache_key = (check_id, key)
        cached = self._regex_cache.get(cache_key)
        if cached is None:
            raw = self.options(check_id).get(key, ())
            cached = tuple(re.compile(p, re.IGNORECASE) for p in raw)
            self._regex_cache[cache_key] = cached
        return cached


_LEVEL_VI = {"province": "tỉnh", "department": "sở, ngành", "district": "huyện", "commune": "xã"}


def available_rulesets(directory: Path = RULESETS_DIR) -> tuple[str, ...]:
    """Ids of the rulesets shipped in `directory`, sorted."""
    return tuple(sorted(p.stem for p in directory.glob("*.toml")))


def load_ruleset(id_or_path: str | Path, *, directory: Path = RULESETS_DIR) -> Ruleset:
    """Load and validate a ruleset by id (``nd43-2011``) or by path to a TOML file."""
    return _load(id_or_path, directory, ())


def ruleset_for_date(d: date, *, directory: Path = RULESETS_DIR) -> Ruleset:
    """The ruleset in force on `d`: the latest whose period contains it."""
    best: Ruleset | None = None
    for rid in available_rulesets(directory):
        rs = load_ruleset(rid, directory=directory)
        in_force = rs.effective_from <= d and (
            rs.effective_until is None or d <= rs.effective_until
        )
        if in_force and (best is None or rs.effective_from > best.effective_from):
            best = rs
    if best is None:
        raise InputError(
            f"no ruleset is in force on {d.isoformat()}; available: "
            + ", ".join(available_rulesets(directory))
        )
    return best


def _resolve(id_or_path: str | Path, directory: Path) -> Path:
    text = str(id_or_path)
    if isinstance(id_or_path, Path) or text.endswith(".toml") or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise InputError("ruleset file not found", where=text)
        return path
    path = directory / f"{text}.toml"
    if not path.is_file():
        names = ", ".join(available_rulesets(directory)) or "(none)"
        raise InputError(f"unknown ruleset {text!r}; available: {names}", where="--ruleset")
    return path


def _load(id_or_path: str | Path, directory: Path, seen: tuple[str, ...]) -> Ruleset:
    path = _resolve(id_or_path, directory)
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ruleset: {exc}", where=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", where=where) from None
    return _build(data, path, directory, seen)


def _build(data: dict[str, Any], path: Path, directory: Path, seen: tuple[str, ...]) -> Ruleset:
    where = str(path)
    _no_unknown(data, _TOP_FIELDS, where)
    rid = _str(data, "id", where)
    if path.parent.resolve() == directory.resolve() and rid != path.stem:
        msg = f"field 'id' is {rid!r} but the file is named {path.stem}.toml"
        raise InputError(msg, where=where)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError("field 'version' must be a whole number >= 1", where=where)
    title = _label(data, "title", where)
    eff_from = _date(data, "effective_from", where, required=True)
    assert eff_from is not None
    eff_until = _date(data, "effective_until", where, required=False)
    default_levels = _levels(data.get("default_levels", list(LEVELS)), f"{where}: default_levels")

    base: Ruleset | None = None
    if "inherit" in data:
        parent = _str(data, "inherit", where)
        if parent == rid or parent in seen:
            raise InputError(f"field 'inherit': inheritance cycle through {parent!r}", where=where)
        base = _load(parent, directory, (*seen, rid))

    raw_sections = data.get("section", [])
    if not isinstance(raw_sections, list):
        raise InputError("'section' must be an array of tables ([[section]])", where=where)
    sections: list[Section] = []
    for i, raw in enumerate(raw_sections):
        sec = _section(raw, f"{where}: section[{i}]", default_levels, base)
        if any(s.id == sec.id for s in sections):
            raise InputError(f"duplicate section id {sec.id!r}", where=f"{where}: section[{i}]")
        sections.append(sec)

    raw_checks = data.get("checks", {})
    if not isinstance(raw_checks, dict):
        raise InputError("'checks' must be a table of [checks.\"<id>\"] tables", where=where)
    checks: dict[str, CheckConfig] = {}
    for cid, raw in raw_checks.items():
        inherited = base.checks.get(cid) if base is not None else None
        checks[cid] = _check(cid, raw, f'{where}: checks."{cid}"', default_levels, inherited)

    return Ruleset(
        id=rid,
        version=version,
        title=title,
        effective_from=eff_from,
        effective_until=eff_until,
        sections=tuple(sections),
        checks=MappingProxyType(checks),
        source=where,
    )


def _section(
    raw: Any, where: str, default_levels: tuple[str, ...], base: Ruleset | None
) -> Section:
    if not isinstance(raw, dict):
        raise InputError("each [[section]] must be a table", where=where)
    _no_unknown(raw, _SECTION_FIELDS, where)
    sid = _str(raw, "id", where)
    if not _ID.match(sid) or "." in sid:
        raise InputError(f"field 'id' {sid!r}: use lower-case letters, digits and _", where=where)
    where = f"{where} (id={sid})"
    parent = None
    if base is not None and sid in base._sections_by_id:
        parent = base._sections_by_id[sid]
    pats: dict[str, tuple[str, ...]] = {}
    for name in PATTERN_FIELDS:
        if name in raw:
            pats[name] = _str_list(raw[name], f"{where}: field '{name}'")
        else:
            pats[name] = getattr(parent, name) if parent is not None else ()
    kind = raw.get("kind", parent.kind if parent is not None else "link")
    if kind not in KINDS:
        raise InputError(f"field 'kind' must be one of {', '.join(KINDS)}", where=where)
    if kind == "link" and not (pats["labels"] or pats["slugs"] or pats["hosts"]):
        raise InputError("needs at least one of 'labels', 'slugs', 'hosts'", where=where)
    return Section(
        id=sid,
        label=_label(raw, "label", where),
        legal_basis=_str(raw, "legal_basis", where),
        levels=_levels(raw.get("levels", list(default_levels)), f"{where}: field 'levels'"),
        weight=_weight(raw, where),
        verified=_bool(raw, "verified", where, True),
        required=_bool(raw, "required", where, True),
        kind=kind,
        effective_from=_date(raw, "effective_from", where, required=False),
        na_reason=_label(raw, "na_reason", where) if "na_reason" in raw else None,
        **pats,
    )


def _check(
    cid: str,
    raw: Any,
    where: str,
    default_levels: tuple[str, ...],
    inherited: CheckConfig | None,
) -> CheckConfig:
    if not _ID.match(cid):
        raise InputError("check id: use lower-case dotted words (footer.owner)", where=where)
    if not isinstance(raw, dict):
        raise InputError("must be a table", where=where)
    _no_unknown(raw, _CHECK_FIELDS, where)
    options = dict(inherited.options) if inherited is not None else {}
    own = raw.get("options", {})
    if not isinstance(own, dict):
        raise InputError("field 'options' must be a table", where=where)
    options.update(own)
    for key, value in options.items():
        if key.endswith("_patterns"):
            for j, pattern in enumerate(_str_list(value, f"{where}: options.{key}")):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise InputError(f"options.{key}[{j}]: bad regex: {exc}", where=where) from None
    # Dates and levels are not inherited: each ruleset states its own.
    eff = _date(raw, "effective_from", where, required=False)
    return CheckConfig(
        id=cid,
        legal_basis=_str(raw, "legal_basis", where),
        weight=_weight(raw, where),
        levels=_levels(raw.get("levels", list(default_levels)), f"{where}: field 'levels'"),
        options=MappingProxyType(_freeze(options)),
        effective_from=eff,
        na_reason=_label(raw, "na_reason", where) if "na_reason" in raw else None,
    )


def _freeze(options: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}


def _no_unknown(raw: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in raw:
        if key not in allowed:
            names = ", ".join(sorted(allowed))
            raise InputError(f"unknown field {key!r} (allowed: {names})", where=where)


def _str(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"field {key!r} is missing or not a non-empty string", where=where)
    return value.strip()


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise InputError("must be a list of non-empty strings", where=where)
    return tuple(value)


def _bool(raw: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"field {key!r} must be true or false", where=where)
    return value


def _weight(raw: dict[str, Any], where: str) -> float:
    value = raw.get("weight")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError("field 'weight' must be a number >= 0", where=where)
    return float(value)


def _label(raw: dict[str, Any], key: str, where: str) -> Label:
    value = raw.get(key)
    if not isinstance(value, dict) or not all(
        isinstance(value.get(lang), str) and value[lang].strip() for lang in ("vi", "en")
    ):
        raise InputError(f'field {key!r} must be {{ vi = "…", en = "…" }}', where=where)
    return MappingProxyType({"vi": value["vi"], "en": value["en"]})


def _date(raw: dict[str, Any], key: str, where: str, *, required: bool) -> date | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, date):
        raise InputError(f"field {key!r} must be a TOML date (YYYY-MM-DD)", where=where)
    return value


def _levels(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(v in LEVELS for v in value):
        raise InputError(f"must be a list drawn from {', '.join(LEVELS)}", where=where)
    return tuple(value)
