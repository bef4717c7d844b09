"""The funnel's sums per month of opening, kept by 0030's triggers; indexes for the overdue list

Revision ID: 0031_funnel_months
Revises: 0030_report_totals
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0031_funnel_months"
down_revision = "0030_report_totals"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# 0030's trigger bodies, extended below rather than copied: the new rows must change in the same
# statements, in the same order, as the funnel's all-time rows (the downgrade puts 0030's back).
r30 = importlib.import_module("crm_core.migrations.versions.0030_report_totals")

# `report funnel <period>` summed each deal opened in the period; these rows hold the same sums
# per UTC month of opening (created_at), so whole months are read as sums and only the months a
# period's bound cuts (a local midnight, anywhere inside a UTC day) are read deal by deal.
FMONTH_COLUMNS = "funnel_month_totals (owner_id, state, currency, month, reached, deals, cents)"
FMONTH_UPSERT = (
    "ON CONFLICT (owner_id, state, currency, month, reached) DO UPDATE SET "
    "deals = funnel_month_totals.deals + excluded.deals, "
    "cents = funnel_month_totals.cents + excluded.cents"
)
# A deal's month of opening is in its keys now: a changed created_at moves it.
DEAL_COLUMNS = r30.DEAL_COLUMNS + ", created_at"
_DEAL_CHANGED = r30._DEAL_CHANGED + " OR OLD.created_at IS NOT NEW.created_at"


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_fmonth_deal(row: str, sign: str, reached: str) -> str:
    """One deal row (NEW or OLD) added (+) to or taken (-) from its month of opening."""
    return (
        f"INSERT INTO {FMONTH_COLUMNS} SELECT c.owner_id, {r30.STATE.format(c='c')}, "
        f"{row}.currency, {r30._sqlite_month(f'{row}.created_at')}, {reached}, {sign}1, "
        f"{sign}{r30._sqlite_cents(f'{row}.amount')} "
        f"FROM customers c WHERE c.id = {row}.customer_id {FMONTH_UPSERT}"
    )


def _sqlite_fmonth_customer(row: str, sign: str) -> str:
    """Every deal of one customer (its NEW or OLD owner and state) added to or taken from."""
    cents = f"{sign}coalesce(sum({r30._sqlite_cents('d.amount')}), 0)"
    return (
        f"INSERT INTO {FMONTH_COLUMNS} SELECT {row}.owner_id, {r30.STATE.format(c=row)}, "
        f"d.currency, {r30._sqlite_month('d.created_at')}, r.reached, {sign}count(*), {cents} "
        f"FROM deals d JOIN deal_reach r ON r.deal_id = d.id WHERE d.customer_id = {row}.id "
        f"GROUP BY 3, 4, 5 {FMONTH_UPSERT}"
    )


def _sqlite_fmonth_history(deal_id: str) -> str:
    """A deal's history changed: its month row moves to the new set (before deal_reach does)."""
    now = r30._sqlite_reached(deal_id, f"(SELECT stage FROM deals WHERE id = {deal_id})")
    kept = f"(SELECT reached FROM deal_reach WHERE deal_id = {deal_id})"
    state = r30.STATE.format(c="c")
    cents = r30._sqlite_cents("d.amount")
    month = r30._sqlite_month("d.created_at")
    return (
        f"INSERT INTO {FMONTH_COLUMNS} SELECT c.owner_id, {state}, d.currency, {month}, {now}, "
        f"1, {cents} FROM deals d JOIN customers c ON c.id = d.customer_id "
        f"WHERE d.id = {deal_id} AND {kept} IS NOT {now} {FMONTH_UPSERT}; "
        f"INSERT INTO {FMONTH_COLUMNS} SELECT c.owner_id, {state}, d.currency, {month}, "
        f"r.reached, -1, -{cents} FROM deals d JOIN customers c ON c.id = d.customer_id "
        f"JOIN deal_reach r ON r.deal_id = d.id "
        f"WHERE d.id = {deal_id} AND r.reached IS NOT {now} {FMONTH_UPSERT}"
    )


def _sqlite_history(deal_id: str) -> str:
    return f"{_sqlite_fmonth_history(deal_id)}; {r30._sqlite_history(deal_id)}"


_NEW, _OLD = r30._NEW_REACHED, r30._OLD_REACHED

SQLITE_TRIGGERS = {
    "deals_reports_inserted": (
        "AFTER INSERT ON deals BEGIN "
        f"INSERT INTO deal_reach (deal_id, reached) VALUES "
        f"(NEW.id, {r30._sqlite_reached('NEW.id', 'NEW.stage')}) "
        "ON CONFLICT (deal_id) DO UPDATE SET reached = excluded.reached; "
        f"{r30._sqlite_funnel_deal('NEW', '+', _NEW)}; {r30._sqlite_month_deal('NEW', '+')}; "
        f"{_sqlite_fmonth_deal('NEW', '+', _NEW)}; END"
    ),
    "deals_reports_deleted": (
        "AFTER DELETE ON deals BEGIN "
        f"{r30._sqlite_funnel_deal('OLD', '-', _OLD)}; {r30._sqlite_month_deal('OLD', '-')}; "
        f"{_sqlite_fmonth_deal('OLD', '-', _OLD)}; "
        "DELETE FROM deal_reach WHERE deal_id = OLD.id; END"
    ),
    "deals_reports_updated": (
        f"AFTER UPDATE OF {DEAL_COLUMNS} ON deals WHEN {_DEAL_CHANGED} BEGIN "
        f"{r30._sqlite_funnel_deal('OLD', '-', _OLD)}; {r30._sqlite_month_deal('OLD', '-')}; "
        f"{_sqlite_fmonth_deal('OLD', '-', _OLD)}; "
        f"UPDATE deal_reach SET reached = {r30._sqlite_reached('NEW.id', 'NEW.stage')} "
        "WHERE deal_id = NEW.id; "
        f"{r30._sqlite_funnel_deal('NEW', '+', _NEW)}; {r30._sqlite_month_deal('NEW', '+')}; "
        f"{_sqlite_fmonth_deal('NEW', '+', _NEW)}; END"
    ),
    "stage_changes_reports_inserted": (
        f"AFTER INSERT ON stage_changes BEGIN {_sqlite_history('NEW.deal_id')}; END"
    ),
    "stage_changes_reports_deleted": (
        f"AFTER DELETE ON stage_changes BEGIN {_sqlite_history('OLD.deal_id')}; END"
    ),
    "stage_changes_reports_updated": (
        "AFTER UPDATE OF deal_id, from_stage, to_stage ON stage_changes BEGIN "
        f"{_sqlite_history('OLD.deal_id')}; {_sqlite_history('NEW.deal_id')}; END"
    ),
    "customers_reports_updated": (
        f"AFTER UPDATE OF owner_id, archived_at, merged_into ON customers "
        f"WHEN {r30._CUSTOMER_MOVED} BEGIN {r30._sqlite_customer('OLD', '-')}; "
        f"{_sqlite_fmonth_customer('OLD', '-')}; {r30._sqlite_customer('NEW', '+')}; "
        f"{_sqlite_fmonth_customer('NEW', '+')}; END"
    ),
    "customers_reports_deleted": (
        f"BEFORE DELETE ON customers BEGIN {r30._sqlite_customer('OLD', '-')}; "
        f"{_sqlite_fmonth_customer('OLD', '-')}; END"
    ),
}

SQLITE_BACKFILL = (
    f"INSERT INTO {FMONTH_COLUMNS} SELECT c.owner_id, {r30.STATE.format(c='c')}, d.currency, "
    f"{r30._sqlite_month('d.created_at')}, r.reached, count(*), "
    f"coalesce(sum({r30._sqlite_cents('d.amount')}), 0) FROM deals d "
    "JOIN customers c ON c.id = d.customer_id JOIN deal_reach r ON r.deal_id = d.id "
    "GROUP BY 1, 2, 3, 4, 5"
)


# --- PostgreSQL -----------------------------------------------------------------------------

PG_CENTS, PG_MONTH = r30.PG_CENTS, r30.PG_CLOSED
STATE = r30.STATE


def _pg_functions(fmonth: bool) -> list[str]:
    """0030's functions that write funnel rows, with (fmonth) or without this table's rows."""
    columns = DEAL_COLUMNS if fmonth else r30.DEAL_COLUMNS
    opened = (
        (
            f"PERFORM funnel_month_totals_add(o, st, d.currency, "
            f"{PG_MONTH.format(d='d.created_at')}, r, sign, amt);"
        )
        if fmonth
        else ""
    )
    history = (
        (
            f"""PERFORM funnel_month_totals_add(o, st, d.currency,
                    {PG_MONTH.format(d="d.created_at")}, x.r, x.n,
                    x.n * {PG_CENTS.format(a="d.amount")})
                    FROM (VALUES (r_old, -1), (r_new, 1)) AS x(r, n)
                    WHERE x.r IS NOT NULL
                    ORDER BY x.r;"""
        )
        if fmonth
        else ""
    )
    customer = (
        (
            f"""INSERT INTO {FMONTH_COLUMNS} SELECT o, st, d.currency,
            {PG_MONTH.format(d="d.created_at")} AS m, r.reached, s * count(*),
            s * coalesce(sum({PG_CENTS.format(a="d.amount")}), 0)
            FROM deals d JOIN deal_reach r ON r.deal_id = d.id WHERE d.customer_id = OLD.id
            GROUP BY d.currency, m, r.reached ORDER BY d.currency, m, r.reached
            {FMONTH_UPSERT};"""
        )
        if fmonth
        else ""
    )

    # The order of a deal's old and new rows (so two moves in opposite directions wait rather
    # than deadlock) takes its month of opening too.
    def key(row: str) -> str:
        return f", {PG_MONTH.format(d=f'{row}.created_at')}" if fmonth else ""

    rebuild = [
        "DELETE FROM funnel_totals",
        "DELETE FROM deal_month_totals",
        *(["DELETE FROM funnel_month_totals"] if fmonth else []),
        "DELETE FROM deal_reach",
        *r30.PG_BACKFILL,
        *([PG_BACKFILL] if fmonth else []),
    ]
    return [
        f"""
CREATE OR REPLACE FUNCTION report_totals_deal(d deals, r text, sign int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    o bigint;
    st smallint;
    amt bigint := sign * {PG_CENTS.format(a="d.amount")};
BEGIN
    -- FOR SHARE whatever its state, as pipeline_totals does: a concurrent owner or state
    -- change of the customer waits for this transaction, or this one for it.
    SELECT owner_id, {STATE.format(c="customers")} INTO o, st FROM customers
        WHERE id = d.customer_id FOR SHARE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM funnel_totals_add(o, st, d.currency, r, sign, amt);
    PERFORM deal_month_totals_add('c', o, st, d.currency, d.stage, '',
        {PG_MONTH.format(d="d.closed_at")}, sign, amt);
    PERFORM deal_month_totals_add('e', o, st, d.currency, d.stage,
        coalesce(d.forecast_category, ''), {r30.PG_EXPECTED.format(d="d.expected_close")}, sign,
        amt);
    {opened}
END $$""",
        f"""
CREATE OR REPLACE FUNCTION deals_reports_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r_old text;
    r_new text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        SELECT reached INTO r_old FROM deal_reach WHERE deal_id = OLD.id;
    END IF;
    IF TG_OP = 'UPDATE' AND ROW(OLD.{columns.replace(", ", ", OLD.")})
            IS NOT DISTINCT FROM ROW(NEW.{columns.replace(", ", ", NEW.")}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        r_new := {r30._pg_reached("NEW.id", "NEW.stage")};
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM report_totals_deal(OLD, r_old, -1);
        DELETE FROM deal_reach WHERE deal_id = OLD.id;
        RETURN NULL;
    END IF;
    INSERT INTO deal_reach (deal_id, reached) VALUES (NEW.id, r_new)
        ON CONFLICT (deal_id) DO UPDATE SET reached = excluded.reached;
    -- The old and the new rows in one order (by the deal's keys), so two transactions moving
    -- deals in opposite directions wait instead of deadlocking.
    IF TG_OP = 'UPDATE' AND ROW(OLD.stage, OLD.currency, coalesce(OLD.forecast_category, ''),
            {r30.PG_EXPECTED.format(d="OLD.expected_close")},
            {PG_MONTH.format(d="OLD.closed_at")}, OLD.customer_id{key("OLD")})
            <= ROW(NEW.stage, NEW.currency, coalesce(NEW.forecast_category, ''),
            {r30.PG_EXPECTED.format(d="NEW.expected_close")},
            {PG_MONTH.format(d="NEW.closed_at")}, NEW.customer_id{key("NEW")}) THEN
        PERFORM report_totals_deal(OLD, r_old, -1);
        PERFORM report_totals_deal(NEW, r_new, 1);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM report_totals_deal(NEW, r_new, 1);
        PERFORM report_totals_deal(OLD, r_old, -1);
    ELSE
        PERFORM report_totals_deal(NEW, r_new, 1);
    END IF;
    RETURN NULL;
END $$""",
        f"""
CREATE OR REPLACE FUNCTION stage_changes_reports_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    one bigint;
    d deals;
    o bigint;
    st smallint;
    r_old text;
    r_new text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY[NEW.deal_id];
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY[OLD.deal_id];
    ELSIF OLD.deal_id = NEW.deal_id THEN
        ids := ARRAY[NEW.deal_id];
    ELSE
        ids := ARRAY[least(OLD.deal_id, NEW.deal_id), greatest(OLD.deal_id, NEW.deal_id)];
    END IF;
    FOREACH one IN ARRAY ids LOOP
        -- The deal, then its customer, as a deal write takes them: a concurrent change of the
        -- deal's stage waits (or this waits for it), and so does a change of the customer's
        -- owner or state, which sums the deals' kept sets.
        SELECT * INTO d FROM deals WHERE id = one FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            CONTINUE;
        END IF;
        SELECT owner_id, {STATE.format(c="customers")} INTO o, st FROM customers
            WHERE id = d.customer_id FOR SHARE;
        SELECT reached INTO r_old FROM deal_reach WHERE deal_id = one;
        r_new := {r30._pg_reached("one", "d.stage")};
        IF r_old IS DISTINCT FROM r_new THEN
            UPDATE deal_reach SET reached = r_new WHERE deal_id = one;
            IF o IS NOT NULL THEN
                PERFORM funnel_totals_add(o, st, d.currency, x.r, x.n,
                    x.n * {PG_CENTS.format(a="d.amount")})
                    FROM (VALUES (r_old, -1), (r_new, 1)) AS x(r, n)
                    WHERE x.r IS NOT NULL
                    ORDER BY x.r;
                {history}
            END IF;
        END IF;
    END LOOP;
    RETURN NULL;
END $$""",
        f"""
CREATE OR REPLACE FUNCTION customers_reports_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    signs int[] := ARRAY[-1];
    owners bigint[] := ARRAY[OLD.owner_id];
    states smallint[] := ARRAY[{STATE.format(c="OLD")}];
    s int;
    o bigint;
    st smallint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.owner_id = NEW.owner_id AND states[1] = {STATE.format(c="NEW")} THEN
            RETURN NULL;
        END IF;
        signs := signs || 1;
        owners := owners || NEW.owner_id;
        states := states || {STATE.format(c="NEW")}::smallint;
    END IF;
    FOR i IN 1..array_length(signs, 1) LOOP
        s := signs[i];
        o := owners[i];
        st := states[i];
        INSERT INTO {r30.FUNNEL_COLUMNS} SELECT o, st, d.currency, r.reached, s * count(*),
            s * coalesce(sum({PG_CENTS.format(a="d.amount")}), 0)
            FROM deals d JOIN deal_reach r ON r.deal_id = d.id WHERE d.customer_id = OLD.id
            GROUP BY d.currency, r.reached ORDER BY d.currency, r.reached {r30.FUNNEL_UPSERT};
        INSERT INTO {r30.MONTH_COLUMNS} SELECT 'c', o, st, d.currency, d.stage, '',
            {PG_MONTH.format(d="d.closed_at")} AS m, s * count(*),
            s * coalesce(sum({PG_CENTS.format(a="d.amount")}), 0)
            FROM deals d WHERE d.customer_id = OLD.id
            GROUP BY d.currency, d.stage, m ORDER BY d.currency, d.stage, m {r30.MONTH_UPSERT};
        INSERT INTO {r30.MONTH_COLUMNS} SELECT 'e', o, st, d.currency, d.stage,
            coalesce(d.forecast_category, '') AS cat,
            {r30.PG_EXPECTED.format(d="d.expected_close")} AS m, s * count(*),
            s * coalesce(sum({PG_CENTS.format(a="d.amount")}), 0)
            FROM deals d WHERE d.customer_id = OLD.id
            GROUP BY d.currency, d.stage, cat, m ORDER BY d.currency, d.stage, cat, m
            {r30.MONTH_UPSERT};
        {customer}
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$""",
        """
CREATE OR REPLACE FUNCTION report_totals_rebuilt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
"""
        + "".join(f"    {s};\n" for s in rebuild)
        + """    RETURN NULL;
END $$""",
    ]


PG_BACKFILL = (
    f"INSERT INTO {FMONTH_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, d.currency, "
    f"{PG_MONTH.format(d='d.created_at')}, r.reached, count(*), "
    f"coalesce(sum({PG_CENTS.format(a='d.amount')}), 0) FROM deals d "
    "JOIN customers c ON c.id = d.customer_id JOIN deal_reach r ON r.deal_id = d.id "
    "GROUP BY 1, 2, 3, 4, 5"
)

PG_ADD = f"""
CREATE FUNCTION funnel_month_totals_add(o bigint, st smallint, cur varchar, m int, r text,
    n bigint, amt bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO {FMONTH_COLUMNS} VALUES (o, st, cur, m, r, n, amt) {FMONTH_UPSERT}
$$"""


def _pg_deals_trigger(columns: str) -> list[str]:
    return [
        "DROP TRIGGER deals_reports_changed ON deals",
        "CREATE TRIGGER deals_reports_changed AFTER INSERT OR DELETE OR UPDATE OF "
        f"{columns} ON deals FOR EACH ROW EXECUTE FUNCTION deals_reports_changed()",
    ]


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "funnel_month_totals",
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("reached", sa.String(1000), nullable=False),
        sa.Column("deals", sa.BigInteger(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "state", "currency", "month", "reached"),
    )
    # The admin's period funnel reads every owner's rows of a few months.
    op.create_index("ix_funnel_month_totals_month", "funnel_month_totals", ["month"])
    # The months a period's bound cuts are read deal by deal, by the hour of opening.
    op.create_index("ix_deals_created_at", "deals", ["created_at"])
    # The overdue list of a team: the oldest dated deals in order, whose customer and stage are
    # read from the index alone until 20 of the team's open ones are found (the plain
    # expected_close index is this one's prefix).
    op.create_index(
        "ix_deals_close_order",
        "deals",
        ["expected_close", "id", "customer_id", "stage", "currency"],
    )
    op.drop_index("ix_deals_expected_close", "deals")
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute(SQLITE_BACKFILL)
        return
    for statement in [PG_ADD, *_pg_functions(True), *_pg_deals_trigger(DEAL_COLUMNS)]:
        op.execute(statement)
    op.execute(PG_BACKFILL)


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        for name, body in r30.SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        for statement in [*_pg_functions(False), *_pg_deals_trigger(r30.DEAL_COLUMNS)]:
            op.execute(statement)
        op.execute("DROP FUNCTION funnel_month_totals_add")
    op.create_index("ix_deals_expected_close", "deals", ["expected_close"])
    op.drop_index("ix_deals_close_order", "deals")
    op.drop_index("ix_deals_created_at", "deals")
    op.drop_index("ix_funnel_month_totals_month", "funnel_month_totals")
    op.drop_table("funnel_month_totals")
