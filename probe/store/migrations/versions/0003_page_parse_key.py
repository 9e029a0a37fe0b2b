"""Each page row names its cached parse (`page.parse_key`), so a second night reads a
portal's validators and parses in one query (a join) instead of three.

An empty key (rows written before this revision) means "not recorded": the reader then
looks the parse up by its computed key, as before.

Revision ID: 0003_page_parse_key
Revises: 0002_parsed_page
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_page_parse_key"
down_revision: str | Sequence[str] | None = "0002_parsed_page"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: SQLite and PostgreSQL 11+ add the column without rewriting rows.
    op.add_column(
        "page",
        sa.Column("parse_key", sa.String(length=64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("page") as batch:
        batch.drop_column("parse_key")
