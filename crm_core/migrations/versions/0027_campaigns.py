"""Campaigns: a frozen segment with a seeded holdout, owners' tasks and outcomes, owner notices

Revision ID: 0027_campaigns
Revises: 0026_pipeline_totals
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_campaigns"
down_revision = "0026_pipeline_totals"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "campaigns",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100), nullable=False),
        sa.Column("segment_name", sa.String(100), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("holdout_percent", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        _at("ended_at"),
        sa.Column("ended_by", ID, nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_campaigns_owner_id_users"),
        sa.ForeignKeyConstraint(["ended_by"], ["users.id"], name="fk_campaigns_ended_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("name_key", name="uq_campaigns_name_key"),
    )
    op.create_index("ix_campaigns_owner_id", "campaigns", ["owner_id"])
    op.create_table(
        "campaign_members",
        sa.Column("id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("draw", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        _at("reached_at"),
        _at("replied_at"),
        _at("not_interested_at"),
        _at("converted_at"),
        sa.Column("outcome_by", ID, nullable=True),
        _at("snoozed_until"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_campaign_members_campaign_id_campaigns"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_campaign_members_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_campaign_members_owner_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["outcome_by"], ["users.id"], name="fk_campaign_members_outcome_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_members"),
        sa.UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_members_campaign_id"),
    )
    op.create_index("ix_campaign_members_customer_id", "campaign_members", ["customer_id"])
    op.create_index("ix_campaign_members_owner", "campaign_members", ["owner_id", "campaign_id"])
    op.create_table(
        "campaign_notices",
        sa.Column("id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _at("sent_at"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_campaign_notices_campaign_id_campaigns"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_campaign_notices_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_notices"),
        sa.UniqueConstraint("campaign_id", "user_id", name="uq_campaign_notices_campaign_id"),
    )
    op.create_index("ix_campaign_notices_status", "campaign_notices", ["status", "id"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_campaign_notices_status", table_name="campaign_notices")
    op.drop_table("campaign_notices")
    op.drop_index("ix_campaign_members_owner", table_name="campaign_members")
    op.drop_index("ix_campaign_members_customer_id", table_name="campaign_members")
    op.drop_table("campaign_members")
    op.drop_index("ix_campaigns_owner_id", table_name="campaigns")
    op.drop_table("campaigns")
