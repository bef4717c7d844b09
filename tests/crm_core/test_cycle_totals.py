"""`report cycle` from the sums the triggers keep and the ordered cycle indexes (migrations 0035,
0037; by rep too; a team's medians walked from their whole day, 0039) equals the deal-by-deal
computation (`cycle_from_deals`, the one it replaced), for every person, in several time zones
and periods, grouped or not, after random writes (closes, reopens, moves, reassigns, merges,
archives, deletes, days passing) and bulk UPDATEs and DELETEs no service wrote, on SQLite and
PostgreSQL; and every kept row equals its deals' and history's sums."""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update

from crm_core.analytics.cycle import cycle, cycle_from_deals
from crm_core.analytics.periods import ALL_TIME, Period, add_months, month_start
from crm_core.analytics.scope import Dim
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.models import (
    Customer,
    CycleDayTotal,
    CycleTotal,
    Deal,
    DealCloseTotal,
    StageChange,
    User,
)
from crm_core.stages import DEFAULT_STAGES, Pipeline
from tests.conftest import FakeClock, TestBot
from tests.random_writes import PEOPLE, RandomWrites, ids

m33 = importlib.import_module("crm_core.migrations.versions.0033_close_totals")
m35 = importlib.import_module("crm_core.migrations.versions.0035_cycle_totals")
m37 = importlib.import_module("crm_core.migrations.versions.0037_cycle_by_rep")
m39 = importlib.import_module("crm_core.migrations.versions.0039_cycle_days")

ZONES = ["UTC", "Asia/Kolkata", "America/Los_Angeles", "Asia/Shanghai", "Pacific/Chatham"]


def periods(today: date) -> list[Period]:
    """All time (the report's default), a day, a month, cut ranges, open ends, whole months."""
    return [
        ALL_TIME,
        Period(today, today + timedelta(days=1), "today"),
        Period(month_start(today), add_months(today, 1), "this month"),
        Period(today - timedelta(days=45), today - timedelta(days=2), "from to"),
        Period(add_months(today, -2), month_start(today), "two whole months"),
        Period(today - timedelta(days=20), None, "since"),
        Period(today - timedelta(days=70), None, "since two months before"),
        Period(None, today - timedelta(days=3), "until"),
        Period(add_months(month_start(today), -3), today + timedelta(days=1), "quarter to date"),
    ]


def kept_from_rows(bot: TestBot) -> dict[tuple[Any, ...], tuple[int, float, int, float]]:
    """What `cycle_totals` must hold: the migration's backfill over the deals as they are."""
    dialect = bot.session_factory.kw["bind"].dialect.name
    sql = m35.SQLITE_BACKFILL if dialect == "sqlite" else m35.PG_BACKFILL
    rows = bot.rows(text(sql[sql.index("SELECT") :]))
    return {tuple(r[:6]): (int(r[6]), float(r[7]), int(r[8]), float(r[9])) for r in rows}


def assert_kept_rows(bot: TestBot) -> None:
    """Every kept row equals its deals' and history rows' sums (zero rows aside)."""
    want = {k: v for k, v in kept_from_rows(bot).items() if any(v)}
    t = CycleTotal
    got = {}
    for row in bot.rows(
        select(
            t.owner_id,
            t.state,
            t.month,
            t.currency,
            t.stage,
            t.step,
            t.n_in,
            t.in_days,
            t.n_out,
            t.out_days,
        )
    ):
        values = (int(row[6]), float(row[7]), int(row[8]), float(row[9]))
        if any(abs(v) > 1e-6 for v in values):
            got[tuple(row[:6])] = values
    assert set(got) == set(want)
    for key, (n_in, in_days, n_out, out_days) in want.items():
        g = got[key]
        assert (g[0], g[2]) == (n_in, n_out), key
        assert abs(g[1] - in_days) < 1e-6 and abs(g[3] - out_days) < 1e-6, key


def assert_cycle_equal(bot: TestBot, clock: FakeClock) -> int:
    """Every person's cycle report, in two zones and every period (and grouped by rep and by
    month all time), equals the deal-by-deal one. Returns how many closed deals were compared."""
    compared = 0
    with bot.session_factory() as session:
        for at, (handle, uid) in enumerate(bot.users.items()):
            actor = session.get(User, uid)
            assert actor is not None
            for zone in (ZONES[at % len(ZONES)], ZONES[(at + 2) % len(ZONES)]):
                actor.timezone = zone
                ctx = Ctx(session, actor, Pipeline(DEFAULT_STAGES), clock=clock)
                today = ctx.now().astimezone(ctx.tz).date()
                for period in periods(today):
                    for currency in (None, "EUR"):
                        got = cycle(ctx, period=period, currency=currency)
                        want = cycle_from_deals(ctx, period=period, currency=currency)
                        assert (handle, zone, period, got) == (handle, zone, period, want)
                        compared += got.total.won + got.total.lost
                        # By rep (0037): each deal owner's counts, means and medians.
                        got = cycle(ctx, dim=Dim.rep, period=period, currency=currency)
                        want = cycle_from_deals(ctx, dim=Dim.rep, period=period, currency=currency)
                        assert (handle, zone, period, got) == (handle, zone, period, want)
                for dim in (Dim.month, Dim.team):
                    got = cycle(ctx, dim=dim)
                    want = cycle_from_deals(ctx, dim=dim)
                    assert (handle, zone, dim, got) == (handle, zone, dim, want)
            session.rollback()
    assert_kept_rows(bot)
    assert_close_days(bot)
    assert_cycle_days(bot)
    return compared


def assert_cycle_days(bot: TestBot) -> None:
    """Every kept day row (0039) holds its deals' count and days, as the migration's backfill
    counts them from the deals as they are (zero rows aside)."""
    sqlite = bot.session_factory.kw["bind"].dialect.name == "sqlite"
    sql = m39.SQLITE_BACKFILL if sqlite else m39.PG_BACKFILL
    rows = bot.rows(text(sql[sql.index("SELECT") :]))
    want = {tuple(r[:6]): (int(r[6]), float(r[7])) for r in rows}
    t = CycleDayTotal
    key = (t.owner_id, t.state, t.month, t.currency, t.stage, t.day)
    got = {
        tuple(r[:6]): (int(r[6]), float(r[7]))
        for r in bot.rows(select(*key, t.deals, t.days))
        if r[6] or abs(r[7]) > 1e-6
    }
    assert set(got) == set(want)
    for k, (n, days) in want.items():
        assert got[k][0] == n, k
        assert abs(got[k][1] - days) < 1e-6, k


def assert_close_days(bot: TestBot) -> None:
    """Every kept closing row (0033) holds its deals' count, cents and days (0037), as the
    migration's backfill computes them from the deals as they are."""
    sqlite = bot.session_factory.kw["bind"].dialect.name == "sqlite"
    if sqlite:
        sql = m33.backfill(
            m33.r30._sqlite_cents("{a}"), m33.r30._sqlite_month("{d}"), m37._sqlite_days
        )
    else:
        sql = m33.backfill(m33.PG_CENTS, m33.PG_MONTH, m37._pg_days)
    rows = bot.rows(text(sql[sql.index("SELECT") :]))
    want = {tuple(r[:6]): (int(r[6]), int(r[7]), float(r[8])) for r in rows}
    t = DealCloseTotal
    key = (t.owner_id, t.state, t.month, t.deal_owner_id, t.currency, t.stage)
    got = {
        tuple(r[:6]): (int(r[6]), int(r[7]), float(r[8]))
        for r in bot.rows(select(*key, t.deals, t.cents, t.days))
        if r[6] or r[7] or abs(r[8]) > 1e-6
    }
    assert set(got) == set(want)
    for k, (n, cents, days) in want.items():
        assert got[k][:2] == (n, cents), k
        assert abs(got[k][2] - days) < 1e-6, k


class CycleWrites(RandomWrites):
    """RandomWrites plus reopening a closed deal and moves by the deal's rep."""

    def reopen(self) -> None:
        closed = ids(self.bot, Deal, stage="won") + ids(self.bot, Deal, stage="lost")
        if closed:
            did = self.rnd.choice(closed)
            to = self.rnd.choice(["proposal", "negotiation"])
            if self.say(f"move #{did} to {to}").status == "ok":
                self.done["reopen"] = self.done.get("reopen", 0) + 1

    def move_as(self) -> None:
        if (did := self.any_deal()) is not None:
            who = self.rnd.choice(PEOPLE)
            if self.bot(who, f"move #{did} to {self.rnd.choice(self.targets)}").status == "ok":
                self.done["move as"] = self.done.get("move as", 0) + 1

    def later_hours(self) -> None:
        assert self.clock is not None
        self.clock.advance(hours=self.rnd.randrange(3, 30))


def test_cycle_follows_every_write_path(testbot: TestBot, clock: FakeClock) -> None:
    """Closes, reopens, moves, edits, reassigns, merges, archives, deletes, hours and days
    passing; compared every 50 writes."""
    w = CycleWrites(testbot, random.Random(35), clock=clock, wins=3)
    w.seed()
    ops: list[Callable[[], None]] = [w.new_deal] * 12 + [w.move] * 10 + [w.move_as] * 4
    ops += [w.reopen, w.edit, w.reassign, w.reassign, w.merge, w.archive, w.unarchive]
    ops += [w.delete_deal, w.new_customer, w.later_hours, w.later_hours, w.later]
    w.run(ops, 240, every=80, check=lambda: assert_cycle_equal(testbot, clock))
    every = {"new", "move", "move as", "reassign", "merge", "archive", "delete", "reopen"}
    assert every <= set(w.done), w.done
    assert assert_cycle_equal(testbot, clock) > 100, "the run left closed deals to compare"


def test_cycle_follows_bulk_updates_and_deletes(testbot: TestBot, clock: FakeClock) -> None:
    """UPDATEs and DELETEs no service wrote: a deal's close time (none, before its opening, at
    a local midnight), opening, stage, currency and customer; a history row's time, stages and
    deal; a customer's owner; deleted history and deals."""
    w = CycleWrites(testbot, random.Random(8), clock=clock, wins=3)
    w.seed()
    for op in [w.new_deal] * 16 + [w.move] * 10 + [w.move_as] * 6 + [w.later_hours] * 3:
        op()
    # At least eight closed deals to bend, closed hours apart.
    for n, did in enumerate(ids(testbot, Deal)[:8]):
        w.later_hours()
        w.say(f"move #{did} to {'won' if n % 3 else 'lost: price'}")  # or it already was
    assert_cycle_equal(testbot, clock)
    deals = ids(testbot, Deal)
    closed = ids(testbot, Deal, stage="won") + ids(testbot, Deal, stage="lost")
    assert len(closed) >= 8
    changes = ids(testbot, StageChange)
    customers = w.live_customers()
    now = clock.now
    with unit_of_work(testbot.session_factory) as session:
        # Closed with no closing time: 0 days, all time only.
        session.execute(update(Deal).where(Deal.id == closed[0]).values(closed_at=None))
        # Closed before it opened: 0 days.
        session.execute(
            update(Deal).where(Deal.id == closed[1]).values(closed_at=now - timedelta(days=400))
        )
        # Closed at Shanghai's and Los Angeles' midnights, and a UTC month's first instant.
        first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        for did, at in zip(
            closed[2:5],
            [first - timedelta(hours=8), first + timedelta(hours=7), first],
            strict=False,
        ):
            session.execute(update(Deal).where(Deal.id == did).values(closed_at=at))
        session.execute(
            update(Deal)
            .where(Deal.id.in_(deals[::4]))
            .values(created_at=now - timedelta(days=90, hours=5))
        )
        session.execute(update(Deal).where(Deal.id.in_(deals[1::5])).values(currency="EUR"))
        session.execute(update(Deal).where(Deal.id == deals[2]).values(customer_id=customers[1]))
        session.execute(update(Deal).where(Deal.id == deals[3]).values(stage="won"))
        session.execute(
            update(StageChange)
            .where(StageChange.id.in_(changes[::3]))
            .values(changed_at=now - timedelta(days=3, hours=11))
        )
        session.execute(
            update(StageChange).where(StageChange.id == changes[-1]).values(to_stage="lost")
        )
        session.execute(
            update(StageChange).where(StageChange.id == changes[-2]).values(from_stage=None)
        )
        session.execute(
            update(Customer)
            .where(Customer.id == customers[2])
            .values(owner_id=testbot.users["carol"])
        )
    assert_cycle_equal(testbot, clock)
    with unit_of_work(testbot.session_factory) as session:
        session.execute(delete(StageChange).where(StageChange.id.in_(changes[1::7])))
        session.execute(delete(StageChange).where(StageChange.deal_id == deals[-1]))
        session.execute(delete(Deal).where(Deal.id == deals[-1]))
        # A history row moved to another deal (of another customer).
        session.execute(
            update(StageChange).where(StageChange.id == changes[2]).values(deal_id=deals[0])
        )
    assert assert_cycle_equal(testbot, clock) > 10


def test_a_mean_on_a_half_reads_the_same_from_kept_sums_and_deals(
    testbot: TestBot, clock: FakeClock
) -> None:
    """Two won deals of 1.6 and 0.1 days (mean exactly 0.85): the kept sum (exact on
    PostgreSQL) and the deals' float mean both read 0.9, for the rep, the manager and the
    admin, by rep and in total (found by review of perf10: PostgreSQL's kept path read 0.8)."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from crm_core.text import name_key

    closed = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with unit_of_work(testbot.session_factory) as s:
        customer = Customer(
            name="Tie Co", name_key=name_key("Tie Co"), owner_id=testbot.users["alice"]
        )
        s.add(customer)
        s.flush()
        for i, days in enumerate((1.6, 0.1)):
            s.add(
                Deal(
                    customer_id=customer.id,
                    title=f"Tie {i}",
                    title_key=f"tie {i}",
                    amount=Decimal(1),
                    currency="USD",
                    stage="won",
                    owner_id=testbot.users["alice"],
                    created_at=closed - timedelta(days=days),
                    closed_at=closed,
                )
            )
    with testbot.session_factory() as s:
        for handle in ("alice", "bob", "admin"):
            user = s.get(User, testbot.users[handle])
            assert user is not None
            ctx = Ctx(s, user, Pipeline(DEFAULT_STAGES), clock=lambda: closed)
            for dim in (Dim.rep, None):
                got = cycle(ctx, dim=dim, period=ALL_TIME)
                assert got == cycle_from_deals(ctx, dim=dim, period=ALL_TIME), (handle, dim)
                assert got.total.won_days_mean == Decimal("0.9"), (handle, dim, got.total)
