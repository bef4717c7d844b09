"""The name index keeps the customers' tags: a change of tags alone is logged like a rename

Revision ID: 0036_name_index_tags
Revises: 0035_cycle_totals
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0036_name_index_tags"
down_revision = "0035_cycle_totals"
branch_labels = None
depends_on = None

# The in-process copy of the customers (crm_core/name_index.py) now answers which visible
# customers carry a tag (resolve.tagged_ids) instead of a scan of every row's tags as text. It
# is kept current by 0019's token and 0032's change log, whose triggers fire on an update of
# the columns copied: tags join them, so an edit, an import, a merge or a hand-written UPDATE
# that changes only tags reaches every process's copy too.
OLD = "name, name_key, owner_id, city, merged_into, archived_at"
NEW = f"{OLD}, tags"
_PG_RANDOM = "floor(random() * 9007199254740991)::bigint"


def _sqlite_updated(columns: str) -> str:
    # 0032's trigger for an update, on these columns: a new token, the counter, the customer.
    token = (
        "INSERT INTO name_index_version (id, token, seq, epoch) VALUES (1, random(), 1, random()) "
        "ON CONFLICT (id) DO UPDATE SET token = excluded.token, seq = name_index_version.seq + 1"
    )
    log = (
        "INSERT INTO customer_index_changes (customer_id, seq) "
        "VALUES (NEW.id, (SELECT seq FROM name_index_version WHERE id = 1)) "
        "ON CONFLICT (customer_id) DO UPDATE SET seq = excluded.seq"
    )
    return (
        f"CREATE TRIGGER customers_index_updated AFTER UPDATE OF {columns} ON customers "
        f"BEGIN {token}; {log}; END"
    )


def _retrigger(columns: str) -> None:
    """The customers' index triggers of 0019 and 0032, watching `columns`."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER customers_index_updated")
        op.execute(_sqlite_updated(columns))
        return
    # The row trigger logs the customer, the statement trigger bumps the counter: both must
    # watch the same columns, or a logged row would wait for a counter no statement gives it.
    op.execute("DROP TRIGGER customers_index_row ON customers")
    op.execute(
        "CREATE TRIGGER customers_index_row AFTER INSERT OR DELETE OR UPDATE OF "
        f"{columns} ON customers FOR EACH ROW EXECUTE FUNCTION customers_index_row()"
    )
    op.execute("DROP TRIGGER customers_index_changed ON customers")
    op.execute(
        "CREATE TRIGGER customers_index_changed AFTER INSERT OR DELETE OR UPDATE OF "
        f"{columns} ON customers FOR EACH STATEMENT EXECUTE FUNCTION customers_index_bump()"
    )


def _new_epoch() -> None:
    """Copies kept from before (no tags in them) are read again whole, once: a new epoch and
    token on row 1 (the backfill of the tags: every process reads them with the book)."""
    random = "random()" if op.get_bind().dialect.name == "sqlite" else _PG_RANDOM
    op.execute(f"UPDATE name_index_version SET epoch = {random}, token = {random} WHERE id = 1")


def upgrade() -> None:
    """Apply this migration."""
    _retrigger(NEW)
    _new_epoch()


def downgrade() -> None:
    """Revert this migration."""
    _retrigger(OLD)
    _new_epoch()
