"""Closed deals' days kept by deal owner; deals in day order within deal owner (cycle by rep)

Revision ID: 0037_cycle_by_rep
Revises: 0036_name_index_tags
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0037_cycle_by_rep"
down_revision = "0036_name_index_tags"
branch_labels = None
depends_on = None

r33 = importlib.import_module("crm_core.migrations.versions.0033_close_totals")
r35 = importlib.import_module("crm_core.migrations.versions.0035_cycle_totals")

# `report cycle by rep` read every closed deal the person sees (a median per deal owner): 0.25 s
# in PostgreSQL and 0.15-0.2 s of client CPU for an admin at 100,000 customers. 0033's rows
# (closed deals per customer owner and state, UTC month of closing, deal owner, currency and
# stage) now also sum the deals' days from opening to close (never below 0, as the report counts
# them; 0035's expression), so each rep's counts and mean days are sums; the medians are read
# per rep and side from `ix_deals_cycle_owner` at the offset those counts give. The triggers are
# 0033's, written by the same functions with the days added (and `created_at` watched).


def _pg_days(row: str) -> str:
    return str(r35._pg_cycle(row))


def _sqlite_days(row: str) -> str:
    return str(r35._sqlite_cycle(row))


# Each deal owner's deals in day order within currency and stage (PostgreSQL: the customer and
# the two times ride along so the read is index-only, as 0035's ix_deals_cycle). The owner leads:
# led by currency, the generic plan of a prepared deal-by-deal cycle read (a rep's own book)
# took this index for all of a currency's deals (2 -> 90-175 ms).
PG_INDEX = (
    "CREATE INDEX ix_deals_cycle_owner ON deals (owner_id, currency, stage, "
    "coalesce(extract(epoch FROM closed_at - created_at), 0)) "
    "INCLUDE (customer_id, closed_at, created_at)"
)
SQLITE_INDEX = (
    "CREATE INDEX ix_deals_cycle_owner ON deals (owner_id, currency, stage, "
    "coalesce(julianday(closed_at) - julianday(created_at), 0))"
)


def _drop_triggers() -> None:
    """Drop 0033's triggers (same names with or without days)."""
    if op.get_bind().dialect.name == "sqlite":
        for name in r33.SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        return
    for name, (table, _) in r33.PG_TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON {table}")


def _create_triggers(days: bool) -> None:
    """0033's triggers (and functions), with or without the days."""
    if op.get_bind().dialect.name == "sqlite":
        for name, body in r33.sqlite_triggers(_sqlite_days if days else None).items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    for statement in r33.pg_functions(_pg_days if days else None):
        op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    for name, (_, body) in r33.pg_triggers(_pg_days if days else None).items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def upgrade() -> None:
    """Apply this migration."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_triggers()
    with op.batch_alter_table("deal_close_totals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("days", sa.Numeric(), nullable=False, server_default="0"))
    _create_triggers(days=True)
    # The rows again from the deals, days included (the triggers above keep them from now on).
    op.execute("DELETE FROM deal_close_totals")
    if sqlite:
        op.execute(
            r33.backfill(r33.r30._sqlite_cents("{a}"), r33.r30._sqlite_month("{d}"), _sqlite_days)
        )
        op.execute(SQLITE_INDEX)
    else:
        op.execute(r33.backfill(r33.PG_CENTS, r33.PG_MONTH, _pg_days))
        op.execute(PG_INDEX)


def downgrade() -> None:
    """Revert this migration."""
    op.execute("DROP INDEX ix_deals_cycle_owner")
    # SQLite copies the table to drop a column: no trigger may name it meanwhile.
    _drop_triggers()
    with op.batch_alter_table("deal_close_totals", schema=None) as batch_op:
        batch_op.drop_column("days")
    _create_triggers(days=False)
