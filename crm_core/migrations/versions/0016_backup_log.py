"""The scheduled daily backup's log: one row per UTC day, claimed before the backup is written

Revision ID: 0016_backup_log
Revises: 0015_service_desk
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_backup_log"
down_revision = "0015_service_desk"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "backup_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_backup_log"),
        sa.UniqueConstraint("day", name="uq_backup_log_day"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("backup_log")
