"""Service desk back office: SLA policies per team and priority, the daily triage summary's log,
and a covering index for ticket lists by customer

Revision ID: 0021_desk_ops
Revises: 0020_segments
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_desk_ops"
down_revision = "0020_segments"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "sla_policies",
        sa.Column("team_id", ID, nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_sla_policies_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("team_id", "priority", name=op.f("pk_sla_policies")),
    )
    op.create_table(
        "triage_summary_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_triage_summary_log_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_summary_log")),
        sa.UniqueConstraint("team_id", "local_date", name=op.f("uq_triage_summary_log_team_id")),
    )
    # A rep's `tickets team` read a heap page per active ticket of their customers to filter by
    # team and sort (p95 59 ms at 100,000 tickets); covering, it reads the index alone.
    op.drop_index("ix_tickets_customer_queue", table_name="tickets")
    op.create_index(
        "ix_tickets_customer_queue",
        "tickets",
        ["customer_id", "queue_at", "id"],
        postgresql_include=["team_id"],
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_tickets_customer_queue", table_name="tickets")
    op.create_index("ix_tickets_customer_queue", "tickets", ["customer_id", "queue_at"])
    op.drop_table("triage_summary_log")
    op.drop_table("sla_policies")
