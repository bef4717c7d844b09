"""Notes and stage moves per UTC day, kept by triggers for `report activity`

Revision ID: 0034_activity_totals
Revises: 0033_close_totals
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0034_activity_totals"
down_revision = "0033_close_totals"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

r30 = importlib.import_module("crm_core.migrations.versions.0030_report_totals")

# `report activity` counted every live note and every stage move the person sees in the period
# (by author and kind, by actor and stage reached). These rows hold the same counts per UTC day
# and customer owner and state (the key every kept total has, so the same reads pick a person's
# book), so whole days are sums and only the days a period's bound cuts (a local midnight) are
# read note by note, the hours inside or outside. Each note or move is kept twice, in its day's
# row (day yyyymmdd) and in its month's (day yyyymm: six digits, so the month rows are one range
# of the day index, below every day row): a week reads day rows, a month or more whole month
# rows (an admin's month: ~1,500 rows rather than ~14,000) and the days around them.
STATE = r30.STATE
NOTE_COLUMNS = "note_day_totals (owner_id, state, day, author_id, kind, notes)"
NOTE_UPSERT = (
    "ON CONFLICT (owner_id, state, day, author_id, kind) DO UPDATE SET "
    "notes = note_day_totals.notes + excluded.notes"
)
MOVE_COLUMNS = "move_day_totals (owner_id, state, day, actor_id, to_stage, moves)"
MOVE_UPSERT = (
    "ON CONFLICT (owner_id, state, day, actor_id, to_stage) DO UPDATE SET "
    "moves = move_day_totals.moves + excluded.moves"
)
NOTE_FIELDS = "customer_id, author_id, kind, occurred_at, deleted_at"
MOVE_FIELDS = "deal_id, from_stage, to_stage, changed_at, actor_id"


def _changed(fields: str) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in fields.split(", "))


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_day(column: str) -> str:
    """The row's key for grain g: its UTC day (yyyymmdd), or its month (yyyymm)."""
    day = f"CAST(strftime('%Y%m%d', {column}) AS INTEGER)"
    return f"(CASE WHEN g.m = 1 THEN {day} / 100 ELSE {day} END)"


SQLITE_GRAIN = "CROSS JOIN (SELECT 0 AS m UNION ALL SELECT 1 AS m) g"


def _sqlite_note(row: str, sign: str) -> str:
    """One note row (NEW or OLD), if live, added (+) to or taken (-) from its day's row."""
    return (
        f"INSERT INTO {NOTE_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
        f"{_sqlite_day(f'{row}.occurred_at')}, {row}.author_id, {row}.kind, {sign}1 "
        f"FROM customers c {SQLITE_GRAIN} "
        f"WHERE c.id = {row}.customer_id AND {row}.deleted_at IS NULL "
        f"{NOTE_UPSERT}"
    )


def _sqlite_move(row: str, sign: str) -> str:
    """One history row (NEW or OLD), if a move, added to or taken from its day's row."""
    return (
        f"INSERT INTO {MOVE_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
        f"{_sqlite_day(f'{row}.changed_at')}, coalesce({row}.actor_id, 0), {row}.to_stage, "
        f"{sign}1 FROM deals d JOIN customers c ON c.id = d.customer_id {SQLITE_GRAIN} "
        f"WHERE d.id = {row}.deal_id AND {row}.from_stage IS NOT NULL {MOVE_UPSERT}"
    )


def _sqlite_deal_moves(row: str, sign: str) -> str:
    """Every move of one deal (for its NEW or OLD customer) added to or taken from."""
    return (
        f"INSERT INTO {MOVE_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
        f"{_sqlite_day('s.changed_at')}, coalesce(s.actor_id, 0), s.to_stage, {sign}count(*) "
        f"FROM stage_changes s CROSS JOIN customers c {SQLITE_GRAIN} "
        f"WHERE c.id = {row}.customer_id "
        f"AND s.deal_id = {row}.id AND s.from_stage IS NOT NULL GROUP BY 1, 2, 3, 4, 5 "
        f"{MOVE_UPSERT}"
    )


def _sqlite_customer(row: str, sign: str) -> str:
    """Every live note and move of one customer (its NEW or OLD owner and state)."""
    state = STATE.format(c=row)
    return (
        f"INSERT INTO {NOTE_COLUMNS} SELECT {row}.owner_id, {state}, "
        f"{_sqlite_day('i.occurred_at')}, i.author_id, i.kind, {sign}count(*) "
        f"FROM interactions i {SQLITE_GRAIN} "
        f"WHERE i.customer_id = {row}.id AND i.deleted_at IS NULL "
        f"GROUP BY 3, 4, 5 {NOTE_UPSERT}; "
        f"INSERT INTO {MOVE_COLUMNS} SELECT {row}.owner_id, {state}, "
        f"{_sqlite_day('s.changed_at')}, coalesce(s.actor_id, 0), s.to_stage, {sign}count(*) "
        f"FROM stage_changes s JOIN deals d ON d.id = s.deal_id {SQLITE_GRAIN} "
        f"WHERE d.customer_id = {row}.id AND s.from_stage IS NOT NULL GROUP BY 3, 4, 5 "
        f"{MOVE_UPSERT}"
    )


SQLITE_TRIGGERS = {
    "interactions_activity_inserted": (
        f"AFTER INSERT ON interactions BEGIN {_sqlite_note('NEW', '+')}; END"
    ),
    "interactions_activity_deleted": (
        f"AFTER DELETE ON interactions BEGIN {_sqlite_note('OLD', '-')}; END"
    ),
    "interactions_activity_updated": (
        f"AFTER UPDATE OF {NOTE_FIELDS} ON interactions WHEN {_changed(NOTE_FIELDS)} BEGIN "
        f"{_sqlite_note('OLD', '-')}; {_sqlite_note('NEW', '+')}; END"
    ),
    "stage_changes_activity_inserted": (
        f"AFTER INSERT ON stage_changes BEGIN {_sqlite_move('NEW', '+')}; END"
    ),
    "stage_changes_activity_deleted": (
        f"AFTER DELETE ON stage_changes BEGIN {_sqlite_move('OLD', '-')}; END"
    ),
    "stage_changes_activity_updated": (
        f"AFTER UPDATE OF {MOVE_FIELDS} ON stage_changes WHEN {_changed(MOVE_FIELDS)} BEGIN "
        f"{_sqlite_move('OLD', '-')}; {_sqlite_move('NEW', '+')}; END"
    ),
    "deals_activity_updated": (
        "AFTER UPDATE OF customer_id ON deals WHEN OLD.customer_id IS NOT NEW.customer_id "
        f"BEGIN {_sqlite_deal_moves('OLD', '-')}; {_sqlite_deal_moves('NEW', '+')}; END"
    ),
    "customers_activity_updated": (
        f"AFTER UPDATE OF owner_id, archived_at, merged_into ON customers "
        f"WHEN {r30._CUSTOMER_MOVED} BEGIN {_sqlite_customer('OLD', '-')}; "
        f"{_sqlite_customer('NEW', '+')}; END"
    ),
    # Before the customer goes: its notes and history, deleted after it, no longer find it.
    "customers_activity_deleted": (
        f"BEFORE DELETE ON customers BEGIN {_sqlite_customer('OLD', '-')}; END"
    ),
}

SQLITE_BACKFILL = [
    f"INSERT INTO {NOTE_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
    f"{_sqlite_day('i.occurred_at')}, i.author_id, i.kind, count(*) FROM interactions i "
    f"JOIN customers c ON c.id = i.customer_id {SQLITE_GRAIN} WHERE i.deleted_at IS NULL "
    "GROUP BY 1, 2, 3, 4, 5",
    f"INSERT INTO {MOVE_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
    f"{_sqlite_day('s.changed_at')}, coalesce(s.actor_id, 0), s.to_stage, count(*) "
    "FROM stage_changes s JOIN deals d ON d.id = s.deal_id "
    f"JOIN customers c ON c.id = d.customer_id {SQLITE_GRAIN} WHERE s.from_stage IS NOT NULL "
    "GROUP BY 1, 2, 3, 4, 5",
]


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_day(column: str) -> str:
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYYMMDD')::int"


def _pg_key(day: str) -> str:
    """The row's key for grain g: its UTC day (yyyymmdd), or its month (yyyymm)."""
    return f"(CASE WHEN g.m = 1 THEN {day} / 100 ELSE {day} END)"


PG_GRAIN = "CROSS JOIN (VALUES (0), (1)) AS g(m)"


PG_BACKFILL = [
    f"INSERT INTO {NOTE_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
    f"{_pg_key(_pg_day('i.occurred_at'))}, i.author_id, i.kind, count(*) FROM interactions i "
    f"JOIN customers c ON c.id = i.customer_id {PG_GRAIN} WHERE i.deleted_at IS NULL "
    "GROUP BY 1, 2, 3, 4, 5",
    f"INSERT INTO {MOVE_COLUMNS} SELECT c.owner_id, {STATE.format(c='c')}, "
    f"{_pg_key(_pg_day('s.changed_at'))}, coalesce(s.actor_id, 0), s.to_stage, count(*) "
    "FROM stage_changes s JOIN deals d ON d.id = s.deal_id "
    f"JOIN customers c ON c.id = d.customer_id {PG_GRAIN} WHERE s.from_stage IS NOT NULL "
    "GROUP BY 1, 2, 3, 4, 5",
]

# Every function locks what the rows' keys are read from before reading them: the customer
# FOR SHARE (a concurrent owner or state change, which moves the customer's rows, waits for
# this transaction, or this one for it), and for a move the deal FOR NO KEY UPDATE first (a
# concurrent change of the deal's customer likewise). Rows are written netted and in key order,
# so two transactions writing in opposite directions wait instead of deadlocking.
PG_FUNCTIONS = [
    f"""
CREATE FUNCTION interactions_activity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a interactions;
    b interactions;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        a := OLD;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        b := NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND ROW(a.{NOTE_FIELDS.replace(", ", ", a.")})
            IS NOT DISTINCT FROM ROW(b.{NOTE_FIELDS.replace(", ", ", b.")}) THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM customers WHERE id IN (a.customer_id, b.customer_id) ORDER BY id FOR SHARE;
    INSERT INTO {NOTE_COLUMNS}
        SELECT c.owner_id, {STATE.format(c="c")}, {_pg_key("x.day")}, x.author_id, x.kind,
            sum(x.n)
        FROM (VALUES
            (-1, a.customer_id, {_pg_day("a.occurred_at")}, a.author_id, a.kind::text,
                a.deleted_at IS NULL),
            (1, b.customer_id, {_pg_day("b.occurred_at")}, b.author_id, b.kind::text,
                b.deleted_at IS NULL)
        ) AS x(n, customer_id, day, author_id, kind, live)
        JOIN customers c ON c.id = x.customer_id {PG_GRAIN}
        WHERE x.live
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(x.n) <> 0
        ORDER BY 1, 2, 3, 4, 5
        {NOTE_UPSERT};
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION stage_changes_activity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF a.from_stage IS NULL AND b.from_stage IS NULL THEN
        RETURN NULL;  -- a deal's opening row: not a move
    END IF;
    -- As 0030's history trigger (which runs first on these columns): the deal, then its
    -- customer.
    PERFORM 1 FROM deals WHERE id IN (a.deal_id, b.deal_id) ORDER BY id FOR NO KEY UPDATE;
    PERFORM 1 FROM customers WHERE id IN (
        SELECT customer_id FROM deals WHERE id IN (a.deal_id, b.deal_id)
    ) ORDER BY id FOR SHARE;
    INSERT INTO {MOVE_COLUMNS}
        SELECT c.owner_id, {STATE.format(c="c")}, {_pg_key("x.day")}, x.actor_id, x.to_stage,
            sum(x.n)
        FROM (VALUES
            (-1, a.deal_id, {_pg_day("a.changed_at")}, coalesce(a.actor_id, 0), a.to_stage,
                a.from_stage IS NOT NULL),
            (1, b.deal_id, {_pg_day("b.changed_at")}, coalesce(b.actor_id, 0), b.to_stage,
                b.from_stage IS NOT NULL)
        ) AS x(n, deal_id, day, actor_id, to_stage, moved)
        JOIN deals d ON d.id = x.deal_id
        JOIN customers c ON c.id = d.customer_id {PG_GRAIN}
        WHERE x.moved
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(x.n) <> 0
        ORDER BY 1, 2, 3, 4, 5
        {MOVE_UPSERT};
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION deals_activity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.customer_id IS NOT DISTINCT FROM NEW.customer_id THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM customers WHERE id IN (OLD.customer_id, NEW.customer_id) ORDER BY id
        FOR SHARE;
    -- The deal's moves taken from its old customer's owner and state, added to the new one's.
    INSERT INTO {MOVE_COLUMNS}
        SELECT c.owner_id, {STATE.format(c="c")}, {_pg_key(_pg_day("s.changed_at"))} AS day,
            coalesce(s.actor_id, 0) AS actor, s.to_stage, sum(x.n)
        FROM stage_changes s
        CROSS JOIN (VALUES (-1, OLD.customer_id), (1, NEW.customer_id)) AS x(n, customer_id)
        JOIN customers c ON c.id = x.customer_id {PG_GRAIN}
        WHERE s.deal_id = NEW.id AND s.from_stage IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(x.n) <> 0
        ORDER BY 1, 2, 3, 4, 5
        {MOVE_UPSERT};
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION customers_activity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
    -- The customer's live notes and moves taken from its old owner and state and added to
    -- its new ones.
    INSERT INTO {NOTE_COLUMNS}
        SELECT x.o, x.st, {_pg_key(_pg_day("i.occurred_at"))} AS day, i.author_id, i.kind,
            x.n * count(*)
        FROM interactions i CROSS JOIN (VALUES
            (-1, OLD.owner_id, {STATE.format(c="OLD")}::smallint),
            (1, o_new, st_new)
        ) AS x(n, o, st) {PG_GRAIN}
        WHERE i.customer_id = OLD.id AND i.deleted_at IS NULL AND x.o IS NOT NULL
        GROUP BY x.n, x.o, x.st, day, i.author_id, i.kind
        ORDER BY x.o, x.st, day, i.author_id, i.kind
        {NOTE_UPSERT};
    INSERT INTO {MOVE_COLUMNS}
        SELECT x.o, x.st, {_pg_key(_pg_day("s.changed_at"))} AS day,
            coalesce(s.actor_id, 0) AS actor,
            s.to_stage, x.n * count(*)
        FROM stage_changes s JOIN deals d ON d.id = s.deal_id CROSS JOIN (VALUES
            (-1, OLD.owner_id, {STATE.format(c="OLD")}::smallint),
            (1, o_new, st_new)
        ) AS x(n, o, st) {PG_GRAIN}
        WHERE d.customer_id = OLD.id AND s.from_stage IS NOT NULL AND x.o IS NOT NULL
        GROUP BY x.n, x.o, x.st, day, actor, s.to_stage
        ORDER BY x.o, x.st, day, actor, s.to_stage
        {MOVE_UPSERT};
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION note_day_totals_rebuilt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM note_day_totals;
    {PG_BACKFILL[0]};
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION move_day_totals_rebuilt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM move_day_totals;
    {PG_BACKFILL[1]};
    RETURN NULL;
END $$""",
]

PG_TRIGGERS = {
    "interactions_activity_changed": (
        "interactions",
        f"AFTER INSERT OR DELETE OR UPDATE OF {NOTE_FIELDS} ON interactions FOR EACH ROW "
        "EXECUTE FUNCTION interactions_activity_changed()",
    ),
    # Named after 0030's stage_changes_reports_changed, so it fires after it.
    "stage_changes_reports_moved": (
        "stage_changes",
        f"AFTER INSERT OR DELETE OR UPDATE OF {MOVE_FIELDS} ON stage_changes FOR EACH ROW "
        "EXECUTE FUNCTION stage_changes_activity_changed()",
    ),
    "deals_reports_moved": (
        "deals",
        "AFTER UPDATE OF customer_id ON deals FOR EACH ROW "
        "EXECUTE FUNCTION deals_activity_changed()",
    ),
    "customers_reports_moved": (
        "customers",
        "AFTER UPDATE OF owner_id, archived_at, merged_into ON customers FOR EACH ROW "
        "EXECUTE FUNCTION customers_activity_changed()",
    ),
    "customers_reports_moved_deleted": (
        "customers",
        "BEFORE DELETE ON customers FOR EACH ROW EXECUTE FUNCTION customers_activity_changed()",
    ),
    # A truncated table: the rows from what is left (deals' truncation takes the history's).
    "interactions_activity_truncated": (
        "interactions",
        "AFTER TRUNCATE ON interactions FOR EACH STATEMENT "
        "EXECUTE FUNCTION note_day_totals_rebuilt()",
    ),
    "stage_changes_activity_truncated": (
        "stage_changes",
        "AFTER TRUNCATE ON stage_changes FOR EACH STATEMENT "
        "EXECUTE FUNCTION move_day_totals_rebuilt()",
    ),
}


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "note_day_totals",
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("author_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("notes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "state", "day", "author_id", "kind"),
    )
    op.create_table(
        "move_day_totals",
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("to_stage", sa.String(50), nullable=False),
        sa.Column("moves", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "state", "day", "actor_id", "to_stage"),
    )
    # The admin's activity reads every owner's rows of the period's days.
    op.create_index("ix_note_day_totals_day", "note_day_totals", ["day"])
    op.create_index("ix_move_day_totals_day", "move_day_totals", ["day"])
    # The hours of a cut day are read move by move.
    op.create_index("ix_stage_changes_changed_at", "stage_changes", ["changed_at"])
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        for statement in SQLITE_BACKFILL:
            op.execute(statement)
        return
    for statement in PG_FUNCTIONS:
        op.execute(statement)
    for name, (_, body) in PG_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    for statement in PG_BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for name, (table, _) in PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for function in (
            "move_day_totals_rebuilt()",
            "note_day_totals_rebuilt()",
            "customers_activity_changed()",
            "deals_activity_changed()",
            "stage_changes_activity_changed()",
            "interactions_activity_changed()",
        ):
            op.execute(f"DROP FUNCTION {function}")
    op.drop_index("ix_stage_changes_changed_at", "stage_changes")
    op.drop_index("ix_move_day_totals_day", "move_day_totals")
    op.drop_index("ix_note_day_totals_day", "note_day_totals")
    op.drop_table("move_day_totals")
    op.drop_table("note_day_totals")
