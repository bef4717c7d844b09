"""Index of live customers by owner: a book's customer ids in one index-only range read

Revision ID: 0022_live_owner_index
Revises: 0021_desk_ops
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_live_owner_index"
down_revision = "0021_desk_ops"
branch_labels = None
depends_on = None

LIVE = "archived_at IS NULL AND merged_into IS NULL"


def upgrade() -> None:
    """Apply this migration."""
    op.create_index(
        "ix_customers_live_owner",
        "customers",
        ["owner_id", "id"],
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_customers_live_owner", table_name="customers")
