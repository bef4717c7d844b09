"""The service desk in chat: customer channels, the requester on a ticket, CSAT questions

Revision ID: 0023_customer_channels
Revises: 0022_live_owner_index
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_customer_channels"
down_revision = "0022_live_owner_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "customer_channels",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("resolved_count", sa.Integer(), nullable=False),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_customer_channels_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_channels_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_channels")),
        sa.UniqueConstraint("platform", "chat_id", name=op.f("uq_customer_channels_platform")),
    )
    with op.batch_alter_table("customer_channels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_channels_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "csat_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("thread", sa.String(length=64), nullable=True),
        sa.Column("requester_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "feedback_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["feedback_id"], ["feedback.id"], name=op.f("fk_csat_requests_feedback_id_feedback")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_csat_requests_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_requests")),
    )
    with op.batch_alter_table("csat_requests", schema=None) as batch_op:
        batch_op.create_index("ix_csat_requests_status", ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_csat_requests_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("requester_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("requester_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("requester_where", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("mirror_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_tickets_mirror_due", ["mirror_due_at"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_channel_id_customer_channels"),
            "customer_channels",
            ["channel_id"],
            ["id"],
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_channel_id_customer_channels"), type_="foreignkey"
        )
        batch_op.drop_index("ix_tickets_mirror_due")
        batch_op.drop_column("mirror_due_at")
        batch_op.drop_column("requester_where")
        batch_op.drop_column("requester_name")
        batch_op.drop_column("requester_id")
        batch_op.drop_column("channel_id")

    with op.batch_alter_table("csat_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_csat_requests_ticket_id"))
        batch_op.drop_index("ix_csat_requests_status")

    op.drop_table("csat_requests")
    with op.batch_alter_table("customer_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_channels_customer_id"))

    op.drop_table("customer_channels")
