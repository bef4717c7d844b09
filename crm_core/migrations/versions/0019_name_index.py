"""Version tokens for the in-process name index, changed by triggers on every change it copies

Revision ID: 0019_name_index
Revises: 0018_user_settings
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_name_index"
down_revision = "0018_user_settings"
branch_labels = None
depends_on = None

# Row 1 follows the customers, row 2 the contacts: adding or removing one, or changing a column
# the index copies, gives the row's token a new random value (random, not a counter: a
# rolled-back change must never leave the value a different, committed change gets later).
WATCHED = {
    1: ("customers", "name, name_key, owner_id, city, merged_into, archived_at"),
    2: ("contacts", "name, email, customer_id"),
}
_PG_TOKEN = "floor(random() * 9007199254740991)::bigint"


def _sqlite_bump(row: int) -> str:
    return (
        f"INSERT INTO name_index_version (id, token) VALUES ({row}, random()) "
        "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
    )


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "name_index_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for row, (table, columns) in WATCHED.items():
        # No row yet: the first change writes it (an empty database stays empty, and until
        # then the index keeps no copy and reads afresh).
        if sqlite:
            for name, event in (
                ("inserted", "INSERT"),
                ("deleted", "DELETE"),
                ("updated", f"UPDATE OF {columns}"),
            ):
                op.execute(
                    f"CREATE TRIGGER {table}_index_{name} AFTER {event} ON {table} "
                    f"BEGIN {_sqlite_bump(row)}; END"
                )
            continue
        op.execute(
            f"CREATE FUNCTION {table}_index_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO name_index_version (id, token) VALUES ({row}, {_PG_TOKEN}) "
            "ON CONFLICT (id) DO UPDATE SET token = excluded.token; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_index_changed AFTER INSERT OR DELETE OR UPDATE OF "
            f"{columns} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_index_bump()"
        )
        # Emptied at once: the row goes (no copy is used without one), an empty database
        # stays empty.
        op.execute(
            f"CREATE FUNCTION {table}_index_forget() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN DELETE FROM name_index_version WHERE id = {row}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_index_truncated AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_index_forget()"
        )


def downgrade() -> None:
    """Revert this migration."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, _columns in WATCHED.values():
        if sqlite:
            for name in ("inserted", "deleted", "updated"):
                op.execute(f"DROP TRIGGER {table}_index_{name}")
        else:
            op.execute(f"DROP TRIGGER {table}_index_changed ON {table}")
            op.execute(f"DROP TRIGGER {table}_index_truncated ON {table}")
            op.execute(f"DROP FUNCTION {table}_index_bump()")
            op.execute(f"DROP FUNCTION {table}_index_forget()")
    op.drop_table("name_index_version")
