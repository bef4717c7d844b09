"""Custom fields: their declarations, and a JSON column of values on customers, contacts, deals

Revision ID: 0014_custom_fields
Revises: 0013_merge_archive
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_custom_fields"
down_revision = "0013_merge_archive"
branch_labels = None
depends_on = None

_TABLES = ("customers", "contacts", "deals")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_custom_fields"),
        sa.UniqueConstraint("record", "name", name="uq_custom_fields_record"),
    )
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            # Existing rows have no values yet: an empty object each.
            batch_op.add_column(
                sa.Column("custom", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
            )


def downgrade() -> None:
    """Revert this migration."""
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("custom")
    op.drop_table("custom_fields")
