"""Weighted compliance score of a portal from its findings.

A score must not punish what could not be checked or does not apply, so `na` and
`unknown` findings are left out of both numerator and denominator and reported apart;
`warn` (present but deficient) earns half of a `pass`. Weights come from the ruleset and
are already on each finding (the engine attaches them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from checks.base import Finding, Status

CREDIT = {Status.PASS: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}


@dataclass(frozen=True)
class ScoreBreakdown:
    """The score with the counts behind it, so a reader sees how much was not judged."""

    score: float | None
    counts: dict[str, int]
    scored_weight: float
    excluded_weight: float

    def to_json(self) -> dict[str, object]:
        """A plain mapping for JSON output."""
        return {
            "score": self.score,
            "counts": dict(self.counts),
            "scored_weight": self.scored_weight,
            "excluded_weight": self.excluded_weight,
        }


def score_breakdown(findings: Iterable[Finding]) -> ScoreBreakdown:
    """Score and per-status counts; the score is None when nothing could be scored."""
    counts = {str(s): 0 for s in Status}
    earned = total = excluded = 0.0
    for f in findings:
        counts[str(f.status)] += 1
        credit = CREDIT.get(f.status)
        if credit is None:
            excluded += f.weight
            continue
        total += f.weight
        earned += credit * f.weight
    score = round(earned / total, 4) if total > 0 else None
    return ScoreBreakdown(score, counts, total, excluded)


def score(findings: Iterable[Finding]) -> float | None:
    """Weighted share of requirements met, 0–1; None when no finding could be scored."""
    return score_breakdown(findings).score
