"""Notes by time across customers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    # "The last call" asked by someone who sees every customer reads the newest notes of all:
    # without this index that is a sort of the whole table (46 ms at 200,000 notes).
    op.create_index("ix_interactions_occurred", "interactions", ["occurred_at"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_interactions_occurred", table_name="interactions")
