"""The check contract: statuses, evidence, findings, metadata and the one registry.

A check is a pure function from artifacts to findings, declared with the metadata an
inspector needs to trust it (titles in both languages, the legal basis). Checks are
registered here at import time and never fetch, write or read the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Label = Mapping[str, str]  # {"vi": …, "en": …}


class Status(StrEnum):
    """Finding statuses of interface.md; never `fail` for what could not be checked."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    NA = "na"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Evidence:
    """The URL and the excerpt that prove a finding (escaped when rendered, never here)."""

    url: str
    text: str

    def to_json(self) -> dict[str, str]:
        """The JSON shape of interface.md."""
        return {"url": self.url, "text": self.text}


@dataclass(frozen=True)
class Finding:
    """One judgement about one requirement of one portal (or agency)."""

    check: str  # e.g. "section.legal_documents", "licence"
    status: Status
    message: Label
    evidence: tuple[Evidence, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    weight: float = 1.0  # from the ruleset; 0 keeps it out of the score

    def to_json(self, lang: str = "vi") -> dict[str, Any]:
        """The JSON shape of interface.md, with the message in `lang`."""
        return {
            "check": self.check,
            "status": str(self.status),
            "message": self.message.get(lang) or self.message.get("en", ""),
            "evidence": [e.to_json() for e in self.evidence],
            "details": dict(self.details),
        }


Scope = Literal["portal", "agency"]


@dataclass(frozen=True)
class CheckMeta:
    """What a check is, for people and for the report: never how it is computed."""

    id: str  # family id, e.g. "section", "footer", "licence", "portal.parallel"
    title: Label
    failure_title: Label
    legal_basis: str
    scope: Scope = "portal"
    version: int = 1
    # Reads the run's clock or this night's fetch timings (response times, dates counted
    # to `now`): its findings can change while the portal does not, so they are never
    # reused from an earlier run (`probe.memo`).
    volatile: bool = False


@dataclass(frozen=True)
class CheckContext:
    """What a check may read besides the artifacts: its ruleset and its options.

    `options` is this check's table from the ruleset (`[checks."<id>".options]`) merged
    with run settings that concern it (freshness thresholds, whether a licence is
    required). `ruleset` is the loaded `checks.ruleset.Ruleset` (sections, labels, bases).
    """

    ruleset: Any
    options: Mapping[str, Any] = field(default_factory=dict)
    lang: str = "vi"
    # Work shared by the checks of one engine call on one subject (folded page text,
    # footer regions): the engine hands every check of a run the same dict, so five
    # footer checks fold a footer once. Never module-level: it dies with the run.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Check:
    """A registered check: its metadata and its pure function.

    Portal scope: `func(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]`.
    Agency scope: `func(agency: AgencyArtifacts, ctx: CheckContext) -> list[Finding]`.
    """

    meta: CheckMeta
    func: Callable[..., list[Finding]]


REGISTRY: dict[str, Check] = {}


def check(
    *,
    id: str,
    title: Label,
    failure_title: Label,
    legal_basis: str,
    scope: Scope = "portal",
    version: int = 1,
    volatile: bool = False,
) -> Callable[[Callable[..., list[Finding]]], Callable[..., list[Finding]]]:
    """Declare and register a check; duplicate ids are a programming error."""

    def register(func: Callable[..., list[Finding]]) -> Callable[..., list[Finding]]:
        if id in REGISTRY:
            raise RuntimeError(f"check id registered twice: {id}")
        meta = CheckMeta(id, title, failure_title, legal_basis, scope, version, volatile)
        REGISTRY[id] = Check(meta, func)
        return func

    return register
