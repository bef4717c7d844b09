"""What a stored deal score was computed from, so the segment filter `score >60` knows when
it is stale: the model's version, the deal's interactions and customer, and the moment its
day-counted factors next change

Revision ID: 0029_score_freshness
Revises: 0028_scores_points
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029_score_freshness"
down_revision = "0028_scores_points"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("score_models") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    # Derived rows: the next filter scores them again with the new columns filled.
    op.execute("DELETE FROM deal_scores")
    with op.batch_alter_table("deal_scores", recreate="always") as batch:
        batch.add_column(sa.Column("model_version", sa.Integer(), nullable=False))
        batch.add_column(sa.Column("customer_updated_at", WHEN, nullable=False))
        batch.add_column(sa.Column("touches", sa.Integer(), nullable=False))
        batch.add_column(sa.Column("last_touch", WHEN, nullable=True))
        batch.add_column(sa.Column("fresh_until", WHEN, nullable=False))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("deal_scores", recreate="always") as batch:
        for name in ("fresh_until", "last_touch", "touches", "customer_updated_at"):
            batch.drop_column(name)
        batch.drop_column("model_version")
    with op.batch_alter_table("score_models") as batch:
        batch.drop_column("version")
