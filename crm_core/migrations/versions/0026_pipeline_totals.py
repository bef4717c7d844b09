"""Open-pipeline totals per customer owner, stage and currency, kept by triggers on every write

Revision ID: 0026_pipeline_totals
Revises: 0025_deal_scores
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_pipeline_totals"
down_revision = "0025_deal_scores"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Triggers, not service code: every path that writes a deal or a customer (the services, the
# importer's executemany, bulk UPDATEs, restores, undo) updates the totals in its own
# transaction, and none can forget to. A deal counts for its customer's owner while the
# customer is live (neither archived nor merged away), like `customer_filter`.
UPSERT = (
    "ON CONFLICT (owner_id, stage, currency) DO UPDATE SET "
    "deals = pipeline_totals.deals + excluded.deals, "
    "priced = pipeline_totals.priced + excluded.priced, "
    "cents = pipeline_totals.cents + excluded.cents"
)
COLUMNS = "pipeline_totals (owner_id, stage, currency, deals, priced, cents)"
LIVE = "archived_at IS NULL AND merged_into IS NULL"


def _sqlite_deal(row: str, sign: str) -> str:
    """One deal row (NEW or OLD) added (+) to or taken (-) from its owner's totals."""
    return (
        f"INSERT INTO {COLUMNS} SELECT c.owner_id, {row}.stage, {row}.currency, {sign}1, "
        f"{sign}({row}.amount IS NOT NULL), "
        f"{sign}coalesce(CAST(round({row}.amount * 100) AS INTEGER), 0) "
        f"FROM customers c WHERE c.id = {row}.customer_id AND c.{LIVE} {UPSERT}"
    )


def _sqlite_customer(row: str, sign: str) -> str:
    """Every deal of one customer (its NEW or OLD owner and state) added to or taken from."""
    live = f"{row}.archived_at IS NULL AND {row}.merged_into IS NULL"
    return (
        f"INSERT INTO {COLUMNS} SELECT {row}.owner_id, d.stage, d.currency, {sign}count(*), "
        f"{sign}count(d.amount), "
        f"{sign}coalesce(sum(CAST(round(d.amount * 100) AS INTEGER)), 0) "
        f"FROM deals d WHERE d.customer_id = {row}.id AND {live} "
        f"GROUP BY d.stage, d.currency {UPSERT}"
    )


_CUSTOMER_MOVED = (
    "(OLD.archived_at IS NULL AND OLD.merged_into IS NULL) IS NOT "
    "(NEW.archived_at IS NULL AND NEW.merged_into IS NULL) OR OLD.owner_id IS NOT NEW.owner_id"
)
_DEAL_MOVED = (
    "OLD.customer_id IS NOT NEW.customer_id OR OLD.stage IS NOT NEW.stage "
    "OR OLD.currency IS NOT NEW.currency OR OLD.amount IS NOT NEW.amount"
)

SQLITE_TRIGGERS = {
    "deals_totals_inserted": f"AFTER INSERT ON deals BEGIN {_sqlite_deal('NEW', '+')}; END",
    "deals_totals_deleted": f"AFTER DELETE ON deals BEGIN {_sqlite_deal('OLD', '-')}; END",
    "deals_totals_updated": (
        f"AFTER UPDATE OF customer_id, stage, currency, amount ON deals WHEN {_DEAL_MOVED} "
        f"BEGIN {_sqlite_deal('OLD', '-')}; {_sqlite_deal('NEW', '+')}; END"
    ),
    "customers_totals_updated": (
        f"AFTER UPDATE OF owner_id, archived_at, merged_into ON customers WHEN {_CUSTOMER_MOVED} "
        f"BEGIN {_sqlite_customer('OLD', '-')}; {_sqlite_customer('NEW', '+')}; END"
    ),
    "customers_totals_deleted": (
        f"BEFORE DELETE ON customers BEGIN {_sqlite_customer('OLD', '-')}; END"
    ),
}

# PostgreSQL: one function per table. A change touching two rows of the totals takes them in
# key order, so two transactions moving deals in opposite directions wait instead of
# deadlocking.
PG_FUNCTIONS = [
    f"""
CREATE FUNCTION pipeline_totals_add(o bigint, s varchar, cur varchar, n bigint, p bigint,
    amt bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO {COLUMNS} VALUES (o, s, cur, n, p, amt) {UPSERT}
$$""",
    f"""
CREATE FUNCTION deals_totals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o_old bigint;
    o_new bigint;
    live boolean;
    old_first boolean := true;
BEGIN
    -- FOR SHARE on the customer whatever its state: a concurrent change of its owner or
    -- state (an unarchive or un-merge too) waits for this transaction, or this one for it,
    -- so one of the two counts this deal. A lock taken only on a live row would take none on
    -- an archived one, and the unarchive would sum the deals without this change.
    IF TG_OP <> 'INSERT' THEN
        SELECT owner_id, {LIVE} INTO o_old, live FROM customers WHERE id = OLD.customer_id
            FOR SHARE;
        IF live IS NOT TRUE THEN
            o_old := NULL;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT owner_id, {LIVE} INTO o_new, live FROM customers WHERE id = NEW.customer_id
            FOR SHARE;
        IF live IS NOT TRUE THEN
            o_new := NULL;
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF o_old IS NOT DISTINCT FROM o_new AND OLD.stage = NEW.stage
                AND OLD.currency = NEW.currency
                AND OLD.amount IS NOT DISTINCT FROM NEW.amount THEN
            RETURN NULL;
        END IF;
        IF o_old IS NOT NULL AND o_new IS NOT NULL THEN
            old_first := ROW(o_old, OLD.stage, OLD.currency) <= ROW(o_new, NEW.stage, NEW.currency);
        END IF;
    END IF;
    IF o_old IS NOT NULL AND old_first THEN
        PERFORM pipeline_totals_add(o_old, OLD.stage, OLD.currency, -1,
            -(OLD.amount IS NOT NULL)::int, -coalesce((OLD.amount * 100)::bigint, 0));
    END IF;
    IF o_new IS NOT NULL THEN
        PERFORM pipeline_totals_add(o_new, NEW.stage, NEW.currency, 1,
            (NEW.amount IS NOT NULL)::int, coalesce((NEW.amount * 100)::bigint, 0));
    END IF;
    IF o_old IS NOT NULL AND NOT old_first THEN
        PERFORM pipeline_totals_add(o_old, OLD.stage, OLD.currency, -1,
            -(OLD.amount IS NOT NULL)::int, -coalesce((OLD.amount * 100)::bigint, 0));
    END IF;
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION customers_totals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_live boolean := OLD.archived_at IS NULL AND OLD.merged_into IS NULL;
    is_live boolean := false;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        is_live := NEW.archived_at IS NULL AND NEW.merged_into IS NULL;
        IF was_live = is_live AND OLD.owner_id = NEW.owner_id THEN
            RETURN NULL;
        END IF;
    END IF;
    -- Rows in key order (see deals_totals_changed).
    IF was_live THEN
        INSERT INTO {COLUMNS} SELECT OLD.owner_id, stage, currency, -count(*), -count(amount),
            -coalesce(sum((amount * 100)::bigint), 0)
            FROM deals WHERE customer_id = OLD.id GROUP BY stage, currency
            ORDER BY stage, currency {UPSERT};
    END IF;
    IF is_live THEN
        INSERT INTO {COLUMNS} SELECT NEW.owner_id, stage, currency, count(*), count(amount),
            coalesce(sum((amount * 100)::bigint), 0)
            FROM deals WHERE customer_id = NEW.id GROUP BY stage, currency
            ORDER BY stage, currency {UPSERT};
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$""",
    """
CREATE FUNCTION deals_totals_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pipeline_totals;
    RETURN NULL;
END $$""",
]
PG_TRIGGERS = [
    "CREATE TRIGGER deals_totals_changed AFTER INSERT OR DELETE OR UPDATE OF "
    "customer_id, stage, currency, amount ON deals FOR EACH ROW "
    "EXECUTE FUNCTION deals_totals_changed()",
    "CREATE TRIGGER customers_totals_changed AFTER UPDATE OF owner_id, archived_at, merged_into "
    "ON customers FOR EACH ROW EXECUTE FUNCTION customers_totals_changed()",
    "CREATE TRIGGER customers_totals_deleted BEFORE DELETE ON customers FOR EACH ROW "
    "EXECUTE FUNCTION customers_totals_changed()",
    "CREATE TRIGGER deals_totals_truncated AFTER TRUNCATE ON deals FOR EACH STATEMENT "
    "EXECUTE FUNCTION deals_totals_truncated()",
]

# What the triggers keep, computed from scratch (the backfill here, and the tests' reference).
BACKFILL_SQLITE = (
    f"INSERT INTO {COLUMNS} SELECT c.owner_id, d.stage, d.currency, count(*), count(d.amount), "
    "coalesce(sum(CAST(round(d.amount * 100) AS INTEGER)), 0) "
    f"FROM deals d JOIN customers c ON c.id = d.customer_id WHERE c.{LIVE} "
    "GROUP BY c.owner_id, d.stage, d.currency"
)
BACKFILL_PG = (
    f"INSERT INTO {COLUMNS} SELECT c.owner_id, d.stage, d.currency, count(*), count(d.amount), "
    "coalesce(sum((d.amount * 100)::bigint), 0) "
    f"FROM deals d JOIN customers c ON c.id = d.customer_id WHERE c.{LIVE} "
    "GROUP BY c.owner_id, d.stage, d.currency"
)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "pipeline_totals",
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("deals", sa.BigInteger(), nullable=False),
        sa.Column("priced", sa.BigInteger(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "stage", "currency"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute(BACKFILL_SQLITE)
        return
    for statement in PG_FUNCTIONS + PG_TRIGGERS:
        op.execute(statement)
    op.execute(BACKFILL_PG)


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER deals_totals_changed ON deals")
        op.execute("DROP TRIGGER deals_totals_truncated ON deals")
        op.execute("DROP TRIGGER customers_totals_changed ON customers")
        op.execute("DROP TRIGGER customers_totals_deleted ON customers")
        op.execute("DROP FUNCTION deals_totals_changed()")
        op.execute("DROP FUNCTION customers_totals_changed()")
        op.execute("DROP FUNCTION deals_totals_truncated()")
        op.execute("DROP FUNCTION pipeline_totals_add")
    op.drop_table("pipeline_totals")
