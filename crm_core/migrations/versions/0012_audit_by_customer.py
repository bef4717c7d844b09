"""Audit entries by customer, for a customer's history; notices to reassigned owners

Revision ID: 0012_audit_by_customer
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_audit_by_customer"
down_revision = "0011"
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Tables whose rows belong to one customer, and so whose audit entries are part of its history.
_OWNED = ("contacts", "deals", "interactions", "reminders")


def upgrade() -> None:
    """Apply this migration."""
    op.add_column(
        "audit_entries",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
    )
    # `history Acme` reads one customer's newest entries a page at a time: (customer, id) gives
    # them in order without reading the rest of the log.
    op.create_index("ix_audit_customer", "audit_entries", ["customer_id", "id"])
    op.execute("UPDATE audit_entries SET customer_id = entity_id WHERE entity_type = 'customers'")
    op.create_table(
        "owner_notices",
        sa.Column("id", _PK, primary_key=True),
        sa.Column("user_id", _PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("customer_id", _PK, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("actor_id", _PK, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("other_id", _PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("gained", sa.Boolean(), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_owner_notices_status", "owner_notices", ["status", "id"])
    for table in _OWNED:
        op.execute(
            f"UPDATE audit_entries SET customer_id = (SELECT t.customer_id FROM {table} t "
            f"WHERE t.id = audit_entries.entity_id) WHERE entity_type = '{table}'"
        )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_owner_notices_status", table_name="owner_notices")
    op.drop_table("owner_notices")
    op.drop_index("ix_audit_customer", table_name="audit_entries")
    op.drop_column("audit_entries", "customer_id")
