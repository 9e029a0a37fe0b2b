"""JSON output of `probe report` (schema: docs/report-schema.md)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from probe.report.table import Table

SCHEMA_VERSION = 1


def table_to_json(table: Table) -> dict[str, Any]:
    """The table as plain JSON types, in the documented shape."""
    return {
        "schema_version": SCHEMA_VERSION,
        "lang": table.lang,
        "title": table.title,
        "run": table.run_label,
        "ruleset": table.ruleset_label,
        "columns": [asdict(c) for c in table.columns],
        "rows": [
            {
                "agency": r.agency_id,
                "agency_name": r.agency_name,
                "level": r.level,
                "portal": r.portal_url or None,
                "sub_row": r.is_sub,
                "outcome": r.outcome or None,
                "score": r.score,
                "cells": {
                    cid: {
                        "status": c.status,
                        "text": c.text,
                        "title": c.title,
                        "evidence": c.evidence,
                        "highlight": c.highlight or None,
                        "conflict": c.conflict,
                    }
                    for cid, c in r.cells.items()
                },
                "history": [{"run": h[0], "date": h[1], "score": h[2]} for h in r.history],
            }
            for r in table.rows
        ],
        "evidence": [
            {
                "id": e.id,
                "agency": e.agency_id,
                "portal": e.portal_url or None,
                "check": e.check,
                "check_title": e.check_title,
                "status": e.status,
                "message": e.message,
                "legal_basis": e.legal_basis,
                "evidence": [{"url": u, "text": t} for u, t in e.evidence],
            }
            for e in table.evidence
        ],
        "compare_run": table.compare_run,
        "changes": [asdict(c) for c in table.changes],
    }


def render_json(table: Table) -> str:
    """Pretty JSON text, non-ASCII kept readable."""
    return json.dumps(table_to_json(table), ensure_ascii=False, indent=1)
