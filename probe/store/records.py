"""What the store hands back to the CLI, the report and `status`: plain frozen records.

Readers get these instead of ORM objects so nothing they hold can lazy-load after the
session is gone, and so a report can be built and tested without a database. Stored
findings come back as `checks.base.Finding`, the same type the checks produced, so the
JSON of a stored run is rendered by the same `Finding.to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from checks.base import Finding
from probe.artifacts import Reason


@dataclass(frozen=True)
class RunInfo:
    """One run as recorded: what started it, under which ruleset, how far it got."""

    id: int
    trigger: str
    status: str  # running | finished | interrupted | failed
    ruleset_id: str
    ruleset_version: int
    tool_version: str
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime | None
    host: str
    portals_total: int
    portals_done: int
    portals_failed: int
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A fetched page, or a URL that failed (then `error_code` is set), of one result."""

    url: str
    final_url: str
    status: int
    content_type: str
    depth: int
    elapsed_ms: float
    fetched_at: datetime | None
    content_hash: str
    size: int
    etag: str
    last_modified: str
    not_modified: bool
    error_code: str
    error_message: str

    @property
    def failed(self) -> bool:
        """True for a failure record rather than a fetched page."""
        return bool(self.error_code)


@dataclass(frozen=True)
class StoredResult:
    """One portal in one run: outcome, score, findings (with evidence) and pages.

    `pages` lists fetched pages first in crawl order, then failures. `reason` is set when
    `outcome` is not `checked`. `inputs_digest` is the digest of what the findings were
    computed from (`probe.memo.portal_digest`), "" when none was recorded.
    """

    id: int
    run_id: int
    portal_url: str
    agency_id: str | None
    outcome: str
    reason: Reason | None
    final_url: str
    score: float | None
    pages_fetched: int
    bytes_received: int
    started_at: datetime
    finished_at: datetime
    findings: tuple[Finding, ...] = ()
    pages: tuple[StoredPage, ...] = ()
    inputs_digest: str = ""


@dataclass(frozen=True, slots=True)
class ScorePoint:
    """One point of a portal's score history (`score` None when nothing could be scored)."""

    run_id: int
    started_at: datetime
    outcome: str
    score: float | None
