"""The note index's outbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "index_outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("interaction_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_outbox")),
    )
    op.create_index("ix_index_outbox_pending", "index_outbox", ["indexed_at", "id"])
    op.create_index(op.f("ix_index_outbox_interaction_id"), "index_outbox", ["interaction_id"])
    # Every note already in the database is owed to the index once.
    op.execute(
        "INSERT INTO index_outbox (interaction_id, created_at, attempts) "
        "SELECT id, CURRENT_TIMESTAMP, 0 FROM interactions WHERE deleted_at IS NULL"
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f("ix_index_outbox_interaction_id"), table_name="index_outbox")
    op.drop_index("ix_index_outbox_pending", table_name="index_outbox")
    op.drop_table("index_outbox")
