"""Migrations, the schema check, and the UTC datetime column."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Engine,
    Enum,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import (
    code_head,
    current_revision,
    downgrade,
    ensure_current,
    head_revision,
    make_engine,
    stored_revision,
    transaction,
    unit_of_work,
    upgrade,
)
from crm_core.errors import SchemaOutOfDate
from crm_core.models import Base, ProcessedDelivery, Team
from crm_core.services.deliveries import claim_delivery
from tests.conftest import PG_URL, engine_at

MIGR_BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=MIGR_BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a new SQLite file, or a new schema of the PostgreSQL test database."""
    with engine_at(request.param, tmp_path, None, "migr") as engine:
        if request.param == "postgresql":
            # The schema of its own is the one the engine's connections use.
            with engine.connect() as conn:
                assert (
                    conn.execute(text("SELECT current_schema()"))
                    .scalar()
                    .startswith("crmbot_migr_test_")
                )
        yield engine


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_ensure_current_refuses_an_empty_database(empty_engine: Engine) -> None:
    """An empty database is refused with the command that fixes it."""
    with pytest.raises(SchemaOutOfDate) as info:
        ensure_current(empty_engine)
    assert info.value.current is None
    assert info.value.head == head_revision()
    assert "crmbot db upgrade" in str(info.value)
    assert _tables(empty_engine) == set()


def test_upgrade_then_ensure_current_passes(empty_engine: Engine) -> None:
    """After `upgrade` the schema is at head, every model table exists and nothing drifts."""
    upgrade(empty_engine)
    ensure_current(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    assert set(Base.metadata.tables) <= _tables(empty_engine)
    with empty_engine.connect() as conn, warnings.catch_warnings():
        # Migrations 0035's and 0037's ordered cycle indexes are expressions each database
        # writes its own way; the model leaves them out and SQLite's reflection skips them
        # with a warning.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection.*ix_deals_cycle")
        context = MigrationContext.configure(conn, opts={"include_object": _not_cycle_index})
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == [], "the models and the migrations disagree: write a migration"


CYCLE_INDEXES = ("ix_deals_cycle", "ix_deals_cycle_owner")


def _not_cycle_index(obj: object, name: str | None, kind: str, *_: object) -> bool:
    return not (kind == "index" and name in CYCLE_INDEXES)


def test_downgrade_to_base_and_upgrade_again(empty_engine: Engine) -> None:
    """The migrations run down to nothing and back up again."""
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    assert current_revision(empty_engine) is None
    assert not set(Base.metadata.tables) & _tables(empty_engine)
    with pytest.raises(SchemaOutOfDate):
        ensure_current(empty_engine)
    upgrade(empty_engine)
    ensure_current(empty_engine)
    assert set(Base.metadata.tables) <= _tables(empty_engine)


def test_ensure_current_refuses_an_unknown_revision(empty_engine: Engine) -> None:
    """A database ahead of the code (a revision it does not know) is refused too."""
    upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    with pytest.raises(SchemaOutOfDate) as info:
        ensure_current(empty_engine)
    assert info.value.current == "ffff_from_the_future"


def test_code_head_is_alembics_head() -> None:
    """The head read from the scripts' text is the one Alembic computes from them."""
    assert code_head() == head_revision()


def test_stored_revision_reads_what_alembic_reads(empty_engine: Engine) -> None:
    """The one-query revision check agrees with Alembic: empty, at head, one step behind."""
    assert stored_revision(empty_engine) is None
    upgrade(empty_engine)
    assert stored_revision(empty_engine) == current_revision(empty_engine) == code_head()
    ensure_current(empty_engine)
    downgrade(empty_engine, "-1")
    behind = current_revision(empty_engine)
    assert behind is not None and behind != code_head()
    assert stored_revision(empty_engine) == behind
    with pytest.raises(SchemaOutOfDate) as info:
        ensure_current(empty_engine)
    assert (info.value.current, info.value.head) == (behind, code_head())


def _team_created_at(factory: sessionmaker[Session], moment: datetime) -> datetime:
    with unit_of_work(factory) as session:
        team = Team(external_id=f"t-{secrets.token_hex(4)}", name=secrets.token_hex(4))
        team.created_at = moment
        session.add(team)
        session.flush()
        team_id = team.id
    with factory() as session:
        stored = session.scalar(select(Team.created_at).where(Team.id == team_id))
    assert stored is not None
    return stored


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 23, 15, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 3, 8, 1, 59, tzinfo=ZoneInfo("America/New_York")),
        datetime(2026, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2026, 6, 30, 23, 0, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    ],
    ids=["utc-micro", "new-york", "shanghai", "odd-offset"],
)
def test_utc_datetime_round_trips(session_factory: sessionmaker[Session], moment: datetime) -> None:
    """An aware datetime comes back as the same instant, in UTC."""
    stored = _team_created_at(session_factory, moment)
    assert stored == moment
    assert stored.utcoffset() == timedelta(0)
    assert stored.tzinfo is not None
    assert stored.replace(tzinfo=None) == moment.astimezone(UTC).replace(tzinfo=None)


def test_utc_datetime_orders_by_instant(session_factory: sessionmaker[Session]) -> None:
    """Times written in different zones sort by the real instant (stored as UTC)."""
    early = datetime(2026, 5, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 00:00 UTC
    late = datetime(2026, 4, 30, 21, 0, tzinfo=ZoneInfo("America/New_York"))  # 01:00 UTC
    _team_created_at(session_factory, late)
    _team_created_at(session_factory, early)
    with session_factory() as session:
        ordered = list(session.scalars(select(Team.created_at).order_by(Team.created_at)))
        after = session.scalars(
            select(Team.created_at).where(Team.created_at > datetime(2026, 5, 1, 0, 30, tzinfo=UTC))
        ).all()
    assert ordered == [early, late]
    assert after == [late]


def test_utc_datetime_refuses_naive(session_factory: sessionmaker[Session]) -> None:
    """A naive datetime is an error, not a guess, and nothing is written."""
    with (
        pytest.raises(StatementError, match="naive datetime"),
        unit_of_work(session_factory) as session,
    ):
        session.add(Team(external_id="naive", name="Naive", created_at=datetime(2026, 1, 1)))
        session.flush()
    with session_factory() as session:
        assert session.scalars(select(Team)).all() == []


def test_database_errors_do_not_carry_note_text(tmp_path: Path) -> None:
    """A failing statement's message omits its parameters, which may be customer data."""
    from sqlalchemy import text as sql
    from sqlalchemy.exc import IntegrityError

    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    upgrade(engine)
    with pytest.raises(IntegrityError) as err, engine.begin() as conn:
        conn.execute(
            sql("INSERT INTO teams (external_id, name, created_at) VALUES (:e, :n, NULL)"),
            {"e": "t1", "n": "secret customer words"},
        )
    assert "secret customer words" not in str(err.value)


def _one_row_in_every_table(engine: Engine) -> dict[str, int]:
    """Insert one row into every table as the schema stands, each referencing the others' rows."""
    meta = MetaData()
    meta.reflect(engine)
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            row: dict[str, object] = {}
            for col in table.columns:
                fks = list(col.foreign_keys)
                if fks:
                    if fks[0].column.table.name in ids:
                        row[col.name] = ids[fks[0].column.table.name]
                    continue
                if col.primary_key or col.nullable or col.server_default is not None:
                    continue
                row[col.name] = _sample(col.type)
            result = conn.execute(table.insert().values(**row))
            if result.inserted_primary_key and result.inserted_primary_key[0] is not None:
                ids[table.name] = int(result.inserted_primary_key[0])
    return {t: 1 for t in ids}


def _sample(kind: object) -> object:
    if isinstance(kind, Enum) and kind.enums:
        return kind.enums[0]
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    if isinstance(kind, Date):
        return datetime(2026, 1, 5).date()
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Numeric):
        return 1
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, LargeBinary):
        return b"x"
    return "x"


def test_a_database_with_rows_in_every_table_upgrades_from_0008(empty_engine: Engine) -> None:
    """Users upgrade databases full of rows: a migration that rebuilds a table others refer to
    must keep every row and reference (an empty database hides that)."""
    upgrade(empty_engine, "0008")
    filled = _one_row_in_every_table(empty_engine)
    assert {"customers", "deals", "interactions", "contacts"} <= set(filled)
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    with empty_engine.connect() as conn:
        for table in filled:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1, table
        if empty_engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_claim_is_undone_when_a_transaction_inside_its_own_rolls_back(
    session_factory: sessionmaker[Session],
) -> None:
    """A claim filed in an outer transaction() goes when an inner one raises through both."""
    session = session_factory()
    try:
        with pytest.raises(RuntimeError), transaction(session):
            assert claim_delivery(session, "slack", "Ev-nested")
            with transaction(session):
                raise RuntimeError("the work failed")
    finally:
        session.close()
    with session_factory() as check:
        assert check.scalar(select(func.count()).select_from(ProcessedDelivery)) == 0


@pytest.mark.skipif(not PG_URL, reason="the pool is PostgreSQL's (CRMBOT_TEST_DATABASE_URL)")
def test_a_postgres_engine_keeps_the_connections_it_was_told_to() -> None:
    """Eight connections used at once and given back are all kept with a pool of 12 (the
    default), so the next eight uses open none; a pool of 2 (and 10 more at a busy moment)
    keeps two of six."""
    assert PG_URL
    for size, used, kept in ((None, 8, 8), (2, 6, 2)):
        engine = make_engine(PG_URL) if size is None else make_engine(PG_URL, pool_size=size)
        try:
            opened: list[object] = []

            def count(*_: object, into: list[object] = opened) -> None:
                into.append(1)

            event.listen(engine, "connect", count)
            held = [engine.connect() for _ in range(used)]
            for conn in held:
                conn.close()
            assert engine.pool.checkedin() == kept  # type: ignore[attr-defined]
            opened.clear()
            for conn in [engine.connect() for _ in range(used)]:
                conn.close()
            assert len(opened) == used - kept
        finally:
            engine.dispose()
