"""Segments: saved customer lists, their frozen members, followers and daily counts

Revision ID: 0020_segments
Revises: 0019_name_index
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_segments"
down_revision = "0019_name_index"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "segments",
        sa.Column("id", PK, nullable=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.Boolean(), nullable=False),
        sa.Column("owner_id", PK, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_segments_owner_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_segments"),
        sa.UniqueConstraint("external_id", name="uq_segments_external_id"),
        sa.UniqueConstraint("name_key", name="uq_segments_name_key"),
    )
    op.create_index("ix_segments_owner_id", "segments", ["owner_id"])
    op.create_table(
        "segment_members",
        sa.Column("segment_id", PK, nullable=False),
        sa.Column("customer_id", PK, nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name="fk_segment_members_segment_id_segments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_segment_members_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("segment_id", "customer_id", name="pk_segment_members"),
    )
    op.create_table(
        "segment_follows",
        sa.Column("id", PK, nullable=False),
        sa.Column("segment_id", PK, nullable=False),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name="fk_segment_follows_segment_id_segments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_segment_follows_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_segment_follows"),
        sa.UniqueConstraint("segment_id", "user_id", name="uq_segment_follows_segment_id"),
    )
    op.create_index("ix_segment_follows_user_id", "segment_follows", ["user_id"])
    op.create_table(
        "segment_entries",
        sa.Column("follow_id", PK, nullable=False),
        sa.Column("customer_id", PK, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_id"],
            ["segment_follows.id"],
            name="fk_segment_entries_follow_id_segment_follows",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_segment_entries_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("follow_id", "customer_id", name="pk_segment_entries"),
    )
    op.create_table(
        "segment_counts",
        sa.Column("segment_id", PK, nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name="fk_segment_counts_segment_id_segments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_id", "scope", "day", name="pk_segment_counts"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("segment_counts")
    op.drop_table("segment_entries")
    op.drop_table("segment_follows")
    op.drop_table("segment_members")
    op.drop_index("ix_segments_owner_id", table_name="segments")
    op.drop_table("segments")
