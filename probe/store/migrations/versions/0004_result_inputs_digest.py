"""Each portal result records the digest of what its findings were computed from
(`portal_result.inputs_digest`, see `probe.memo.portal_digest`), so a night over an
unchanged portal reuses the previous result's findings instead of re-running the checks.

An empty digest (rows written before this revision, or by a run that did not compute
one) means "unknown": such a result is never reused.

Revision ID: 0004_result_inputs_digest
Revises: 0003_page_parse_key
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_result_inputs_digest"
down_revision: str | Sequence[str] | None = "0003_page_parse_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: SQLite and PostgreSQL 11+ add the column without rewriting rows.
    op.add_column(
        "portal_result",
        sa.Column("inputs_digest", sa.String(length=64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    # Not batch mode: on SQLite that copies portal_result to a new table and drops the
    # old one, and with foreign keys on the drop cascades to every page and finding row.
    # A plain DROP COLUMN (SQLite 3.35+, PostgreSQL) leaves the other tables alone.
    op.drop_column("portal_result", "inputs_digest")
