"""Migration 0037 (days kept in 0033's closing rows, `report cycle by rep`) round trip: an
upgraded book's rows hold their deals' days and its report by rep equals the deal-by-deal one;
a downgrade gives back 0033's triggers (which keep counts and cents without days) and drops the
column and the index; upgrading again backfills the days of what was written in between."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text, update

from crm_core.analytics.cycle import cycle, cycle_from_deals
from crm_core.analytics.periods import ALL_TIME, Period
from crm_core.analytics.scope import Dim
from crm_core.context import Ctx
from crm_core.db import downgrade, make_session_factory, unit_of_work, upgrade
from crm_core.models import Customer, Deal, User
from crm_core.services.users import add_user
from crm_core.stages import DEFAULT_STAGES, Pipeline, Stage
from crm_core.text import name_key
from tests.conftest import PG_URL, engine_at

m33 = importlib.import_module("crm_core.migrations.versions.0033_close_totals")
m37 = importlib.import_module("crm_core.migrations.versions.0037_cycle_by_rep")
BEFORE = "0036_name_index_tags"
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
# A pipeline with two lost stages: a side's median is taken over both.
TWO_LOST = (*DEFAULT_STAGES, Stage("dropped", 99, Decimal(0), lost=True))


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at migration 0036: a new SQLite file, or a new schema of the PostgreSQL one."""
    with engine_at(request.param, tmp_path, BEFORE, "m37") as engine:
        yield engine


def _book(engine: Engine) -> dict[str, int]:
    """alice and carol (reps, East), bob (East's manager), admin; six customers, 30 deals:
    won, lost and dropped (lost in the second pipeline) over three months, a few open, one
    closed before it opened, one with no closing time; alice's customers' deals partly owned by
    carol."""
    ids: dict[str, int] = {}
    with unit_of_work(make_session_factory(engine)) as s:
        for handle, role, team in (
            ("alice", "rep", "East"),
            ("carol", "rep", "East"),
            ("bob", "manager", "East"),
            ("admin", "admin", None),
        ):
            ids[handle] = add_user(s, handle, handle.title(), role=role, team=team).id
            s.flush()
        customers = []
        for n in range(6):
            owner = ids["alice" if n % 2 else "carol"]
            c = Customer(name=f"Client {n}", name_key=name_key(f"Client {n}"), owner_id=owner)
            s.add(c)
            s.flush()
            customers.append(c)
        for n in range(30):
            stage = ["won", "lost", "won", "proposal", "lost", "dropped"][n % 6]
            opened = T0 - timedelta(days=3 * n + 1, hours=n)
            closing = stage in ("won", "lost", "dropped")
            closed = T0 + timedelta(days=2 * n, hours=5 * n) if closing else None
            if n == 7:
                closed = opened - timedelta(days=2)  # closed before it opened: 0 days
            if n == 12:
                closed = None  # closed with no closing time
            s.add(
                Deal(
                    customer_id=customers[n % 6].id,
                    title=f"Deal {n}",
                    title_key=f"deal {n}",
                    amount=Decimal(1000 + 37 * n),
                    currency="EUR" if n % 7 == 3 else "USD",
                    stage=stage,
                    owner_id=ids["carol" if n % 3 == 0 else "alice"],
                    created_at=opened,
                    closed_at=closed,
                )
            )
    return ids


def _kept(engine: Engine, days: bool) -> dict[tuple[object, ...], tuple[int, int, float]]:
    rows = {}
    column = ", days" if days else ", 0"
    with engine.connect() as conn:
        for r in conn.execute(
            text(
                "SELECT owner_id, state, month, deal_owner_id, currency, stage, deals, cents"
                f"{column} FROM deal_close_totals"
            )
        ):
            if r[6] or r[7] or r[8]:
                rows[tuple(r[:6])] = (int(r[6]), int(r[7]), float(r[8]))
    return rows


def _backfilled(engine: Engine, days: bool) -> dict[tuple[object, ...], tuple[int, int, float]]:
    """What the rows must hold: the backfill's SELECT over the deals as they are."""
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        cents, month = m33.r30._sqlite_cents("{a}"), m33.r30._sqlite_month("{d}")
        sql = m33.backfill(cents, month, m37._sqlite_days if days else None)
    else:
        sql = m33.backfill(m33.PG_CENTS, m33.PG_MONTH, m37._pg_days if days else None)
    with engine.connect() as conn:
        rows = conn.execute(text(sql[sql.index("SELECT") :])).all()
    return {
        tuple(r[:6]): (int(r[6]), int(r[7]), float(r[8]) if days else 0.0)
        for r in rows
        if r[6] or r[7]
    }


def _assert_rows(engine: Engine, days: bool) -> None:
    got, want = _kept(engine, days), _backfilled(engine, days)
    assert set(got) == set(want)
    for key, (n, cents, d) in want.items():
        assert got[key][:2] == (n, cents), key
        assert abs(got[key][2] - d) < 1e-6, key


def _assert_reports(engine: Engine, ids: dict[str, int]) -> int:
    """Everyone's cycle by rep, all time and in two periods, equals the deal-by-deal one (in
    Kolkata with a second lost stage)."""
    compared = 0
    with make_session_factory(engine)() as s:
        for handle in ("alice", "carol", "bob", "admin"):
            actor = s.get(User, ids[handle])
            assert actor is not None
            for zone in ("UTC", "Asia/Kolkata"):
                actor.timezone = zone
                pipeline = Pipeline(DEFAULT_STAGES if zone == "UTC" else TWO_LOST)
                ctx = Ctx(s, actor, pipeline, clock=lambda: T0)
                for period in (
                    ALL_TIME,
                    Period(T0.date(), (T0 + timedelta(days=40)).date(), "cut"),
                    Period(datetime(2026, 3, 1).date(), datetime(2026, 5, 1).date(), "months"),
                ):
                    got = cycle(ctx, dim=Dim.rep, period=period)
                    want = cycle_from_deals(ctx, dim=Dim.rep, period=period)
                    assert (handle, zone, period, got) == (handle, zone, period, want)
                    compared += len(got.rows)
            s.rollback()
    return compared


def _write(engine: Engine, ids: dict[str, int], n: int) -> None:
    """Deals won, reopened, re-dated and handed over (written by the triggers in place)."""
    with unit_of_work(make_session_factory(engine)) as s:
        deal_ids = sorted(s.scalars(text("SELECT id FROM deals")).all())
        s.execute(
            update(Deal)
            .where(Deal.id.in_(deal_ids[n::4]))
            .values(stage="won", closed_at=T0 + timedelta(days=n + 3, hours=7))
        )
        s.execute(
            update(Deal)
            .where(Deal.id.in_(deal_ids[n + 1 :: 6]))
            .values(created_at=T0 - timedelta(days=50 + n))
        )
        s.execute(
            update(Deal).where(Deal.id.in_(deal_ids[n + 2 :: 5])).values(owner_id=ids["carol"])
        )
        s.execute(
            update(Deal)
            .where(Deal.id.in_(deal_ids[n + 3 :: 9]))
            .values(stage="proposal", closed_at=None)
        )


def test_0037_round_trip(old_engine: Engine) -> None:
    """Up (days backfilled), down (0033's triggers back, no days), writes, up again."""
    ids = _book(old_engine)
    _write(old_engine, ids, 0)
    _assert_rows(old_engine, days=False)
    upgrade(old_engine)
    _assert_rows(old_engine, days=True)
    assert _assert_reports(old_engine, ids) > 6
    _write(old_engine, ids, 1)
    _assert_rows(old_engine, days=True)
    assert _assert_reports(old_engine, ids) > 6

    downgrade(old_engine, BEFORE)
    columns = {c["name"] for c in inspect(old_engine).get_columns("deal_close_totals")}
    assert "days" not in columns
    with old_engine.connect() as conn:
        if old_engine.dialect.name == "sqlite":
            found = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE name LIKE '%close%'")
            ).all()
            triggers = {name: sql for name, sql in found if sql and "TRIGGER" in sql}
            assert {k: " ".join(v.split()) for k, v in triggers.items()} == {
                k: " ".join(f"CREATE TRIGGER {k} {v}".split())
                for k, v in m33.SQLITE_TRIGGERS.items()
            }
            indexes = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'index'")
            ).scalars()
        else:
            source = conn.execute(
                text(
                    "SELECT prosrc FROM pg_proc WHERE proname = 'deals_reports_closed' "
                    "AND pronamespace = current_schema()::regnamespace"
                )
            ).scalar_one()
            assert "days" not in source and source.strip() in m33.PG_FUNCTIONS[0]
            indexes = conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
            ).scalars()
        assert "ix_deals_cycle_owner" not in set(indexes)
    _write(old_engine, ids, 2)
    _assert_rows(old_engine, days=False)

    upgrade(old_engine)
    _assert_rows(old_engine, days=True)
    assert _assert_reports(old_engine, ids) > 6
