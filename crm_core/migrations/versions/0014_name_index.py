"""A version token for the customer names, changed by triggers on every change that matters

Revision ID: 0014_name_index
Revises: 0013_merge_archive
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_name_index"
down_revision = "0013_merge_archive"
branch_labels = None
depends_on = None

# What the in-process name index copies: a change to any of these columns, a new customer or a
# removed one gives the token a new random value (random, not a counter: a rolled-back change
# must never leave the same value as a different change committed later).
WATCHED = "name, name_key, owner_id, merged_into, archived_at"
_SQLITE_BUMP = (
    "INSERT INTO customer_names_version (id, token) VALUES (1, random()) "
    "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)
_PG_TOKEN = "floor(random() * 9007199254740991)::bigint"


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "customer_names_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_SQLITE_BUMP)
        for name, event in (
            ("inserted", "INSERT"),
            ("deleted", "DELETE"),
            ("updated", f"UPDATE OF {WATCHED}"),
        ):
            op.execute(
                f"CREATE TRIGGER customer_names_{name} AFTER {event} ON customers "
                f"BEGIN {_SQLITE_BUMP}; END"
            )
        return
    op.execute(f"INSERT INTO customer_names_version (id, token) VALUES (1, {_PG_TOKEN})")
    op.execute(
        "CREATE FUNCTION customer_names_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO customer_names_version (id, token) VALUES (1, {_PG_TOKEN}) "
        "ON CONFLICT (id) DO UPDATE SET token = excluded.token; RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER customer_names_changed AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} "
        "ON customers FOR EACH STATEMENT EXECUTE FUNCTION customer_names_bump()"
    )
    op.execute(
        "CREATE TRIGGER customer_names_truncated AFTER TRUNCATE ON customers "
        "FOR EACH STATEMENT EXECUTE FUNCTION customer_names_bump()"
    )


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("inserted", "deleted", "updated"):
            op.execute(f"DROP TRIGGER customer_names_{name}")
    else:
        op.execute("DROP TRIGGER customer_names_changed ON customers")
        op.execute("DROP TRIGGER customer_names_truncated ON customers")
        op.execute("DROP FUNCTION customer_names_bump()")
    op.drop_table("customer_names_version")
