"""Quotas

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "quotas",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_quotas_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_quotas"),
        sa.UniqueConstraint("external_id", name="uq_quotas_external_id"),
        sa.UniqueConstraint(
            "user_id", "period_start", "period_end", "currency", name="uq_quotas_user_id"
        ),
    )
    op.create_index("ix_quotas_user_id", "quotas", ["user_id"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_quotas_user_id", table_name="quotas")
    op.drop_table("quotas")
