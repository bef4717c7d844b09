"""Closed deals' sums per month of closing and deal owner, kept by triggers (grouped win rate)

Revision ID: 0033_close_totals
Revises: 0032_name_index_changes
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0033_close_totals"
down_revision = "0032_name_index_changes"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# 0030's helpers (the customer state, cents and UTC months, written the same way here).
r30 = importlib.import_module("crm_core.migrations.versions.0030_report_totals")

# `report win rate by rep` (and by team, manager, region, month, quarter) read every deal the
# person sees closed in the period: 0030's closing months (deal_month_totals, kind c) are keyed
# by the customer's owner, but a win rate by rep groups by the deal's owner. These rows add the
# deal's owner to the UTC month of closing, so whole months are sums and only the months a
# period's bound cuts are read deal by deal, as the ungrouped win rate does. Separate triggers
# from 0030/0031's (a deal's row here changes on its own columns, owner_id among them), so the
# older functions stay as they are and the downgrade only drops these.
STATE = r30.STATE
PG_CENTS, PG_MONTH = r30.PG_CENTS, r30.PG_CLOSED

# The DDL is written by functions of `days`: None here; 0037 passes the expression of a deal's
# days from opening to close (a row alias -> SQL) and gets the same triggers summing them too.
Days = Callable[[str], str] | None


def columns(days: Days = None) -> str:
    """The table and the columns every statement inserts."""
    extra = ", days" if days else ""
    return (
        "deal_close_totals (owner_id, state, month, deal_owner_id, currency, stage, deals, "
        f"cents{extra})"
    )


def upsert(days: Days = None) -> str:
    """ON CONFLICT: the sums added to the kept row."""
    extra = ", days = deal_close_totals.days + excluded.days" if days else ""
    return (
        "ON CONFLICT (owner_id, state, month, deal_owner_id, currency, stage) DO UPDATE SET "
        "deals = deal_close_totals.deals + excluded.deals, "
        f"cents = deal_close_totals.cents + excluded.cents{extra}"
    )


def deal_columns(days: Days = None) -> str:
    """The deal's columns a row depends on (its days: the opening time too)."""
    return "customer_id, owner_id, stage, currency, amount, closed_at" + (
        ", created_at" if days else ""
    )


COLUMNS = columns()
UPSERT = upsert()
DEAL_COLUMNS = deal_columns()


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_deal(row: str, sign: str, days: Days = None) -> str:
    """One deal row (NEW or OLD) added (+) to or taken (-) from its closing month's row."""
    extra = f", {sign}{days(row)}" if days else ""
    return (
        f"INSERT INTO {columns(days)} SELECT c.owner_id, {STATE.format(c='c')}, "
        f"{r30._sqlite_month(f'{row}.closed_at')}, {row}.owner_id, {row}.currency, {row}.stage, "
        f"{sign}1, {sign}{r30._sqlite_cents(f'{row}.amount')}{extra} "
        f"FROM customers c WHERE c.id = {row}.customer_id {upsert(days)}"
    )


def _sqlite_customer(row: str, sign: str, days: Days = None) -> str:
    """Every deal of one customer (its NEW or OLD owner and state) added to or taken from."""
    extra = f", {sign}coalesce(sum({days('d')}), 0)" if days else ""
    return (
        f"INSERT INTO {columns(days)} SELECT {row}.owner_id, {STATE.format(c=row)}, "
        f"{r30._sqlite_month('d.closed_at')}, d.owner_id, d.currency, d.stage, "
        f"{sign}count(*), {sign}coalesce(sum({r30._sqlite_cents('d.amount')}), 0){extra} "
        f"FROM deals d WHERE d.customer_id = {row}.id GROUP BY 3, 4, 5, 6 {upsert(days)}"
    )


def sqlite_triggers(days: Days = None) -> dict[str, str]:
    """The SQLite triggers by name."""
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in deal_columns(days).split(", "))
    return {
        "deals_close_inserted": (
            f"AFTER INSERT ON deals BEGIN {_sqlite_deal('NEW', '+', days)}; END"
        ),
        "deals_close_deleted": f"AFTER DELETE ON deals BEGIN {_sqlite_deal('OLD', '-', days)}; END",
        "deals_close_updated": (
            f"AFTER UPDATE OF {deal_columns(days)} ON deals WHEN {changed} BEGIN "
            f"{_sqlite_deal('OLD', '-', days)}; {_sqlite_deal('NEW', '+', days)}; END"
        ),
        "customers_close_updated": (
            f"AFTER UPDATE OF owner_id, archived_at, merged_into ON customers "
            f"WHEN {r30._CUSTOMER_MOVED} BEGIN {_sqlite_customer('OLD', '-', days)}; "
            f"{_sqlite_customer('NEW', '+', days)}; END"
        ),
        # Before the customer goes: its deals (deleted with it) no longer find it afterwards.
        "customers_close_deleted": (
            f"BEFORE DELETE ON customers BEGIN {_sqlite_customer('OLD', '-', days)}; END"
        ),
    }


def backfill(cents: str, month: str, days: Days = None) -> str:
    """Every deal summed per key (`cents` and `month`: the dialect's templates of {a}, {d})."""
    extra = f", coalesce(sum({days('d')}), 0)" if days else ""
    return (
        f"INSERT INTO {columns(days)} SELECT c.owner_id, {STATE.format(c='c')}, "
        f"{month.format(d='d.closed_at')}, d.owner_id, d.currency, d.stage, count(*), "
        f"coalesce(sum({cents.format(a='d.amount')}), 0){extra} FROM deals d "
        "JOIN customers c ON c.id = d.customer_id GROUP BY 1, 2, 3, 4, 5, 6"
    )


SQLITE_TRIGGERS = sqlite_triggers()
SQLITE_BACKFILL = backfill(r30._sqlite_cents("{a}"), r30._sqlite_month("{d}"))


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_functions(days: Days = None) -> list[str]:
    """The PostgreSQL trigger functions (CREATE FUNCTION statements)."""
    cols = deal_columns(days)
    a_days, b_days, x_days, x_sum, d_sum, nonzero = "", "", "", "", "", ""
    if days:
        a_days, b_days, x_days = f", {days('a')}", f", {days('b')}", ", dy"
        x_sum, nonzero = ", sum(x.n * x.dy)", " OR sum(x.n * x.dy) <> 0"
        d_sum = f", x.n * coalesce(sum({days('d')}), 0)"
    return [
        f"""
CREATE FUNCTION deals_reports_closed() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF TG_OP = 'UPDATE' AND ROW(a.{cols.replace(", ", ", a.")})
            IS NOT DISTINCT FROM ROW(b.{cols.replace(", ", ", b.")}) THEN
        RETURN NULL;
    END IF;
    -- The customers FOR SHARE, as 0030's trigger (which ran first) already holds them: a
    -- concurrent owner or state change waits for this transaction, or this one for it.
    PERFORM 1 FROM customers WHERE id IN (a.customer_id, b.customer_id) ORDER BY id FOR SHARE;
    -- The old and the new rows netted (an amount edit is one row's change) and in key order,
    -- so two transactions moving deals in opposite directions wait instead of deadlocking. A
    -- deal whose customer is gone (deleted with it: the customer's trigger took its deals)
    -- finds no customer and changes nothing.
    INSERT INTO {columns(days)}
        SELECT c.owner_id, {STATE.format(c="c")}, x.m, x.r, x.cur, x.sg, sum(x.n),
            sum(x.n * x.amt){x_sum}
        FROM (VALUES
            (-1, a.customer_id, {PG_MONTH.format(d="a.closed_at")}, a.owner_id, a.currency,
                a.stage, {PG_CENTS.format(a="a.amount")}{a_days}),
            (1, b.customer_id, {PG_MONTH.format(d="b.closed_at")}, b.owner_id, b.currency,
                b.stage, {PG_CENTS.format(a="b.amount")}{b_days})
        ) AS x(n, customer_id, m, r, cur, sg, amt{x_days})
        JOIN customers c ON c.id = x.customer_id
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(x.n) <> 0 OR sum(x.n * x.amt) <> 0{nonzero}
        ORDER BY 1, 2, 3, 4, 5, 6
        {upsert(days)};
    RETURN NULL;
END $$""",
        f"""
CREATE FUNCTION customers_reports_closed() RETURNS trigger LANGUAGE plpgsql AS $$
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
    -- The customer's deals taken from its old owner and state and added to its new ones, all
    -- rows in key order (see deals_reports_closed).
    INSERT INTO {columns(days)}
        SELECT x.o, x.st, {PG_MONTH.format(d="d.closed_at")} AS m, d.owner_id, d.currency,
            d.stage, x.n * count(*), x.n * coalesce(sum({PG_CENTS.format(a="d.amount")}), 0){d_sum}
        FROM deals d CROSS JOIN (VALUES
            (-1, OLD.owner_id, {STATE.format(c="OLD")}::smallint),
            (1, o_new, st_new)
        ) AS x(n, o, st)
        WHERE d.customer_id = OLD.id AND x.o IS NOT NULL
        GROUP BY x.n, x.o, x.st, m, d.owner_id, d.currency, d.stage
        ORDER BY x.o, x.st, m, d.owner_id, d.currency, d.stage
        {upsert(days)};
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$""",
        f"""
CREATE FUNCTION deal_close_totals_rebuilt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM deal_close_totals;
    {backfill(PG_CENTS, PG_MONTH, days)};
    RETURN NULL;
END $$""",
    ]


def pg_triggers(days: Days = None) -> dict[str, tuple[str, str]]:
    """The PostgreSQL triggers by name: (table, definition)."""
    return {
        # Named after 0030's deals_reports_changed, so it fires after it (triggers run by name).
        "deals_reports_closed": (
            "deals",
            f"AFTER INSERT OR DELETE OR UPDATE OF {deal_columns(days)} ON deals FOR EACH ROW "
            "EXECUTE FUNCTION deals_reports_closed()",
        ),
        "customers_reports_closed": (
            "customers",
            "AFTER UPDATE OF owner_id, archived_at, merged_into ON customers FOR EACH ROW "
            "EXECUTE FUNCTION customers_reports_closed()",
        ),
        "customers_reports_closed_deleted": (
            "customers",
            "BEFORE DELETE ON customers FOR EACH ROW EXECUTE FUNCTION customers_reports_closed()",
        ),
        # A truncated deals table: the rows from what is left.
        "deals_reports_closed_truncated": (
            "deals",
            "AFTER TRUNCATE ON deals FOR EACH STATEMENT "
            "EXECUTE FUNCTION deal_close_totals_rebuilt()",
        ),
    }


PG_BACKFILL = backfill(PG_CENTS, PG_MONTH)
PG_FUNCTIONS = pg_functions()
PG_TRIGGERS = pg_triggers()


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "deal_close_totals",
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("deal_owner_id", ID, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("deals", sa.BigInteger(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "state", "month", "deal_owner_id", "currency", "stage"),
    )
    # The admin's grouped win rate over a period reads every owner's rows of its months.
    op.create_index("ix_deal_close_totals_month", "deal_close_totals", ["month"])
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
            "deal_close_totals_rebuilt()",
            "customers_reports_closed()",
            "deals_reports_closed()",
        ):
            op.execute(f"DROP FUNCTION {function}")
    op.drop_index("ix_deal_close_totals_month", "deal_close_totals")
    op.drop_table("deal_close_totals")
