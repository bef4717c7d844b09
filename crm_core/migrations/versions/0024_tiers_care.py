"""Membership tiers (rules, each customer's tier and pin, changes, monthly reviews) and care dates

Revision ID: 0024_tiers_care
Revises: 0023_customer_channels
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_tiers_care"
down_revision = "0023_customer_channels"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "tier_program",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tier_program"),
    )
    op.create_table(
        "customer_tiers",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("tier", sa.String(50), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("since", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_customer_tiers_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_tiers"),
    )
    op.create_index("ix_customer_tiers_tier", "customer_tiers", ["tier"])
    op.create_table(
        "tier_changes",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("from_tier", sa.String(50), nullable=True),
        sa.Column("to_tier", sa.String(50), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("at", AT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sent_at", AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_tier_changes_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_tier_changes_owner_id_users"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name="fk_tier_changes_actor_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_tier_changes"),
    )
    op.create_index("ix_tier_changes_status", "tier_changes", ["status", "id"])
    op.create_index("ix_tier_changes_owner_at", "tier_changes", ["owner_id", "at"])
    op.create_index("ix_tier_changes_customer_id", "tier_changes", ["customer_id"])
    op.create_table(
        "tier_reviews",
        sa.Column("id", ID, nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", AT, nullable=False),
        sa.Column("sent_at", AT, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tier_reviews"),
        sa.UniqueConstraint("period", name="uq_tier_reviews_period"),
    )
    op.create_table(
        "care_dates",
        sa.Column("id", ID, nullable=False),
        sa.Column("record", sa.String(16), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_care_dates"),
        sa.UniqueConstraint("record", "field", name="uq_care_dates_record_field"),
    )
    op.create_table(
        "care_pings",
        sa.Column("id", ID, nullable=False),
        sa.Column("care_id", ID, nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", AT, nullable=False),
        sa.Column("sent_at", AT, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["care_id"],
            ["care_dates.id"],
            name="fk_care_pings_care_id_care_dates",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_care_pings"),
        sa.UniqueConstraint("care_id", "entity_id", "day", name="uq_care_pings_care_entity_day"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("care_pings")
    op.drop_table("care_dates")
    op.drop_table("tier_reviews")
    op.drop_index("ix_tier_changes_customer_id", table_name="tier_changes")
    op.drop_index("ix_tier_changes_owner_at", table_name="tier_changes")
    op.drop_index("ix_tier_changes_status", table_name="tier_changes")
    op.drop_table("tier_changes")
    op.drop_index("ix_customer_tiers_tier", table_name="customer_tiers")
    op.drop_table("customer_tiers")
    op.drop_table("tier_program")
