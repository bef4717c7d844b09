"""Funnel and forecast totals kept by triggers: stages each deal reached, sums per month

Revision ID: 0030_report_totals
Revises: 0029_score_freshness
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_report_totals"
down_revision = "0029_score_freshness"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Like 0026's pipeline totals, triggers rather than service code, so every writer (services,
# the importer's executemany, bulk UPDATEs, restores, undo, merges) keeps the totals in its own
# transaction. The keys hold no pipeline configuration: a deal's funnel key is the set of stage
# names it has been in (its stage and every from/to of its history, sorted, tab-separated), and
# the report ranks that set with the configured stages when it reads. A customer's `state`
# (0 live, 1 merged away, 2 archived) is in every key because an admin's reports count merged
# customers' deals and nobody else's do (crm_core.analytics.scope).
SEP = "char(9)"
STATE = (
    "(CASE WHEN {c}.archived_at IS NOT NULL THEN 2 WHEN {c}.merged_into IS NOT NULL THEN 1 "
    "ELSE 0 END)"
)
FUNNEL_COLUMNS = "funnel_totals (owner_id, state, currency, reached, deals, cents)"
FUNNEL_UPSERT = (
    "ON CONFLICT (owner_id, state, currency, reached) DO UPDATE SET "
    "deals = funnel_totals.deals + excluded.deals, cents = funnel_totals.cents + excluded.cents"
)
MONTH_COLUMNS = (
    "deal_month_totals (kind, owner_id, state, currency, stage, category, month, deals, cents)"
)
MONTH_UPSERT = (
    "ON CONFLICT (kind, owner_id, state, currency, stage, category, month) DO UPDATE SET "
    "deals = deal_month_totals.deals + excluded.deals, "
    "cents = deal_month_totals.cents + excluded.cents"
)
_DEAL_CHANGED = (
    "OLD.customer_id IS NOT NEW.customer_id OR OLD.stage IS NOT NEW.stage "
    "OR OLD.currency IS NOT NEW.currency OR OLD.amount IS NOT NEW.amount "
    "OR OLD.expected_close IS NOT NEW.expected_close OR OLD.closed_at IS NOT NEW.closed_at "
    "OR OLD.forecast_category IS NOT NEW.forecast_category"
)
_CUSTOMER_MOVED = (
    "OLD.owner_id IS NOT NEW.owner_id "
    "OR (OLD.archived_at IS NULL) IS NOT (NEW.archived_at IS NULL) "
    "OR (OLD.merged_into IS NULL) IS NOT (NEW.merged_into IS NULL)"
)
# Rows per customer owner only, no company-wide ones: a row every deal write of the company
# upserted (held to commit) made writes on separate books wait for, and deadlock with, each
# other. An admin's reports sum the owners' rows (owners x keys, still small).


DEAL_COLUMNS = "customer_id, stage, currency, amount, expected_close, closed_at, forecast_category"


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_reached(deal_id: str, stage: str) -> str:
    """The sorted set of stage names a deal has been in, as one tab-separated string."""
    return (
        f"(SELECT group_concat(s, {SEP}) FROM (SELECT s FROM ("
        f"SELECT {stage} AS s UNION SELECT from_stage FROM stage_changes WHERE deal_id = {deal_id} "
        f"UNION SELECT to_stage FROM stage_changes WHERE deal_id = {deal_id}) "
        "WHERE s IS NOT NULL ORDER BY s))"
    )


def _sqlite_cents(amount: str) -> str:
    return f"coalesce(CAST(round({amount} * 100) AS INTEGER), 0)"


def _sqlite_month(column: str) -> str:
    return f"coalesce(CAST(strftime('%Y%m', {column}) AS INTEGER), 0)"


def _sqlite_funnel_deal(row: str, sign: str, reached: str) -> str:
    """One deal row (NEW or OLD) with its reached set added (+) to or taken (-) from."""
    return (
        f"INSERT INTO {FUNNEL_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
        f"{row}.currency, {reached}, {sign}1, {sign}{_sqlite_cents(f'{row}.amount')} "
        f"FROM customers c WHERE c.id = {row}.customer_id {FUNNEL_UPSERT}"
    )


def _sqlite_month_deal(row: str, sign: str) -> str:
    """One deal row's two month rows: by expected close (with category) and by close."""
    cents = f"{sign}{_sqlite_cents(f'{row}.amount')}"
    state = STATE.format(c="c")
    return (
        f"INSERT INTO {MONTH_COLUMNS} SELECT 'e', c.owner_id, {state}, {row}.currency, "
        f"{row}.stage, coalesce({row}.forecast_category, ''), "
        f"{_sqlite_month(f'{row}.expected_close')}, {sign}1, {cents} "
        f"FROM customers c WHERE c.id = {row}.customer_id {MONTH_UPSERT}; "
        f"INSERT INTO {MONTH_COLUMNS} SELECT 'c', c.owner_id, {state}, {row}.currency, "
        f"{row}.stage, '', {_sqlite_month(f'{row}.closed_at')}, {sign}1, {cents} "
        f"FROM customers c WHERE c.id = {row}.customer_id {MONTH_UPSERT}"
    )


def _sqlite_customer(row: str, sign: str) -> str:
    """Every deal of one customer (its NEW or OLD owner and state) added to or taken from."""
    state = STATE.format(c=row)
    owner = f"{row}.owner_id"
    cents = f"{sign}coalesce(sum({_sqlite_cents('d.amount')}), 0)"
    return (
        f"INSERT INTO {FUNNEL_COLUMNS} SELECT {owner}, {state}, d.currency, r.reached, "
        f"{sign}count(*), {cents} FROM deals d JOIN deal_reach r ON r.deal_id = d.id "
        f"WHERE d.customer_id = {row}.id GROUP BY 1, 3, 4 {FUNNEL_UPSERT}; "
        f"INSERT INTO {MONTH_COLUMNS} SELECT 'e', {owner}, {state}, d.currency, d.stage, "
        f"coalesce(d.forecast_category, ''), {_sqlite_month('d.expected_close')}, "
        f"{sign}count(*), {cents} FROM deals d WHERE d.customer_id = {row}.id "
        f"GROUP BY 2, 4, 5, 6, 7 {MONTH_UPSERT}; "
        f"INSERT INTO {MONTH_COLUMNS} SELECT 'c', {owner}, {state}, d.currency, d.stage, "
        f"'', {_sqlite_month('d.closed_at')}, {sign}count(*), {cents} "
        f"FROM deals d WHERE d.customer_id = {row}.id GROUP BY 2, 4, 5, 7 {MONTH_UPSERT}"
    )


def _sqlite_history(deal_id: str) -> str:
    """A deal's history changed: move it to its new reached set if the set changed."""
    now = _sqlite_reached(deal_id, f"(SELECT stage FROM deals WHERE id = {deal_id})")
    kept = f"(SELECT reached FROM deal_reach WHERE deal_id = {deal_id})"
    state = STATE.format(c="c")
    cents = _sqlite_cents("d.amount")
    return (
        # The new set first (the kept one still tells it changed), then the old, then the row.
        f"INSERT INTO {FUNNEL_COLUMNS} SELECT c.owner_id, {state}, d.currency, {now}, "
        f"1, {cents} FROM deals d JOIN customers c ON c.id = d.customer_id "
        f"WHERE d.id = {deal_id} AND {kept} IS NOT {now} {FUNNEL_UPSERT}; "
        f"INSERT INTO {FUNNEL_COLUMNS} SELECT c.owner_id, {state}, d.currency, "
        f"r.reached, -1, -{cents} FROM deals d JOIN customers c ON c.id = d.customer_id "
        f"JOIN deal_reach r ON r.deal_id = d.id "
        f"WHERE d.id = {deal_id} AND r.reached IS NOT {now} {FUNNEL_UPSERT}; "
        f"UPDATE deal_reach SET reached = {now} WHERE deal_id = {deal_id} AND reached IS NOT {now}"
    )


_NEW_REACHED = "(SELECT reached FROM deal_reach WHERE deal_id = NEW.id)"
_OLD_REACHED = "(SELECT reached FROM deal_reach WHERE deal_id = OLD.id)"

SQLITE_TRIGGERS = {
    "deals_reports_inserted": (
        "AFTER INSERT ON deals BEGIN "
        f"INSERT INTO deal_reach (deal_id, reached) VALUES "
        f"(NEW.id, {_sqlite_reached('NEW.id', 'NEW.stage')}) "
        "ON CONFLICT (deal_id) DO UPDATE SET reached = excluded.reached; "
        f"{_sqlite_funnel_deal('NEW', '+', _NEW_REACHED)}; {_sqlite_month_deal('NEW', '+')}; END"
    ),
    "deals_reports_deleted": (
        "AFTER DELETE ON deals BEGIN "
        f"{_sqlite_funnel_deal('OLD', '-', _OLD_REACHED)}; {_sqlite_month_deal('OLD', '-')}; "
        "DELETE FROM deal_reach WHERE deal_id = OLD.id; END"
    ),
    "deals_reports_updated": (
        f"AFTER UPDATE OF {DEAL_COLUMNS} ON deals WHEN {_DEAL_CHANGED} BEGIN "
        f"{_sqlite_funnel_deal('OLD', '-', _OLD_REACHED)}; {_sqlite_month_deal('OLD', '-')}; "
        f"UPDATE deal_reach SET reached = {_sqlite_reached('NEW.id', 'NEW.stage')} "
        "WHERE deal_id = NEW.id; "
        f"{_sqlite_funnel_deal('NEW', '+', _NEW_REACHED)}; {_sqlite_month_deal('NEW', '+')}; END"
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
        f"AFTER UPDATE OF owner_id, archived_at, merged_into ON customers WHEN {_CUSTOMER_MOVED} "
        f"BEGIN {_sqlite_customer('OLD', '-')}; {_sqlite_customer('NEW', '+')}; END"
    ),
    "customers_reports_deleted": (
        f"BEFORE DELETE ON customers BEGIN {_sqlite_customer('OLD', '-')}; END"
    ),
}

SQLITE_BACKFILL = [
    f"INSERT INTO deal_reach (deal_id, reached) SELECT d.id, {_sqlite_reached('d.id', 'd.stage')} "
    "FROM deals d",
    f"INSERT INTO {FUNNEL_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
    f"d.currency, r.reached, count(*), coalesce(sum({_sqlite_cents('d.amount')}), 0) "
    f"FROM deals d JOIN customers c ON c.id = d.customer_id JOIN deal_reach r "
    f"ON r.deal_id = d.id GROUP BY 1, 2, 3, 4",
    f"INSERT INTO {MONTH_COLUMNS} SELECT 'e', c.owner_id, {STATE.format(c='c')}, "
    f"d.currency, d.stage, coalesce(d.forecast_category, ''), "
    f"{_sqlite_month('d.expected_close')}, count(*), "
    f"coalesce(sum({_sqlite_cents('d.amount')}), 0) FROM deals d "
    f"JOIN customers c ON c.id = d.customer_id GROUP BY 2, 3, 4, 5, 6, 7",
    f"INSERT INTO {MONTH_COLUMNS} SELECT 'c', c.owner_id, {STATE.format(c='c')}, "
    f"d.currency, d.stage, '', {_sqlite_month('d.closed_at')}, count(*), "
    f"coalesce(sum({_sqlite_cents('d.amount')}), 0) FROM deals d "
    f"JOIN customers c ON c.id = d.customer_id GROUP BY 2, 3, 4, 5, 7",
]


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_reached(deal_id: str, stage: str) -> str:
    return (
        "(SELECT string_agg(s, E'\\t' ORDER BY s) FROM ("
        f"SELECT {stage}::text AS s UNION SELECT from_stage FROM stage_changes "
        f"WHERE deal_id = {deal_id} UNION SELECT to_stage FROM stage_changes "
        f"WHERE deal_id = {deal_id}) x WHERE s IS NOT NULL)"
    )


PG_CENTS = "coalesce(({a} * 100)::bigint, 0)"
PG_EXPECTED = "coalesce((extract(year FROM {d}) * 100 + extract(month FROM {d}))::int, 0)"
PG_CLOSED = "coalesce(to_char({d} AT TIME ZONE 'UTC', 'YYYYMM')::int, 0)"

PG_FUNCTIONS = [
    f"""
CREATE FUNCTION funnel_totals_add(o bigint, st smallint, cur varchar, r text, n bigint,
    amt bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO {FUNNEL_COLUMNS} VALUES (o, st, cur, r, n, amt) {FUNNEL_UPSERT}
$$""",
    f"""
CREATE FUNCTION deal_month_totals_add(k varchar, o bigint, st smallint, cur varchar,
    sg varchar, cat varchar, m int, n bigint, amt bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO {MONTH_COLUMNS} VALUES (k, o, st, cur, sg, cat, m, n, amt) {MONTH_UPSERT}
$$""",
    # One deal's rows added (sign 1) or taken (-1) for its customer's owner and state.
    f"""
CREATE FUNCTION report_totals_deal(d deals, r text, sign int) RETURNS void LANGUAGE plpgsql AS $$
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
        {PG_CLOSED.format(d="d.closed_at")}, sign, amt);
    PERFORM deal_month_totals_add('e', o, st, d.currency, d.stage,
        coalesce(d.forecast_category, ''), {PG_EXPECTED.format(d="d.expected_close")}, sign,
        amt);
END $$""",
    f"""
CREATE FUNCTION deals_reports_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r_old text;
    r_new text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        SELECT reached INTO r_old FROM deal_reach WHERE deal_id = OLD.id;
    END IF;
    IF TG_OP = 'UPDATE' AND ROW(OLD.{DEAL_COLUMNS.replace(", ", ", OLD.")})
            IS NOT DISTINCT FROM ROW(NEW.{DEAL_COLUMNS.replace(", ", ", NEW.")}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        r_new := {_pg_reached("NEW.id", "NEW.stage")};
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
            {PG_EXPECTED.format(d="OLD.expected_close")}, {PG_CLOSED.format(d="OLD.closed_at")},
            OLD.customer_id) <= ROW(NEW.stage, NEW.currency, coalesce(NEW.forecast_category, ''),
            {PG_EXPECTED.format(d="NEW.expected_close")}, {PG_CLOSED.format(d="NEW.closed_at")},
            NEW.customer_id) THEN
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
CREATE FUNCTION stage_changes_reports_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
        r_new := {_pg_reached("one", "d.stage")};
        IF r_old IS DISTINCT FROM r_new THEN
            UPDATE deal_reach SET reached = r_new WHERE deal_id = one;
            IF o IS NOT NULL THEN
                PERFORM funnel_totals_add(o, st, d.currency, x.r, x.n,
                    x.n * {PG_CENTS.format(a="d.amount")})
                    FROM (VALUES (r_old, -1), (r_new, 1)) AS x(r, n)
                    WHERE x.r IS NOT NULL
                    ORDER BY x.r;
            END IF;
        END IF;
    END LOOP;
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION customers_reports_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
        INSERT INTO {FUNNEL_COLUMNS} SELECT o, st, d.currency, r.reached, s * count(*),
            s * coalesce(sum({PG_CENTS.format(a="d.amount")}), 0)
            FROM deals d JOIN deal_reach r ON r.deal_id = d.id WHERE d.customer_id = OLD.id
            GROUP BY d.currency, r.reached ORDER BY d.currency, r.reached {FUNNEL_UPSERT};
        INSERT INTO {MONTH_COLUMNS} SELECT 'c', o, st, d.currency, d.stage, '',
            {PG_CLOSED.format(d="d.closed_at")} AS m, s * count(*),
            s * coalesce(sum({PG_CENTS.format(a="d.amount")}), 0)
            FROM deals d WHERE d.customer_id = OLD.id
            GROUP BY d.currency, d.stage, m ORDER BY d.currency, d.stage, m {MONTH_UPSERT};
        INSERT INTO {MONTH_COLUMNS} SELECT 'e', o, st, d.currency, d.stage,
            coalesce(d.forecast_category, '') AS cat,
            {PG_EXPECTED.format(d="d.expected_close")} AS m, s * count(*),
            s * coalesce(sum({PG_CENTS.format(a="d.amount")}), 0)
            FROM deals d WHERE d.customer_id = OLD.id
            GROUP BY d.currency, d.stage, cat, m ORDER BY d.currency, d.stage, cat, m
            {MONTH_UPSERT};
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$""",
]

PG_BACKFILL = [
    f"INSERT INTO deal_reach (deal_id, reached) SELECT d.id, {_pg_reached('d.id', 'd.stage')} "
    "FROM deals d",
    f"INSERT INTO {FUNNEL_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
    f"d.currency, r.reached, count(*), coalesce(sum({PG_CENTS.format(a='d.amount')}), 0) "
    "FROM deals d JOIN customers c ON c.id = d.customer_id JOIN deal_reach r "
    f"ON r.deal_id = d.id GROUP BY 1, 2, 3, 4",
    f"INSERT INTO {MONTH_COLUMNS} SELECT 'e', c.owner_id, {STATE.format(c='c')}, "
    f"d.currency, d.stage, coalesce(d.forecast_category, ''), "
    f"{PG_EXPECTED.format(d='d.expected_close')}, count(*), "
    f"coalesce(sum({PG_CENTS.format(a='d.amount')}), 0) FROM deals d "
    f"JOIN customers c ON c.id = d.customer_id GROUP BY 2, 3, 4, 5, 6, 7",
    f"INSERT INTO {MONTH_COLUMNS} SELECT 'c', c.owner_id, {STATE.format(c='c')}, "
    f"d.currency, d.stage, '', {PG_CLOSED.format(d='d.closed_at')}, count(*), "
    f"coalesce(sum({PG_CENTS.format(a='d.amount')}), 0) FROM deals d "
    f"JOIN customers c ON c.id = d.customer_id GROUP BY 2, 3, 4, 5, 7",
]

PG_FUNCTIONS.append(
    """
CREATE FUNCTION report_totals_rebuilt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM funnel_totals;
    DELETE FROM deal_month_totals;
    DELETE FROM deal_reach;
"""
    + "".join(f"    {s};\n" for s in PG_BACKFILL)
    + """    RETURN NULL;
END $$"""
)

PG_TRIGGERS = [
    "CREATE TRIGGER deals_reports_changed AFTER INSERT OR DELETE OR UPDATE OF "
    f"{DEAL_COLUMNS} ON deals FOR EACH ROW EXECUTE FUNCTION deals_reports_changed()",
    "CREATE TRIGGER stage_changes_reports_changed AFTER INSERT OR DELETE OR UPDATE OF "
    "deal_id, from_stage, to_stage ON stage_changes FOR EACH ROW "
    "EXECUTE FUNCTION stage_changes_reports_changed()",
    "CREATE TRIGGER customers_reports_changed AFTER UPDATE OF owner_id, archived_at, "
    "merged_into ON customers FOR EACH ROW EXECUTE FUNCTION customers_reports_changed()",
    "CREATE TRIGGER customers_reports_deleted BEFORE DELETE ON customers FOR EACH ROW "
    "EXECUTE FUNCTION customers_reports_changed()",
    # A truncated deals or history table: everything from what is left.
    "CREATE TRIGGER deals_reports_truncated AFTER TRUNCATE ON deals FOR EACH STATEMENT "
    "EXECUTE FUNCTION report_totals_rebuilt()",
    "CREATE TRIGGER stage_changes_reports_truncated AFTER TRUNCATE ON stage_changes "
    "FOR EACH STATEMENT EXECUTE FUNCTION report_totals_rebuilt()",
]


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "deal_reach",
        sa.Column("deal_id", ID, nullable=False),
        sa.Column("reached", sa.String(1000)),
        sa.PrimaryKeyConstraint("deal_id"),
    )
    op.create_table(
        "funnel_totals",
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reached", sa.String(1000), nullable=False),
        sa.Column("deals", sa.BigInteger(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "state", "currency", "reached"),
    )
    op.create_table(
        "deal_month_totals",
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("deals", sa.BigInteger(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kind", "owner_id", "state", "currency", "stage", "category", "month"
        ),
    )
    # The forecast's partial months read these deals by the day.
    op.create_index("ix_deals_closed_at", "deals", ["closed_at"])
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        for statement in SQLITE_BACKFILL:
            op.execute(statement)
        return
    for statement in PG_FUNCTIONS + PG_TRIGGERS + PG_BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for trigger, table in (
            ("deals_reports_changed", "deals"),
            ("deals_reports_truncated", "deals"),
            ("stage_changes_reports_changed", "stage_changes"),
            ("stage_changes_reports_truncated", "stage_changes"),
            ("customers_reports_changed", "customers"),
            ("customers_reports_deleted", "customers"),
        ):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        for function in (
            "report_totals_rebuilt()",
            "customers_reports_changed()",
            "stage_changes_reports_changed()",
            "deals_reports_changed()",
            "report_totals_deal",
            "deal_month_totals_add",
            "funnel_totals_add",
        ):
            op.execute(f"DROP FUNCTION {function}")
    op.drop_index("ix_deals_closed_at", "deals")
    op.drop_table("deal_month_totals")
    op.drop_table("funnel_totals")
    op.drop_table("deal_reach")
