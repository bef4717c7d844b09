"""Covering index for the pipeline report

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index(
        "ix_deals_stage_currency_amount", "deals", ["stage", "currency", "amount"], unique=False
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_deals_stage_currency_amount", table_name="deals")
