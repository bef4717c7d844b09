"""Stored deal scores (the segment filter `score >60`), points-based tier rules, and an index
of live notes by customer and time

Revision ID: 0028_scores_points
Revises: 0027_campaigns
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_scores_points"
down_revision = "0027_campaigns"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "deal_scores",
        sa.Column("deal_id", ID, nullable=False),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("deal_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name="fk_deal_scores_deal_id_deals",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deal_id", name="pk_deal_scores"),
    )
    with op.batch_alter_table("tier_program") as batch:
        batch.add_column(sa.Column("points_field", sa.String(30), nullable=True))
    op.create_index(
        "ix_interactions_live_customer_occurred",
        "interactions",
        ["customer_id", "occurred_at"],
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_interactions_live_customer_occurred", table_name="interactions")
    with op.batch_alter_table("tier_program") as batch:
        batch.drop_column("points_field")
    op.drop_table("deal_scores")
