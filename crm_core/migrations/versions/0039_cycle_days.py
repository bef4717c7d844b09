"""Deals per whole day from opening to close kept by triggers: where a cycle median's walk starts

Revision ID: 0039_cycle_days
Revises: 0038_people_time_indexes
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0039_cycle_days"
down_revision = "0038_people_time_indexes"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

r30 = importlib.import_module("crm_core.migrations.versions.0030_report_totals")
r35 = importlib.import_module("crm_core.migrations.versions.0035_cycle_totals")

# A manager's `report cycle` found each median by walking `ix_deals_cycle` (the company's deals
# of a currency and stage in day order) to the offset the kept counts give, testing each entry
# against the team's book: ~11,000-20,000 entries passed for a few hundred of the team's at
# 100,000 customers (10-30 ms in PostgreSQL). These rows count the deals per customer owner and
# state, UTC month of closing (yyyymm; 0: none), currency, stage and DAY: the whole days from
# opening to close, floor(days), of the very expression `ix_deals_cycle` orders by (a deal with
# no closing time: 0; one closed before it opened: a negative day, ordered first as the index
# orders it). Summed up to a day they say how many of the book's deals lie before it, so the walk
# starts at the median's day (`>= day * 86400`, exact: both sides come from the same number)
# and passes one day's entries of the company (~150) rather than half of them. The day is
# floor() computed without rounding: PostgreSQL's div/mod on numeric seconds, SQLite's integer
# part of its float days less one below zero. Each row also sums its deals' days as the report
# counts them (never below 0; 0035's expression), so `by month` reads its counts, means and
# medians' days from these rows alone.
STATE = r30.STATE
COLUMNS = "cycle_day_totals (owner_id, state, month, currency, stage, day, deals, days)"
KEY = "owner_id, state, month, currency, stage, day"
UPSERT = (
    f"ON CONFLICT ({KEY}) DO UPDATE SET deals = cycle_day_totals.deals + excluded.deals, "
    "days = cycle_day_totals.days + excluded.days"
)
DEAL_FIELDS = "customer_id, stage, currency, closed_at, created_at"


def pg_seconds(row: str) -> str:
    """`ix_deals_cycle`'s ordering expression (seconds from opening to close; none: 0)."""
    return f"coalesce(extract(epoch FROM {row}.closed_at - {row}.created_at), 0)"


def pg_day(row: str) -> str:
    """floor(seconds / 86400), exactly (numeric div truncates toward zero; mod keeps its sign)."""
    s = pg_seconds(row)
    return f"(div({s}, 86400) - CASE WHEN mod({s}, 86400) < 0 THEN 1 ELSE 0 END)::int"


def sqlite_days(row: str) -> str:
    """`ix_deals_cycle`'s ordering expression on SQLite (days as a float; none: 0)."""
    return f"coalesce(julianday({row}.closed_at) - julianday({row}.created_at), 0)"


def sqlite_day(row: str) -> str:
    """floor(days): the integer part, less one for a negative fraction."""
    d = sqlite_days(row)
    return f"(CAST({d} AS INTEGER) - ({d} < CAST({d} AS INTEGER)))"


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_deal(row: str, sign: str) -> str:
    """One deal (NEW or OLD) added (+) to or taken (-) from its row."""
    return (
        f"INSERT INTO {COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
        f"{r30._sqlite_month(f'{row}.closed_at')}, {row}.currency, {row}.stage, "
        f"{sqlite_day(row)}, {sign}1, {sign}{r35._sqlite_cycle(row)} "
        f"FROM customers c WHERE c.id = {row}.customer_id {UPSERT}"
    )


def _sqlite_customer(row: str, sign: str) -> str:
    """Every deal of one customer (its NEW or OLD owner and state) added to or taken from."""
    return (
        f"INSERT INTO {COLUMNS} SELECT {row}.owner_id, {STATE.format(c=row)}, "
        f"{r30._sqlite_month('d.closed_at')}, d.currency, d.stage, {sqlite_day('d')}, "
        f"{sign}count(*), {sign}sum({r35._sqlite_cycle('d')}) "
        f"FROM deals d WHERE d.customer_id = {row}.id GROUP BY 3, 4, 5, 6 {UPSERT}"
    )


_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in DEAL_FIELDS.split(", "))
SQLITE_TRIGGERS = {
    "deals_cycle_days_inserted": f"AFTER INSERT ON deals BEGIN {_sqlite_deal('NEW', '+')}; END",
    "deals_cycle_days_deleted": f"AFTER DELETE ON deals BEGIN {_sqlite_deal('OLD', '-')}; END",
    "deals_cycle_days_updated": (
        f"AFTER UPDATE OF {DEAL_FIELDS} ON deals WHEN {_CHANGED} BEGIN "
        f"{_sqlite_deal('OLD', '-')}; {_sqlite_deal('NEW', '+')}; END"
    ),
    "customers_cycle_days_updated": (
        f"AFTER UPDATE OF owner_id, archived_at, merged_into ON customers "
        f"WHEN {r30._CUSTOMER_MOVED} BEGIN {_sqlite_customer('OLD', '-')}; "
        f"{_sqlite_customer('NEW', '+')}; END"
    ),
    # Before the customer goes: its deals (deleted with it) no longer find it afterwards.
    "customers_cycle_days_deleted": (
        f"BEFORE DELETE ON customers BEGIN {_sqlite_customer('OLD', '-')}; END"
    ),
}


def backfill(month: str, day: str, days: str) -> str:
    """Every deal counted per key (`month`: the dialect's template of {d}; `day`, `days`: of
    the row d)."""
    return (
        f"INSERT INTO {COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
        f"{month.format(d='d.closed_at')}, d.currency, d.stage, {day}, count(*), sum({days}) "
        "FROM deals d "
        "JOIN customers c ON c.id = d.customer_id GROUP BY 1, 2, 3, 4, 5, 6"
    )


SQLITE_BACKFILL = backfill(r30._sqlite_month("{d}"), sqlite_day("d"), r35._sqlite_cycle("d"))


# --- PostgreSQL -----------------------------------------------------------------------------

PG_MONTH = r30.PG_CLOSED
PG_BACKFILL = backfill(PG_MONTH, pg_day("d"), r35._pg_cycle("d"))

# As 0033's functions: the customers FOR SHARE first (as the earlier triggers on the same row
# already hold them), the old and new rows netted and written in key order, so two transactions
# moving deals in opposite directions wait instead of deadlocking.
PG_FUNCTIONS = [
    f"""
CREATE FUNCTION deals_cycle_days_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a deals;
    b deals;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        a := OLD;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        b := NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND ROW(a.{DEAL_FIELDS.replace(", ", ", a.")})
            IS NOT DISTINCT FROM ROW(b.{DEAL_FIELDS.replace(", ", ", b.")}) THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM customers WHERE id IN (a.customer_id, b.customer_id) ORDER BY id FOR SHARE;
    INSERT INTO {COLUMNS}
        SELECT c.owner_id, {STATE.format(c="c")}, x.m, x.cur, x.sg, x.dy, sum(x.n),
            sum(x.n * x.cyc)
        FROM (VALUES
            (-1, a.customer_id, {PG_MONTH.format(d="a.closed_at")}, a.currency, a.stage,
                {pg_day("a")}, {r35._pg_cycle("a")}),
            (1, b.customer_id, {PG_MONTH.format(d="b.closed_at")}, b.currency, b.stage,
                {pg_day("b")}, {r35._pg_cycle("b")})
        ) AS x(n, customer_id, m, cur, sg, dy, cyc)
        JOIN customers c ON c.id = x.customer_id
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(x.n) <> 0 OR sum(x.n * x.cyc) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6
        {UPSERT};
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION customers_cycle_days_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o_new bigint;
    st_new smallint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.owner_id = NEW.owner_id
                AND {STATE.format(c="OLD")} = {STATE.format(c="NEW")} THEN
            RETURN NULL;
        END IF;
        o_new := NEW.owner_id;
        st_new := {STATE.format(c="NEW")};
    END IF;
    -- The customer's deals taken from its old owner and state, added to its new, in key order.
    INSERT INTO {COLUMNS}
        SELECT x.o, x.st, {PG_MONTH.format(d="d.closed_at")} AS m, d.currency, d.stage,
            {pg_day("d")} AS dy, x.n * count(*), x.n * sum({r35._pg_cycle("d")})
        FROM deals d CROSS JOIN (VALUES
            (-1, OLD.owner_id, {STATE.format(c="OLD")}::smallint),
            (1, o_new, st_new)
        ) AS x(n, o, st)
        WHERE d.customer_id = OLD.id AND x.o IS NOT NULL
        GROUP BY x.n, x.o, x.st, m, d.currency, d.stage, dy
        ORDER BY x.o, x.st, m, d.currency, d.stage, dy
        {UPSERT};
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION cycle_day_totals_rebuilt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cycle_day_totals;
    {PG_BACKFILL};
    RETURN NULL;
END $$""",
]

PG_TRIGGERS = {
    # Named after 0035's deals_reports_cycle, so it fires after it (triggers run by name).
    "deals_reports_cycle_days": (
        "deals",
        f"AFTER INSERT OR DELETE OR UPDATE OF {DEAL_FIELDS} ON deals FOR EACH ROW "
        "EXECUTE FUNCTION deals_cycle_days_changed()",
    ),
    "customers_reports_cycle_days": (
        "customers",
        "AFTER UPDATE OF owner_id, archived_at, merged_into ON customers FOR EACH ROW "
        "EXECUTE FUNCTION customers_cycle_days_changed()",
    ),
    "customers_reports_cycle_days_deleted": (
        "customers",
        "BEFORE DELETE ON customers FOR EACH ROW EXECUTE FUNCTION customers_cycle_days_changed()",
    ),
    # A truncated deals table: the rows from what is left.
    "deals_cycle_days_truncated": (
        "deals",
        "AFTER TRUNCATE ON deals FOR EACH STATEMENT EXECUTE FUNCTION cycle_day_totals_rebuilt()",
    ),
}


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "cycle_day_totals",
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("deals", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "state", "month", "currency", "stage", "day"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute(SQLITE_BACKFILL)
        return
    for statement in PG_FUNCTIONS:
        op.execute(statement)
    for name, (_, body) in PG_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(PG_BACKFILL)


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for name, (table, _) in PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for function in (
            "cycle_day_totals_rebuilt()",
            "customers_cycle_days_changed()",
            "deals_cycle_days_changed()",
        ):
            op.execute(f"DROP FUNCTION {function}")
    op.drop_table("cycle_day_totals")
