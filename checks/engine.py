"""Run every registered check the ruleset asks for, and never let one check sink a run.

The engine owns the decisions that must be the same for every check: which finding ids
apply to the agency's level on the run date (the rest become `na` with the reason), which
weight each finding carries (the ruleset's), what a check that crashed or said nothing
becomes (`unknown` with `details.reason`, never `fail`), and what content checks report
when the portal itself could not be crawled (`unknown` with the portal's reason).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from checks import load_families
from checks.base import REGISTRY, Check, CheckContext, Finding, Status
from checks.ruleset import Ruleset
from probe.artifacts import AgencyArtifacts, PortalArtifacts

# Checks that judge the connection itself: they run whatever the crawl outcome was.
CONNECTION_CHECKS = frozenset({"availability", "https", "tls", "domain"})


@dataclass(frozen=True)
class CheckOptions:
    """Run settings that change how checks judge (not what the law says)."""

    freshness_warn_days: int = 30
    freshness_fail_days: int = 90
    licence_required: bool | None = None  # None: the registry decides per agency
    lang: str = "vi"

    @classmethod
    def from_settings(cls, settings: Any) -> CheckOptions:
        """Take the fields of `probe.settings.Settings` that concern checks."""
        return cls(
            freshness_warn_days=settings.freshness_warn_days,
            freshness_fail_days=settings.freshness_fail_days,
            licence_required=settings.licence_required,
            lang=settings.lang,
        )


def finding_ids(check: Check, ruleset: Ruleset) -> tuple[str, ...]:
    """The ruleset ids a registered check answers for: its own id or ids under it.

    A family registered as ``section`` answers ``section.intro`` …; one registered as
    ``footer`` answers ``footer.owner`` …; ``licence`` answers ``licence``.
    """
    return ruleset.family_ids(check.meta.id)  # type: ignore[no-any-return]


def run_portal_checks(
    site: PortalArtifacts,
    ruleset: Ruleset,
    options: CheckOptions | None = None,
    *,
    reuse: Sequence[Finding] | None = None,
) -> list[Finding]:
    """Findings for one crawled portal, one per finding id the ruleset asks for.

    `reuse`: findings of an earlier run that judged exactly these inputs (the caller
    vouches for that, see `probe.memo`); a family that is not `volatile` and has a
    reused finding for each of its applicable ids takes them instead of running again.
    """
    options = options or CheckOptions()
    extra = {
        "freshness_warn_days": options.freshness_warn_days,
        "freshness_fail_days": options.freshness_fail_days,
        "licence_required": (
            options.licence_required
            if options.licence_required is not None
            else site.licence_required
        ),
    }
    blocked: Mapping[str, str] | None = None
    if site.outcome != "checked":
        message = site.reason.message if site.reason else site.outcome
        code = site.reason.code if site.reason else site.outcome
        blocked = {"reason": code, "message": message, "outcome": site.outcome}
    return _run(
        "portal", site, site.agency_level, site.now.date(), ruleset, options, extra, blocked,
        reuse,
    )  # fmt: skip


def run_agency_checks(
    agency: AgencyArtifacts, ruleset: Ruleset, options: CheckOptions | None = None
) -> list[Finding]:
    """Findings of the checks that look at all portals of an agency (portal.parallel)."""
    options = options or CheckOptions()
    return _run(
        "agency", agency, agency.agency_level, agency.now.date(), ruleset, options, {}, None
    )


def _run(
    scope: str,
    subject: Any,
    level: str,
    on: date,
    ruleset: Ruleset,
    options: CheckOptions,
    extra: Mapping[str, Any],
    blocked: Mapping[str, str] | None,
    reuse: Sequence[Finding] | None = None,
) -> list[Finding]:
    load_families()
    earlier: dict[str, int] = {}  # finding id -> how many the earlier run gave
    for finding in reuse or ():
        earlier[finding.check] = earlier.get(finding.check, 0) + 1
    out: list[Finding] = []
    answered: set[str] = set()
    memo: dict[Any, Any] = {}  # shared by this subject's checks (CheckContext.memo)
    for check in sorted(REGISTRY.values(), key=lambda c: c.meta.id):
        if check.meta.scope != scope:
            continue
        ids = finding_ids(check, ruleset)
        if not ids:
            continue  # the ruleset does not ask for it
        answered.update(ids)
        applicable = [cid for cid in ids if ruleset.applies(cid, level, on)]
        out.extend(_na(cid, ruleset, level, on) for cid in ids if cid not in applicable)
        if not applicable:
            continue
        if blocked is not None and check.meta.id not in CONNECTION_CHECKS:
            out.extend(_unknown_blocked(cid, ruleset, blocked) for cid in applicable)
            continue
        if reuse and not check.meta.volatile and all(earlier.get(c) == 1 for c in applicable):
            wanted = set(applicable)  # in the earlier run's order, which this code gave
            out.extend(f for f in reuse if f.check in wanted)
            continue
        merged = _merged_options(ruleset, ids, extra)
        ctx = CheckContext(ruleset=ruleset, options=merged, lang=options.lang, memo=memo)
        out.extend(_call(check, subject, ctx, applicable, ruleset))
    for cid in ruleset.check_ids():
        if cid in answered or _scope_of(cid) != scope:
            continue
        if not ruleset.applies(cid, level, on):
            out.append(_na(cid, ruleset, level, on))
        else:
            out.append(_unknown(cid, ruleset, "not_implemented", "no check implements this id"))
    return out


def _scope_of(check_id: str) -> str:
    return "agency" if check_id == "portal.parallel" else "portal"


def _merged_options(
    ruleset: Ruleset, ids: tuple[str, ...], extra: Mapping[str, Any]
) -> Mapping[str, Any]:
    merged: dict[str, Any] = {}
    for cid in ids:
        merged.update(ruleset.options(cid))
    merged.update(extra)
    return merged


def _call(
    check: Check, subject: Any, ctx: CheckContext, applicable: list[str], ruleset: Ruleset
) -> list[Finding]:
    """Run one check; a crash becomes `unknown` per id, so one bug never sinks a run."""
    try:
        findings = list(check.func(subject, ctx))
    except Exception as exc:  # the contract: a crashing check is `unknown`, never a crash
        reason = f"{type(exc).__name__}: {exc}"
        return [_unknown(cid, ruleset, "check_error", reason) for cid in applicable]
    wanted = set(applicable)
    out: list[Finding] = []
    seen: set[str] = set()
    for f in findings:
        if f.check not in wanted:
            continue  # an id this ruleset or level does not ask for
        seen.add(f.check)
        # The fields of `Finding` spelt out: `dataclasses.replace` costs several times more.
        out.append(
            Finding(f.check, f.status, f.message, f.evidence, f.details, ruleset.weight(f.check))
        )
    for cid in applicable:
        if cid not in seen:
            out.append(_unknown(cid, ruleset, "no_finding", "the check returned no finding"))
    return out


def _na(cid: str, ruleset: Ruleset, level: str, on: date) -> Finding:
    reason = ruleset.not_applicable_reason(cid, level, on) or {"vi": "", "en": ""}
    return Finding(
        check=cid,
        status=Status.NA,
        message=reason,
        details={"reason": "not_applicable", "level": level, "ruleset": ruleset.id},
        weight=ruleset.weight(cid),
    )


def _unknown(cid: str, ruleset: Ruleset, code: str, detail: str) -> Finding:
    return Finding(
        check=cid,
        status=Status.UNKNOWN,
        message={
            "vi": f"Không kiểm tra được ({code}): {detail}",
            "en": f"Could not be checked ({code}): {detail}",
        },
        details={"reason": code, "message": detail},
        weight=ruleset.weight(cid),
    )


def _unknown_blocked(cid: str, ruleset: Ruleset, blocked: Mapping[str, str]) -> Finding:
    return Finding(
        check=cid,
        status=Status.UNKNOWN,
        message={
            "vi": f"Không kiểm tra được: cổng không truy cập được ({blocked['message']})",
            "en": f"Could not be checked: the portal was not crawled ({blocked['message']})",
        },
        details=dict(blocked),
        weight=ruleset.weight(cid),
    )
