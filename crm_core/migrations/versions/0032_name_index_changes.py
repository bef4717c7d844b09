"""Which customers changed since a point: the name index applies those rows, not the whole book

Revision ID: 0032_name_index_changes
Revises: 0031_funnel_months
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_name_index_changes"
down_revision = "0031_funnel_months"
branch_labels = None
depends_on = None

# 0019's row 1 of name_index_version gets a change counter `seq` and an `epoch`, random each
# time the row is created (a table emptied at once removes it, and the counter starts over).
# Every added, removed or changed customer writes its id with the counter into
# customer_index_changes, one row per customer (the newest change wins), so a process holding a
# copy as of (epoch, seq) re-reads only the customers of the rows past its seq.
#
# The counter must grow in commit order, or a reader could pass a change committed late with
# a lower value. Writers take row 1's lock when they bump it and keep it to their commit, so
# they bump one after the other: on PostgreSQL once a transaction (the value kept in a
# transaction-local setting), on SQLite once a row (one writer at a time anyway). A rolled-back
# transaction's value is used again by the next: the index never keeps a copy built by a
# transaction that has changed customers itself (crm_core/name_index.py).
COLUMNS = "name, name_key, owner_id, city, merged_into, archived_at"
_PG_RANDOM = "floor(random() * 9007199254740991)::bigint"


def _sqlite_trigger(name: str, event: str, row: str) -> str:
    # 0019's triggers gave row 1 a new token; these do that, count, and log the customer.
    token = (
        "INSERT INTO name_index_version (id, token, seq, epoch) VALUES (1, random(), 1, random()) "
        "ON CONFLICT (id) DO UPDATE SET token = excluded.token, seq = name_index_version.seq + 1"
    )
    log = (
        "INSERT INTO customer_index_changes (customer_id, seq) "
        f"VALUES ({row}.id, (SELECT seq FROM name_index_version WHERE id = 1)) "
        "ON CONFLICT (customer_id) DO UPDATE SET seq = excluded.seq"
    )
    return f"CREATE TRIGGER {name} AFTER {event} ON customers BEGIN {token}; {log}; END"


# PostgreSQL: each changed row is logged as pending (-1); the statement-level trigger, after
# every row's, takes row 1's lock, bumps the counter (once a transaction) and gives the pending
# rows its value. The lock is taken where 0019's token bump took it, after the statement's
# other row triggers (the totals of 0026 and 0030 lock their rows first, as they did): taken
# at the first row, it would wait for a totals row while holding row 1, and deadlock with a
# deal write that holds that totals row and changes a customer next. Another transaction's
# pending rows are invisible to the UPDATE (and never match it in the rows it can see).
_PG_ROW = """
CREATE FUNCTION customers_index_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_index_changes (customer_id, seq)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, -1)
    ON CONFLICT (customer_id) DO UPDATE SET seq = -1;
    RETURN NULL;
END $$
"""
_PG_BUMP = f"""
CREATE OR REPLACE FUNCTION customers_index_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s bigint;
BEGIN
    s := nullif(current_setting('crmbot.customers_seq', true), '')::bigint;
    IF s IS NULL THEN
        INSERT INTO name_index_version (id, token, seq, epoch)
        VALUES (1, {_PG_RANDOM}, 1, {_PG_RANDOM})
        ON CONFLICT (id) DO UPDATE
        SET token = excluded.token, seq = name_index_version.seq + 1
        RETURNING seq INTO s;
        PERFORM set_config('crmbot.customers_seq', s::text, true);
    ELSE
        INSERT INTO name_index_version (id, token, seq, epoch)
        VALUES (1, {_PG_RANDOM}, s, {_PG_RANDOM})
        ON CONFLICT (id) DO UPDATE SET token = excluded.token;
    END IF;
    UPDATE customer_index_changes SET seq = s WHERE seq = -1;
    RETURN NULL;
END $$
"""
# Emptied at once: the row goes (a new epoch when it comes back), the log and this
# transaction's counter with it.
_PG_FORGET = """
CREATE OR REPLACE FUNCTION customers_index_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM name_index_version WHERE id = 1;
    DELETE FROM customer_index_changes;
    PERFORM set_config('crmbot.customers_seq', '', true);
    RETURN NULL;
END $$
"""
_PG_OLD_BUMP = f"""
CREATE OR REPLACE FUNCTION customers_index_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO name_index_version (id, token) VALUES (1, {_PG_RANDOM})
ON CONFLICT (id) DO UPDATE SET token = excluded.token; RETURN NULL; END $$
"""
_PG_OLD_FORGET = """
CREATE OR REPLACE FUNCTION customers_index_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM name_index_version WHERE id = 1; RETURN NULL; END $$
"""


def upgrade() -> None:
    """Apply this migration."""
    op.add_column(
        "name_index_version",
        sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.add_column(
        "name_index_version",
        sa.Column("epoch", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "customer_index_changes",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_index("ix_customer_index_changes_seq", "customer_index_changes", ["seq"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    # A copy kept from before has no (epoch, seq): it is read again whole, once.
    op.execute(
        "UPDATE name_index_version SET epoch = "
        + ("random()" if sqlite else _PG_RANDOM)
        + " WHERE id = 1"
    )
    if sqlite:
        for name, event, row in (
            ("customers_index_inserted", "INSERT", "NEW"),
            ("customers_index_deleted", "DELETE", "OLD"),
            ("customers_index_updated", f"UPDATE OF {COLUMNS}", "NEW"),
        ):
            op.execute(f"DROP TRIGGER {name}")
            op.execute(_sqlite_trigger(name, event, row))
        return
    for statement in (_PG_ROW, _PG_BUMP, _PG_FORGET):
        op.execute(statement)
    op.execute(
        "CREATE TRIGGER customers_index_row AFTER INSERT OR DELETE OR UPDATE OF "
        f"{COLUMNS} ON customers FOR EACH ROW EXECUTE FUNCTION customers_index_row()"
    )


def downgrade() -> None:
    """Revert this migration."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        bump = (
            "INSERT INTO name_index_version (id, token) VALUES (1, random()) "
            "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
        )
        for name, event in (
            ("customers_index_inserted", "INSERT"),
            ("customers_index_deleted", "DELETE"),
            ("customers_index_updated", f"UPDATE OF {COLUMNS}"),
        ):
            op.execute(f"DROP TRIGGER {name}")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON customers BEGIN {bump}; END")
    else:
        op.execute("DROP TRIGGER customers_index_row ON customers")
        op.execute("DROP FUNCTION customers_index_row()")
        op.execute(_PG_OLD_BUMP)
        op.execute(_PG_OLD_FORGET)
    op.drop_index("ix_customer_index_changes_seq", table_name="customer_index_changes")
    op.drop_table("customer_index_changes")
    # Not a batch (a copy of the table): the contacts' triggers name it. SQLite 3.35+ drops.
    op.drop_column("name_index_version", "epoch")
    op.drop_column("name_index_version", "seq")
