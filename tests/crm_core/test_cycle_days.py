"""Migration 0039 (deals per whole day from opening to close; a team's cycle medians walked from
their day, `by month` from kept months): on random books full of ties, whole-day edges, closes a
microsecond before a day ends, closes before the opening, closed deals with no closing time and
two lost stages, every person's `report cycle` (total, by rep, by month) equals the deal-by-deal
one in several zones and periods, on SQLite and PostgreSQL, through reassignments, stage moves,
re-dated deals, archives, restores, merges and deletes; and the migration goes up (backfilled),
down (table and triggers gone) and up again with the rows equal to their deals'."""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, inspect, select, text, update

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

m39 = importlib.import_module("crm_core.migrations.versions.0039_cycle_days")
BEFORE = "0038_people_time_indexes"
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
TWO_LOST = (*DEFAULT_STAGES, Stage("dropped", 99, Decimal(0), lost=True))
MICRO = timedelta(microseconds=1)
# Days from opening to close: whole days, a microsecond either side of them, halves, closes
# before the opening (whole and not), and many repeats (ties across the middle).
SPANS = [
    timedelta(days=1),
    timedelta(days=1) - MICRO,
    timedelta(days=1) + MICRO,
    timedelta(days=2),
    timedelta(days=2) - MICRO,
    timedelta(hours=36),
    timedelta(days=3, hours=12),
    timedelta(0),
    timedelta(microseconds=1),
    -timedelta(days=1),
    -timedelta(hours=5),
    -timedelta(days=2, hours=3),
    timedelta(days=40),
    timedelta(days=40),
    timedelta(days=40),
    timedelta(days=7),
    timedelta(days=7),
]
# Around zero: most middles on day -1 or 0 (a close before the opening, or within a day).
NEAR_ZERO = [
    -timedelta(hours=5),
    -MICRO,
    timedelta(0),
    MICRO,
    -timedelta(days=1),
    -timedelta(days=1) - MICRO,
    timedelta(days=1) - MICRO,
    timedelta(hours=3),
]
PEOPLE = ("alice", "carol", "bob", "dave", "erin", "admin")


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at migration 0038: a new SQLite file, or a new schema of the PostgreSQL one."""
    with engine_at(request.param, tmp_path, BEFORE, "m39") as engine:
        yield engine


def _book(engine: Engine, rnd: random.Random, spans: list[timedelta]) -> dict[str, int]:
    """East (alice, carol; bob manages), West (dave; erin manages), an admin; ten customers and
    sixty deals of random spans, closed over three months (some at UTC and Kolkata
    midnights), in USD mostly, some open, some closed with no closing time, some dropped."""
    ids: dict[str, int] = {}
    with unit_of_work(make_session_factory(engine)) as s:
        for handle, role, team in (
            ("alice", "rep", "East"),
            ("carol", "rep", "East"),
            ("bob", "manager", "East"),
            ("dave", "rep", "West"),
            ("erin", "manager", "West"),
            ("admin", "admin", None),
        ):
            ids[handle] = add_user(s, handle, handle.title(), role=role, team=team).id
            s.flush()
        customers = []
        for n in range(10):
            owner = ids[("alice", "carol", "dave")[n % 3]]
            c = Customer(name=f"Client {n}", name_key=name_key(f"Client {n}"), owner_id=owner)
            s.add(c)
            s.flush()
            customers.append(c)
        for n in range(60):
            stage = rnd.choice(["won", "won", "lost", "lost", "dropped", "proposal"])
            closed = T0 + timedelta(days=rnd.randrange(0, 80), hours=rnd.randrange(24))
            if n % 11 == 0:
                closed = T0.replace(day=1) + timedelta(days=31 * (n % 3))  # a UTC month's start
            if n % 13 == 0:
                closed = T0.replace(day=1, hour=18, minute=30) - timedelta(days=1)  # Kolkata's
            opened = closed - rnd.choice(spans)
            if stage == "proposal":
                closed = None
            elif n % 17 == 0:
                closed = None  # closed with no closing time: 0 days
            s.add(
                Deal(
                    customer_id=rnd.choice(customers).id,
                    title=f"Deal {n}",
                    title_key=f"deal {n}",
                    amount=Decimal(100 + n),
                    currency="EUR" if n % 9 == 4 else "USD",
                    stage=stage,
                    owner_id=ids[rnd.choice(["alice", "carol", "dave"])],
                    created_at=opened,
                    closed_at=closed,
                )
            )
    return ids


def _rows(engine: Engine) -> dict[tuple[object, ...], tuple[int, float]]:
    """The kept rows (zero rows aside)."""
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT owner_id, state, month, currency, stage, day, deals, days "
                "FROM cycle_day_totals"
            )
        ).all()
    return {tuple(r[:6]): (int(r[6]), float(r[7])) for r in found if r[6] or abs(r[7]) > 1e-9}


def _assert_rows(engine: Engine) -> None:
    """Every kept row equals the backfill's count and days over the deals as they are."""
    sql = m39.SQLITE_BACKFILL if engine.dialect.name == "sqlite" else m39.PG_BACKFILL
    with engine.connect() as conn:
        found = conn.execute(text(sql[sql.index("SELECT") :])).all()
    want = {tuple(r[:6]): (int(r[6]), float(r[7])) for r in found}
    got = _rows(engine)
    assert set(got) == set(want)
    for key, (n, days) in want.items():
        assert got[key][0] == n, key
        assert abs(got[key][1] - days) < 1e-6, key


def _assert_reports(engine: Engine, ids: dict[str, int]) -> int:
    """Everyone's cycle (total, by rep, by month), in two zones (a second lost stage in one),
    all time and over cut and whole-month periods, equals the deal-by-deal one."""
    compared = 0
    with make_session_factory(engine)() as s:
        for handle in PEOPLE:
            actor = s.get(User, ids[handle])
            assert actor is not None
            for zone in ("UTC", "Pacific/Chatham"):
                actor.timezone = zone
                pipeline = Pipeline(DEFAULT_STAGES if zone == "UTC" else TWO_LOST)
                ctx = Ctx(s, actor, pipeline, clock=lambda: T0)
                for period in (
                    ALL_TIME,
                    Period(T0.date(), (T0 + timedelta(days=40)).date(), "cut"),
                    Period(datetime(2026, 3, 1).date(), datetime(2026, 5, 1).date(), "months"),
                    Period(None, (T0 + timedelta(days=20)).date(), "until"),
                ):
                    for dim in (None, Dim.rep, Dim.month):
                        got = cycle(ctx, dim=dim, period=period)
                        want = cycle_from_deals(ctx, dim=dim, period=period)
                        assert (handle, zone, period, dim, got) == (handle, zone, period, dim, want)
                        compared += got.total.won + got.total.lost
            s.rollback()
    return compared


def _write(engine: Engine, ids: dict[str, int], rnd: random.Random) -> None:
    """Moves, re-dated deals, a deal handed to another team's customer, a customer reassigned
    across teams, one archived and one restored, one merged, deals and a customer deleted."""
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        deals = sorted(s.scalars(select(Deal.id)).all())
        customers = sorted(s.scalars(select(Customer.id)).all())
        for did in rnd.sample(deals, 8):
            at = T0 + timedelta(days=rnd.randrange(60), hours=rnd.randrange(24))
            s.execute(update(Deal).where(Deal.id == did).values(stage="won", closed_at=at))
        for did in rnd.sample(deals, 5):
            opened = T0 - rnd.choice(SPANS) - timedelta(days=rnd.randrange(3))
            s.execute(update(Deal).where(Deal.id == did).values(created_at=opened))
        for did in rnd.sample(deals, 3):
            s.execute(update(Deal).where(Deal.id == did).values(stage="lost"))
        s.execute(update(Deal).where(Deal.id == deals[0]).values(stage="proposal", closed_at=None))
        s.execute(update(Deal).where(Deal.id == deals[1]).values(customer_id=customers[2]))
        s.execute(update(Deal).where(Deal.id == deals[2]).values(currency="EUR"))
        s.execute(update(Customer).where(Customer.id == customers[0]).values(owner_id=ids["dave"]))
        s.execute(update(Customer).where(Customer.id == customers[1]).values(archived_at=T0))
    with unit_of_work(factory) as s:
        s.execute(update(Customer).where(Customer.id == customers[1]).values(archived_at=None))
        s.execute(update(Customer).where(Customer.id == customers[4]).values(archived_at=T0))
        s.execute(
            update(Customer).where(Customer.id == customers[5]).values(merged_into=customers[6])
        )
        s.execute(delete(Deal).where(Deal.id.in_(deals[-3:])))
        s.execute(delete(Deal).where(Deal.customer_id == customers[9]))
        s.execute(delete(Customer).where(Customer.id == customers[9]))


@pytest.mark.parametrize("seed, spans", [(1, SPANS), (2, NEAR_ZERO)], ids=["spread", "near0"])
def test_0039_round_trip_on_random_books(
    old_engine: Engine, seed: int, spans: list[timedelta]
) -> None:
    """Up (backfilled), writes, down (gone), writes, up again: rows and reports exact."""
    rnd = random.Random(seed)
    ids = _book(old_engine, rnd, spans)
    upgrade(old_engine)
    _assert_rows(old_engine)
    assert _assert_reports(old_engine, ids) > 100
    _write(old_engine, ids, rnd)
    _assert_rows(old_engine)
    assert _assert_reports(old_engine, ids) > 100

    downgrade(old_engine, BEFORE)
    assert "cycle_day_totals" not in inspect(old_engine).get_table_names()
    with old_engine.connect() as conn:
        if old_engine.dialect.name == "sqlite":
            left = conn.execute(
                text("SELECT name FROM sqlite_master WHERE name LIKE '%cycle_days%'")
            ).all()
        else:
            left = conn.execute(
                text(
                    "SELECT proname FROM pg_proc WHERE proname LIKE '%cycle_day%' "
                    "AND pronamespace = current_schema()::regnamespace"
                )
            ).all()
        assert left == []
    # A write while 0039 is down: every deal re-dated (the upgrade must count them anew).
    with unit_of_work(make_session_factory(old_engine)) as s:
        for did, opened in s.execute(select(Deal.id, Deal.created_at)).all():
            s.execute(
                update(Deal).where(Deal.id == did).values(created_at=opened - timedelta(hours=7))
            )

    upgrade(old_engine)
    _assert_rows(old_engine)
    assert _assert_reports(old_engine, ids) > 100
