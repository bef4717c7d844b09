"""Cycle days and stage times per month of closing kept by triggers; ordered, covering indexes

Revision ID: 0035_cycle_totals
Revises: 0034_activity_totals
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0035_cycle_totals"
down_revision = "0034_activity_totals"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

r30 = importlib.import_module("crm_core.migrations.versions.0030_report_totals")

# `report cycle` read every closed deal the person sees (its days from opening to close) and
# every history row of those deals (the stage times): 0.3-1.6 s for an admin at 100,000
# customers. These rows hold, per customer owner and state, UTC month of closing (yyyymm; 0:
# none), currency, deal stage and step, sums that add up: step '' is the deal itself (n_in 1,
# in_days its days from opening to close, never below 0, as the report counts them); step S is
# its history rows into S (n_in, in_days: their times as days since 2000-01-01 UTC) and out of
# S (n_out, out_days). Each deal is kept twice, in its month's row and in the all-time row
# (month -1), so an all-time report reads one row per owner and key rather than one per month.
# The medians are not sums: they are read from `ix_deals_cycle`, the deals ordered by their
# days within currency and stage, at the offset the kept counts give.
STATE = r30.STATE
COLUMNS = (
    "cycle_totals (owner_id, state, month, currency, stage, step, n_in, in_days, n_out, out_days)"
)
KEY = "owner_id, state, month, currency, stage, step"
UPSERT = (
    f"ON CONFLICT ({KEY}) DO UPDATE SET "
    "n_in = cycle_totals.n_in + excluded.n_in, "
    "in_days = cycle_totals.in_days + excluded.in_days, "
    "n_out = cycle_totals.n_out + excluded.n_out, "
    "out_days = cycle_totals.out_days + excluded.out_days"
)
DEAL_FIELDS = "customer_id, stage, currency, closed_at, created_at"
MOVE_FIELDS = "deal_id, from_stage, to_stage, changed_at"


def _changed(fields: str) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in fields.split(", "))


# --- SQLite ---------------------------------------------------------------------------------
# The same expressions the report's deal-by-deal reading uses (scope.days_between).


def _sqlite_cycle(row: str) -> str:
    return f"max(coalesce(julianday({row}.closed_at) - julianday({row}.created_at), 0), 0)"


def _sqlite_at(column: str) -> str:
    return f"(julianday({column}) - julianday('2000-01-01 00:00:00.000000'))"


SQLITE_GRAIN = "CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 AS k) g"


def _sqlite_month(column: str) -> str:
    """The row's month for grain g: the UTC month of closing, or -1 (all time)."""
    return f"(CASE WHEN g.k = 1 THEN -1 ELSE {r30._sqlite_month(column)} END)"


def _sqlite_deal(row: str, sign: str) -> list[str]:
    """One deal (NEW or OLD) and its history added (+) to or taken (-) from its rows."""
    key = f"c.owner_id, {STATE.format(c='c')}, {_sqlite_month(f'{row}.closed_at')}, "
    key += f"{row}.currency, {row}.stage"
    return [
        f"INSERT INTO {COLUMNS} SELECT {key}, '', {sign}1, {sign}{_sqlite_cycle(row)}, 0, 0 "
        f"FROM customers c {SQLITE_GRAIN} WHERE c.id = {row}.customer_id {UPSERT}",
        f"INSERT INTO {COLUMNS} SELECT {key}, s.to_stage, {sign}count(*), "
        f"{sign}sum({_sqlite_at('s.changed_at')}), 0, 0 "
        f"FROM stage_changes s CROSS JOIN customers c {SQLITE_GRAIN} "
        f"WHERE c.id = {row}.customer_id AND s.deal_id = {row}.id GROUP BY g.k, s.to_stage "
        f"{UPSERT}",
        f"INSERT INTO {COLUMNS} SELECT {key}, s.from_stage, 0, 0, {sign}count(*), "
        f"{sign}sum({_sqlite_at('s.changed_at')}) "
        f"FROM stage_changes s CROSS JOIN customers c {SQLITE_GRAIN} "
        f"WHERE c.id = {row}.customer_id AND s.deal_id = {row}.id "
        f"AND s.from_stage IS NOT NULL GROUP BY g.k, s.from_stage {UPSERT}",
    ]


def _sqlite_move(row: str, sign: str) -> list[str]:
    """One history row (NEW or OLD) added to or taken from its deal's rows."""
    key = f"c.owner_id, {STATE.format(c='c')}, {_sqlite_month('d.closed_at')}, "
    key += "d.currency, d.stage"
    at = _sqlite_at(f"{row}.changed_at")
    where = f"FROM deals d JOIN customers c ON c.id = d.customer_id {SQLITE_GRAIN} "
    where += f"WHERE d.id = {row}.deal_id"
    return [
        f"INSERT INTO {COLUMNS} SELECT {key}, {row}.to_stage, {sign}1, {sign}{at}, 0, 0 "
        f"{where} {UPSERT}",
        f"INSERT INTO {COLUMNS} SELECT {key}, {row}.from_stage, 0, 0, {sign}1, {sign}{at} "
        f"{where} AND {row}.from_stage IS NOT NULL {UPSERT}",
    ]


def _sqlite_customer(row: str, sign: str) -> list[str]:
    """Every deal of one customer and their history (its NEW or OLD owner and state)."""
    key = f"{row}.owner_id, {STATE.format(c=row)}, {_sqlite_month('d.closed_at')} AS m, "
    key += "d.currency, d.stage"
    at = _sqlite_at("s.changed_at")
    moves = f"FROM stage_changes s JOIN deals d ON d.id = s.deal_id {SQLITE_GRAIN} "
    moves += f"WHERE d.customer_id = {row}.id"
    return [
        f"INSERT INTO {COLUMNS} SELECT {key}, '', {sign}count(*), "
        f"{sign}sum({_sqlite_cycle('d')}), 0, 0 FROM deals d {SQLITE_GRAIN} "
        f"WHERE d.customer_id = {row}.id GROUP BY m, d.currency, d.stage {UPSERT}",
        f"INSERT INTO {COLUMNS} SELECT {key}, s.to_stage, {sign}count(*), {sign}sum({at}), 0, 0 "
        f"{moves} GROUP BY m, d.currency, d.stage, s.to_stage {UPSERT}",
        f"INSERT INTO {COLUMNS} SELECT {key}, s.from_stage, 0, 0, {sign}count(*), "
        f"{sign}sum({at}) {moves} AND s.from_stage IS NOT NULL "
        f"GROUP BY m, d.currency, d.stage, s.from_stage {UPSERT}",
    ]


def _body(*statements: list[str]) -> str:
    return " ".join(f"{s};" for part in statements for s in part)


SQLITE_TRIGGERS = {
    "deals_cycle_inserted": f"AFTER INSERT ON deals BEGIN {_body(_sqlite_deal('NEW', '+'))} END",
    "deals_cycle_deleted": f"AFTER DELETE ON deals BEGIN {_body(_sqlite_deal('OLD', '-'))} END",
    "deals_cycle_updated": (
        f"AFTER UPDATE OF {DEAL_FIELDS} ON deals WHEN {_changed(DEAL_FIELDS)} BEGIN "
        f"{_body(_sqlite_deal('OLD', '-'), _sqlite_deal('NEW', '+'))} END"
    ),
    "stage_changes_cycle_inserted": (
        f"AFTER INSERT ON stage_changes BEGIN {_body(_sqlite_move('NEW', '+'))} END"
    ),
    "stage_changes_cycle_deleted": (
        f"AFTER DELETE ON stage_changes BEGIN {_body(_sqlite_move('OLD', '-'))} END"
    ),
    "stage_changes_cycle_updated": (
        f"AFTER UPDATE OF {MOVE_FIELDS} ON stage_changes WHEN {_changed(MOVE_FIELDS)} BEGIN "
        f"{_body(_sqlite_move('OLD', '-'), _sqlite_move('NEW', '+'))} END"
    ),
    "customers_cycle_updated": (
        f"AFTER UPDATE OF owner_id, archived_at, merged_into ON customers "
        f"WHEN {r30._CUSTOMER_MOVED} BEGIN "
        f"{_body(_sqlite_customer('OLD', '-'), _sqlite_customer('NEW', '+'))} END"
    ),
    # Before the customer goes: its deals and history, deleted after it, no longer find it.
    "customers_cycle_deleted": (
        f"BEFORE DELETE ON customers BEGIN {_body(_sqlite_customer('OLD', '-'))} END"
    ),
}


def _backfill(cycle: str, at: str, month: str, grain: str) -> str:
    """Every deal and history row, summed per key (the same for both databases)."""
    key = f"c.owner_id AS o, {STATE.format(c='c')} AS st, {month} AS m, d.currency AS cur, "
    key += "d.stage AS sg"
    deals = f"FROM deals d JOIN customers c ON c.id = d.customer_id {grain}"
    return (
        f"INSERT INTO {COLUMNS} SELECT o, st, m, cur, sg, step, sum(ni), sum(di), sum(no), "
        f"sum(dout) FROM ("
        f"SELECT {key}, '' AS step, count(*) AS ni, sum({cycle}) AS di, 0 AS no, 0 AS dout "
        f"{deals} GROUP BY 1, 2, 3, 4, 5 "
        f"UNION ALL SELECT {key}, s.to_stage, count(*), sum({at}), 0, 0 "
        f"FROM stage_changes s JOIN deals d ON d.id = s.deal_id "
        f"JOIN customers c ON c.id = d.customer_id {grain} GROUP BY 1, 2, 3, 4, 5, 6 "
        f"UNION ALL SELECT {key}, s.from_stage, 0, 0, count(*), sum({at}) "
        f"FROM stage_changes s JOIN deals d ON d.id = s.deal_id "
        f"JOIN customers c ON c.id = d.customer_id {grain} WHERE s.from_stage IS NOT NULL "
        f"GROUP BY 1, 2, 3, 4, 5, 6"
        f") AS x GROUP BY o, st, m, cur, sg, step"
    )


SQLITE_BACKFILL = _backfill(
    _sqlite_cycle("d"), _sqlite_at("s.changed_at"), _sqlite_month("d.closed_at"), SQLITE_GRAIN
)


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_cycle(row: str) -> str:
    return (
        f"greatest(coalesce(extract(epoch FROM {row}.closed_at - {row}.created_at) "
        "/ CAST(86400 AS NUMERIC), 0), 0)"
    )


def _pg_at(column: str) -> str:
    return (
        f"(extract(epoch FROM {column} - '2000-01-01 00:00:00+00'::timestamptz) "
        "/ CAST(86400 AS NUMERIC))"
    )


PG_GRAIN = "CROSS JOIN (VALUES (0), (1)) AS g(k)"


def _pg_month(column: str) -> str:
    return f"(CASE WHEN g.k = 1 THEN -1 ELSE {r30.PG_CLOSED.format(d=column)} END)"


# The deal itself and its history rows, as (step, n_in, in_days, n_out, out_days) per deal.
def _pg_parts(deal: str, cycle: str) -> str:
    at = _pg_at("s.changed_at")
    return (
        f"SELECT ''::varchar AS step, 1 AS ni, {cycle} AS di, 0 AS no, 0::numeric AS dout "
        f"UNION ALL SELECT s.to_stage, 1, {at}, 0, 0 FROM stage_changes s "
        f"WHERE s.deal_id = {deal} "
        f"UNION ALL SELECT s.from_stage, 0, 0, 1, {at} FROM stage_changes s "
        f"WHERE s.deal_id = {deal} AND s.from_stage IS NOT NULL"
    )


PG_BACKFILL = _backfill(_pg_cycle("d"), _pg_at("s.changed_at"), _pg_month("d.closed_at"), PG_GRAIN)

SUMS = "sum(x.n * y.ni), sum(x.n * y.di), sum(x.n * y.no), sum(x.n * y.dout)"
NONZERO = (
    "HAVING sum(x.n * y.ni) <> 0 OR sum(x.n * y.di) <> 0 OR sum(x.n * y.no) <> 0 "
    "OR sum(x.n * y.dout) <> 0"
)

# Every function locks what the rows' keys are read from before reading them (the customer FOR
# SHARE; for a history row the deal FOR NO KEY UPDATE first), as 0033's and 0034's do, and
# writes its rows netted and in key order, so opposite writes wait instead of deadlocking.
PG_FUNCTIONS = [
    f"""
CREATE FUNCTION deals_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
        SELECT c.owner_id, {STATE.format(c="c")}, {_pg_month("x.closed_at")}, x.cur, x.sg,
            y.step, {SUMS}
        FROM (VALUES
            (-1, a.id, a.customer_id, a.closed_at, a.currency, a.stage, {_pg_cycle("a")}),
            (1, b.id, b.customer_id, b.closed_at, b.currency, b.stage, {_pg_cycle("b")})
        ) AS x(n, id, customer_id, closed_at, cur, sg, cyc)
        JOIN customers c ON c.id = x.customer_id {PG_GRAIN}
        CROSS JOIN LATERAL ({_pg_parts("x.id", "x.cyc")}) AS y
        GROUP BY 1, 2, 3, 4, 5, 6
        {NONZERO}
        ORDER BY 1, 2, 3, 4, 5, 6
        {UPSERT};
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION stage_changes_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a stage_changes;
    b stage_changes;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        a := OLD;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        b := NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND ROW(a.{MOVE_FIELDS.replace(", ", ", a.")})
            IS NOT DISTINCT FROM ROW(b.{MOVE_FIELDS.replace(", ", ", b.")}) THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM deals WHERE id IN (a.deal_id, b.deal_id) ORDER BY id FOR NO KEY UPDATE;
    PERFORM 1 FROM customers WHERE id IN (
        SELECT customer_id FROM deals WHERE id IN (a.deal_id, b.deal_id)
    ) ORDER BY id FOR SHARE;
    INSERT INTO {COLUMNS}
        SELECT c.owner_id, {STATE.format(c="c")}, {_pg_month("d.closed_at")}, d.currency,
            d.stage, y.step, {SUMS}
        FROM (VALUES
            (-1, a.deal_id, a.from_stage, a.to_stage, {_pg_at("a.changed_at")}),
            (1, b.deal_id, b.from_stage, b.to_stage, {_pg_at("b.changed_at")})
        ) AS x(n, deal_id, fr, tos, at)
        JOIN deals d ON d.id = x.deal_id
        JOIN customers c ON c.id = d.customer_id {PG_GRAIN}
        CROSS JOIN LATERAL (VALUES (x.tos, 1, x.at, 0, 0::numeric), (x.fr, 0, 0, 1, x.at))
            AS y(step, ni, di, no, dout)
        WHERE y.step IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6
        {NONZERO}
        ORDER BY 1, 2, 3, 4, 5, 6
        {UPSERT};
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION customers_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
    -- The customer's deals and history taken from its old owner and state, added to its new.
    INSERT INTO {COLUMNS}
        SELECT x.o, x.st, {_pg_month("d.closed_at")} AS m, d.currency, d.stage, y.step,
            x.n * sum(y.ni), x.n * sum(y.di), x.n * sum(y.no), x.n * sum(y.dout)
        FROM deals d {PG_GRAIN}
        CROSS JOIN LATERAL ({_pg_parts("d.id", _pg_cycle("d"))}) AS y
        CROSS JOIN (VALUES
            (-1, OLD.owner_id, {STATE.format(c="OLD")}::smallint),
            (1, o_new, st_new)
        ) AS x(n, o, st)
        WHERE d.customer_id = OLD.id AND x.o IS NOT NULL
        GROUP BY x.n, x.o, x.st, m, d.currency, d.stage, y.step
        ORDER BY x.o, x.st, m, d.currency, d.stage, y.step
        {UPSERT};
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION cycle_totals_rebuilt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cycle_totals;
    {PG_BACKFILL};
    RETURN NULL;
END $$""",
]

PG_TRIGGERS = {
    "deals_reports_cycle": (
        "deals",
        f"AFTER INSERT OR DELETE OR UPDATE OF {DEAL_FIELDS} ON deals FOR EACH ROW "
        "EXECUTE FUNCTION deals_cycle_changed()",
    ),
    "stage_changes_reports_cycle": (
        "stage_changes",
        f"AFTER INSERT OR DELETE OR UPDATE OF {MOVE_FIELDS} ON stage_changes FOR EACH ROW "
        "EXECUTE FUNCTION stage_changes_cycle_changed()",
    ),
    "customers_reports_cycle": (
        "customers",
        "AFTER UPDATE OF owner_id, archived_at, merged_into ON customers FOR EACH ROW "
        "EXECUTE FUNCTION customers_cycle_changed()",
    ),
    "customers_reports_cycle_deleted": (
        "customers",
        "BEFORE DELETE ON customers FOR EACH ROW EXECUTE FUNCTION customers_cycle_changed()",
    ),
    # A truncated table: the rows from what is left (deals' truncation takes the history's).
    "deals_cycle_truncated": (
        "deals",
        "AFTER TRUNCATE ON deals FOR EACH STATEMENT EXECUTE FUNCTION cycle_totals_rebuilt()",
    ),
    "stage_changes_cycle_truncated": (
        "stage_changes",
        "AFTER TRUNCATE ON stage_changes FOR EACH STATEMENT "
        "EXECUTE FUNCTION cycle_totals_rebuilt()",
    ),
}

# The deals ordered by their days from opening to close within currency and stage (a deal in a
# closed stage with no closing time counts 0 days, as the report counts it); the customer and
# the two times ride along so a median is read from the index alone (PostgreSQL reads an
# expression index only when every column the expression uses is in it).
PG_CYCLE_INDEX = (
    "CREATE INDEX ix_deals_cycle ON deals (currency, stage, "
    "coalesce(extract(epoch FROM closed_at - created_at), 0)) "
    "INCLUDE (customer_id, closed_at, created_at)"
)
SQLITE_CYCLE_INDEX = (
    "CREATE INDEX ix_deals_cycle ON deals (currency, stage, "
    "coalesce(julianday(closed_at) - julianday(created_at), 0), customer_id, closed_at, "
    "created_at)"
)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "cycle_totals",
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("step", sa.String(50), nullable=False),
        sa.Column("n_in", sa.BigInteger(), nullable=False),
        sa.Column("in_days", sa.Numeric(), nullable=False),
        sa.Column("n_out", sa.BigInteger(), nullable=False),
        sa.Column("out_days", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "state", "month", "currency", "stage", "step"),
    )
    # The admin's report reads every owner's rows of the period's months (or of month -1), from
    # the index alone on PostgreSQL.
    op.create_index(
        "ix_cycle_totals_month",
        "cycle_totals",
        ["month", "stage", "currency", "step", "state", "owner_id"],
        postgresql_include=["n_in", "in_days", "n_out", "out_days"],
    )
    # The forecast's open deals by expected close (kind e) of every owner, for an admin, read
    # from the index alone on PostgreSQL (the table's PK leads with the owner).
    op.create_index(
        "ix_deal_month_totals_kind",
        "deal_month_totals",
        ["kind", "stage", "state", "currency", "month", "category"],
        postgresql_include=["deals", "cents"],
    )
    # `report activity`'s cut hours look each move's customer up by its deal (a few hundred
    # moves of the whole company): from the index alone on PostgreSQL, not the deals' pages.
    op.create_index("ix_deals_id_customer", "deals", ["id"], postgresql_include=["customer_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_CYCLE_INDEX)
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute(SQLITE_BACKFILL)
        return
    op.execute(PG_CYCLE_INDEX)
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
            "cycle_totals_rebuilt()",
            "customers_cycle_changed()",
            "stage_changes_cycle_changed()",
            "deals_cycle_changed()",
        ):
            op.execute(f"DROP FUNCTION {function}")
    op.execute("DROP INDEX ix_deals_cycle")
    op.drop_index("ix_deal_month_totals_kind", "deal_month_totals")
    op.drop_index("ix_deals_id_customer", "deals")
    op.drop_index("ix_cycle_totals_month", "cycle_totals")
    op.drop_table("cycle_totals")
