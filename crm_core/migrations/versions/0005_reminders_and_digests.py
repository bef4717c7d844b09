"""Reminder delivery bookkeeping and recurrence; digest preferences and log; channel alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recurrence", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("explicit_time", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("series_id", ID, nullable=True))
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("last_error", sa.String(length=200), nullable=True))
    op.create_table(
        "schedule_prefs",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("digest_minute", sa.Integer(), nullable=True),
        sa.Column("digest_days", sa.String(length=16), nullable=False),
        sa.Column("digest_off", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_schedule_prefs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_schedule_prefs")),
    )
    op.create_table(
        "digest_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_digest_log_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_log")),
        sa.UniqueConstraint("user_id", "local_date", name=op.f("uq_digest_log_user_id")),
    )
    op.create_table(
        "channel_alerts",
        sa.Column("id", ID, nullable=False),
        sa.Column("stage_change_id", ID, nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["stage_change_id"],
            ["stage_changes.id"],
            name=op.f("fk_channel_alerts_stage_change_id_stage_changes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_alerts")),
        sa.UniqueConstraint(
            "stage_change_id", "target", name=op.f("uq_channel_alerts_stage_change_id")
        ),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("channel_alerts")
    op.drop_table("digest_log")
    op.drop_table("schedule_prefs")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("late")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claim_token")
        batch_op.drop_column("series_id")
        batch_op.drop_column("explicit_time")
        batch_op.drop_column("recurrence")
