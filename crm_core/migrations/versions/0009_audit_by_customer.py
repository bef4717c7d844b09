"""Audit entries by customer, for a customer's history

Revision ID: 0009_audit_by_customer
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_audit_by_customer"
down_revision = "0008"
branch_labels = None
depends_on = None

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
    for table in _OWNED:
        op.execute(
            f"UPDATE audit_entries SET customer_id = (SELECT t.customer_id FROM {table} t "
            f"WHERE t.id = audit_entries.entity_id) WHERE entity_type = '{table}'"
        )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_audit_customer", table_name="audit_entries")
    op.drop_column("audit_entries", "customer_id")
