"""Merged customers kept as tombstones; archived customers

Revision ID: 0013_merge_archive
Revises: 0012_audit_by_customer
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_merge_archive"
down_revision = "0012_audit_by_customer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "merged_into", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_customers_merged_into", ["merged_into"])
        batch_op.create_index("ix_customers_archived_at", ["archived_at"])
        batch_op.create_foreign_key(
            "fk_customers_merged_into_customers", "customers", ["merged_into"], ["id"]
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint("fk_customers_merged_into_customers", type_="foreignkey")
        batch_op.drop_index("ix_customers_archived_at")
        batch_op.drop_index("ix_customers_merged_into")
        batch_op.drop_column("archived_at")
        batch_op.drop_column("merged_into")
