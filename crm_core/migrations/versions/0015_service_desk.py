"""The service desk: tickets, their timeline, SLA alerts, feedback, team service calendars

Revision ID: 0015_service_desk
Revises: 0014_custom_fields
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_service_desk"
down_revision = "0014_custom_fields"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "service_calendars",
        sa.Column("team_id", ID, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=8), nullable=True),
        sa.Column("days", sa.String(length=7), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("triage_target", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_service_calendars_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_service_calendars")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "priority",
            sa.Enum(
                "urgent",
                "high",
                "normal",
                "low",
                name="ticket_priority",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "open",
                "waiting",
                "resolved",
                "closed",
                name="ticket_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("assignee_id", ID, nullable=True),
        sa.Column("team_id", ID, nullable=True),
        sa.Column("created_by_id", ID, nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=True),
        sa.Column("source_link", sa.String(length=500), nullable=True),
        sa.Column("source_text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_alert_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_tickets_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_tickets_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_tickets_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_tickets_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("external_id", name=op.f("uq_tickets_external_id")),
        sa.UniqueConstraint("source_key", name=op.f("uq_tickets_source_key")),
    )
    op.create_index(
        "ix_tickets_assignee_queue", "tickets", ["assignee_id", "queue_at"], unique=False
    )
    op.create_index("ix_tickets_created", "tickets", ["created_at"], unique=False)
    op.create_index(
        "ix_tickets_customer_queue", "tickets", ["customer_id", "queue_at"], unique=False
    )
    op.create_index("ix_tickets_next_alert", "tickets", ["next_alert_at"], unique=False)
    op.create_index("ix_tickets_queue", "tickets", ["queue_at"], unique=False)
    op.create_index("ix_tickets_team_queue", "tickets", ["team_id", "queue_at"], unique=False)
    op.create_table(
        "feedback",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_feedback_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_feedback_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_feedback_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("external_id", name=op.f("uq_feedback_external_id")),
    )
    op.create_index(
        "ix_feedback_customer_created", "feedback", ["customer_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_feedback_ticket_id"), "feedback", ["ticket_id"], unique=False)
    op.create_table(
        "ticket_alerts",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_alerts_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_alerts")),
        sa.UniqueConstraint("ticket_id", "kind", "target", name=op.f("uq_ticket_alerts_ticket_id")),
    )
    op.create_table(
        "ticket_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "open",
                "waiting",
                "resolved",
                "closed",
                name="ticket_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_ticket_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
        sa.UniqueConstraint("external_id", name=op.f("uq_ticket_events_external_id")),
    )
    op.create_index(
        "ix_ticket_events_ticket_at", "ticket_events", ["ticket_id", "at"], unique=False
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_ticket_events_ticket_at", table_name="ticket_events")
    op.drop_table("ticket_events")
    op.drop_table("ticket_alerts")
    op.drop_index(op.f("ix_feedback_ticket_id"), table_name="feedback")
    op.drop_index("ix_feedback_customer_created", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_tickets_team_queue", table_name="tickets")
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.drop_index("ix_tickets_next_alert", table_name="tickets")
    op.drop_index("ix_tickets_customer_queue", table_name="tickets")
    op.drop_index("ix_tickets_created", table_name="tickets")
    op.drop_index("ix_tickets_assignee_queue", table_name="tickets")
    op.drop_table("tickets")
    op.drop_table("service_calendars")
