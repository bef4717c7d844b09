"""`report activity` from the day counts the triggers keep (migration 0034) equals the one
computed from the notes and history (the computation it replaced, kept here as the reference),
for every person, in two time zones and several periods, after any writes, on SQLite and
PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from crm_core.access import archived_customer_ids, visible_customer_ids, visible_owner_ids
from crm_core.analytics.activity import ActivityReport, ActivityRow, activity
from crm_core.analytics.periods import ALL_TIME, Period, add_months, month_start
from crm_core.analytics.scope import in_period
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.models import (
    Customer,
    Deal,
    Interaction,
    MoveDayTotal,
    NoteDayTotal,
    StageChange,
    Team,
    User,
)
from crm_core.stages import DEFAULT_STAGES, Pipeline
from tests.conftest import FakeClock, TestBot
from tests.random_writes import PEOPLE, RandomWrites, ids


def activity_from_rows(ctx: Ctx, period: Period) -> ActivityReport:
    """The activity report from every note and move in the period (the computation 0034's
    reading of the kept day counts replaced)."""
    start, end = period.bounds(ctx.tz)
    owners = visible_owner_ids(ctx.actor)
    people = select(User.id, User.name, Team.name).outerjoin(Team, Team.id == User.team_id)
    if owners is not None:
        people = people.where(User.id.in_(owners))
    people = people.where(User.active)
    rows = {
        uid: ActivityRow(uid, name, team)
        for uid, name, team in ctx.session.execute(people.order_by(Team.name, User.name))
    }
    customers = (
        [Interaction.customer_id.not_in(archived_customer_ids())]
        if owners is None
        else [Interaction.customer_id.in_(visible_customer_ids(ctx.actor))]
    )
    notes = (
        select(Interaction.author_id, Interaction.kind, func.count())
        .where(
            Interaction.deleted_at.is_(None),
            *in_period(Interaction.occurred_at, start, end),
            *customers,
        )
        .group_by(Interaction.author_id, Interaction.kind)
    )
    for author, kind, count in ctx.session.execute(notes):
        if author in rows:
            rows[author].kinds[str(kind)] += int(count)
    won = {s.name for s in ctx.pipeline.stages if s.won}
    lost = {s.name for s in ctx.pipeline.stages if s.lost}
    deal_scope = (
        [Deal.customer_id.not_in(archived_customer_ids())]
        if owners is None
        else [Deal.customer_id.in_(visible_customer_ids(ctx.actor))]
    )
    moves = (
        select(StageChange.actor_id, StageChange.to_stage, func.count())
        .join(Deal, Deal.id == StageChange.deal_id)
        .where(
            StageChange.from_stage.is_not(None),
            *in_period(StageChange.changed_at, start, end),
            *deal_scope,
        )
        .group_by(StageChange.actor_id, StageChange.to_stage)
    )
    for actor, to_stage, count in ctx.session.execute(moves):
        row = rows.get(actor) if actor is not None else None
        if row is None:
            continue
        if to_stage in won:
            row.won += int(count)
        elif to_stage in lost:
            row.lost += int(count)
        else:
            row.moved += int(count)
    total = ActivityRow(0, "total", None)
    for row in rows.values():
        for k, n in row.kinds.items():
            total.kinds[k] += n
        total.moved += row.moved
        total.won += row.won
        total.lost += row.lost
    return ActivityReport(period, list(rows.values()), total)


ZONES = ["UTC", "Asia/Kolkata", "America/Los_Angeles", "Asia/Shanghai"]


def periods(today: date) -> list[Period]:
    """The report's default (the last 7 days), a day, a month, cut ranges, open ends."""
    return [
        Period(today - timedelta(days=6), today + timedelta(days=1), "last 7 days"),
        Period(today, today + timedelta(days=1), "today"),
        Period(month_start(today), add_months(today, 1), "this month"),
        Period(today - timedelta(days=45), today - timedelta(days=2), "from to"),
        Period(add_months(today, -2), month_start(today), "two whole months"),
        Period(today - timedelta(days=20), None, "since"),
        Period(today - timedelta(days=40), None, "since a month before"),
        Period(None, today - timedelta(days=3), "until"),
        ALL_TIME,
    ]


def day_number(at: datetime) -> int:
    """yyyymmdd of an instant in UTC."""
    at = at.astimezone(UTC)
    return at.year * 10000 + at.month * 100 + at.day


def assert_activity_equal(bot: TestBot, clock: FakeClock) -> int:
    """Every person's activity, in two zones and every period, equals the reference; every
    kept row holds its notes' or moves' count. Returns how many counts were compared."""
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
                    got = activity(ctx, period)
                    want = activity_from_rows(ctx, period)
                    assert (handle, zone, period, got) == (handle, zone, period, want)
                    compared += got.total.logged + got.total.moved + got.total.won
            session.rollback()
    # Each kept row: a wrong row no period here reads (another day, a merged customer's) fails.
    state = {
        cid: 2 if archived is not None else 1 if merged is not None else 0
        for cid, archived, merged in bot.rows(
            select(Customer.id, Customer.archived_at, Customer.merged_into)
        )
    }
    owner = dict(bot.rows(select(Customer.id, Customer.owner_id)))
    notes: dict[tuple[Any, ...], int] = {}
    for cid, when, author, kind in bot.rows(
        select(
            Interaction.customer_id,
            Interaction.occurred_at,
            Interaction.author_id,
            Interaction.kind,
        ).where(Interaction.deleted_at.is_(None))
    ):
        for day in (day_number(when), day_number(when) // 100):  # its day, its month
            key = (owner[cid], state[cid], day, author, str(kind))
            notes[key] = notes.get(key, 0) + 1
    t = NoteDayTotal
    kept = bot.rows(select(t.owner_id, t.state, t.day, t.author_id, t.kind, t.notes))
    assert {tuple(r[:5]): r[5] for r in kept if r[5]} == notes
    moves: dict[tuple[Any, ...], int] = {}
    for cid, when, actor_id, to_stage in bot.rows(
        select(Deal.customer_id, StageChange.changed_at, StageChange.actor_id, StageChange.to_stage)
        .join(Deal, Deal.id == StageChange.deal_id)
        .where(StageChange.from_stage.is_not(None))
    ):
        for day in (day_number(when), day_number(when) // 100):
            key = (owner[cid], state[cid], day, actor_id or 0, to_stage)
            moves[key] = moves.get(key, 0) + 1
    m = MoveDayTotal
    kept = bot.rows(select(m.owner_id, m.state, m.day, m.actor_id, m.to_stage, m.moves))
    assert {tuple(r[:5]): r[5] for r in kept if r[5]} == moves
    return compared


class NoteWrites(RandomWrites):
    """RandomWrites plus notes logged by anyone on a customer they see, and undone."""

    def note(self) -> None:
        rnd = self.rnd
        who = rnd.choice([*PEOPLE, "bob", "admin"])
        cid = rnd.choice(self.live_customers())
        kind = rnd.choice(["call", "meeting", "visit", "email", "note"])
        reply = self.bot(who, f"log {kind} #{cid}: talked about the renewal {rnd.randrange(99)}")
        if reply.status == "ok":
            self.done["log"] = self.done.get("log", 0) + 1
            self.undo.extend((who, b) for b in reply.buttons if "undo" in str(b.payload))

    def undo_note(self) -> None:
        notes = [u for u in self.undo if isinstance(u, tuple)]
        if notes:
            who, button = notes[self.rnd.randrange(len(notes))]
            self.undo.remove((who, button))
            if self.bot.press(who, button).status == "ok":
                self.done["undo note"] = self.done.get("undo note", 0) + 1

    def move_as(self) -> None:
        """A move by the deal's rep, so actors differ from the admin."""
        if (did := self.any_deal()) is not None:
            who = self.rnd.choice(PEOPLE)
            if self.bot(who, f"move #{did} to {self.rnd.choice(self.targets)}").status == "ok":
                self.done["move as"] = self.done.get("move as", 0) + 1

    def later_hours(self) -> None:
        assert self.clock is not None
        self.clock.advance(hours=self.rnd.randrange(3, 30))


def test_activity_follows_every_write_path(testbot: TestBot, clock: FakeClock) -> None:
    """Notes, undos, moves by several people, reassigns, merges, archives, deal deletes, days
    passing; compared every 40 writes."""
    w = NoteWrites(testbot, random.Random(34), clock=clock, wins=2)
    w.seed()
    ops: list[Callable[[], None]] = [w.note] * 8 + [w.undo_note] * 2 + [w.new_deal] * 4
    # Five: open deals with a past close date are refused (fix15), so fewer deals exist to move.
    ops += [w.move] * 3 + [w.move_as] * 5 + [w.reassign] * 2 + [w.merge, w.archive, w.unarchive]
    ops += [w.delete_deal, w.new_customer, w.later_hours, w.later_hours, w.later]
    w.run(ops, 120, every=40, check=lambda: assert_activity_equal(testbot, clock))
    every = {"log", "undo note", "new", "move", "move as", "reassign", "merge", "archive"}
    assert every <= set(w.done), w.done
    assert assert_activity_equal(testbot, clock) > 40, "the run left notes to compare"


def test_activity_follows_bulk_updates_and_deletes(testbot: TestBot, clock: FakeClock) -> None:
    """UPDATEs and DELETEs no service wrote: a note's time, author, customer and deletion, a
    history row's time, actor, deal and stage, a deal's customer, a customer's owner."""
    w = NoteWrites(testbot, random.Random(7), clock=clock)
    w.seed()
    for op in [w.note] * 12 + [w.new_deal] * 4 + [w.move_as] * 6 + [w.later_hours] * 2:
        op()
    assert_activity_equal(testbot, clock)
    notes = ids(testbot, Interaction)
    changes = ids(testbot, StageChange)
    deals = ids(testbot, Deal)
    customers = w.live_customers()
    with unit_of_work(testbot.session_factory) as session:
        session.execute(
            update(Interaction)
            .where(Interaction.id.in_(notes[::3]))
            .values(occurred_at=clock.now - timedelta(days=2, hours=7))
        )
        session.execute(
            update(Interaction)
            .where(Interaction.id.in_(notes[1::4]))
            .values(author_id=testbot.users["dave"], kind="visit")
        )
        session.execute(
            update(Interaction)
            .where(Interaction.id.in_(notes[2::5]))
            .values(customer_id=customers[0])
        )
        session.execute(
            update(Interaction).where(Interaction.id == notes[-1]).values(deleted_at=clock.now)
        )
        session.execute(
            update(StageChange)
            .where(StageChange.id.in_(changes[::2]))
            .values(changed_at=clock.now - timedelta(days=1, hours=20), actor_id=None)
        )
        session.execute(
            update(StageChange).where(StageChange.id == changes[-1]).values(to_stage="won")
        )
        # Notes and moves on the first and last days of months: the days beside the whole
        # months a period reads as month rows.
        first = clock.now.replace(day=1, hour=12)
        for n, note in enumerate(notes[4::6]):
            at = first - timedelta(days=n % 2)  # the 1st, or the last day of the month before
            session.execute(
                update(Interaction).where(Interaction.id == note).values(occurred_at=at)
            )
        session.execute(
            update(StageChange).where(StageChange.id.in_(changes[1::3])).values(changed_at=first)
        )
        session.execute(update(Deal).where(Deal.id == deals[0]).values(customer_id=customers[1]))
        session.execute(
            update(Customer)
            .where(Customer.id == customers[2])
            .values(owner_id=testbot.users["carol"])
        )
    assert_activity_equal(testbot, clock)
    with unit_of_work(testbot.session_factory) as session:
        session.execute(
            update(Interaction).where(Interaction.id == notes[-1]).values(deleted_at=None)
        )
        session.execute(delete(Interaction).where(Interaction.id.in_(notes[3::4])))
        session.execute(delete(StageChange).where(StageChange.deal_id == deals[-1]))
        session.execute(delete(Deal).where(Deal.id == deals[-1]))
    assert_activity_equal(testbot, clock)
    # A history row moved to another deal (of another customer).
    with unit_of_work(testbot.session_factory) as session:
        first = session.scalar(select(func.min(StageChange.id)).where(StageChange.from_stage != ""))
        session.execute(update(StageChange).where(StageChange.id == first).values(deal_id=deals[1]))
    assert assert_activity_equal(testbot, clock) > 10


def test_cut_hours_count_only_the_books_customers_and_its_people(
    testbot: TestBot, clock: FakeClock
) -> None:
    """In the hours a zone's midnight cuts (read row by row, by the report's people: 0038), a
    note and a move by a manager's rep on a customer since given to another team are left out,
    the same rep's on a customer still in the book are counted, and a note of another team's
    rep on the book's customer is no row of the report."""
    w = NoteWrites(testbot, random.Random(5), clock=clock)
    w.seed(6)
    alice, dave = testbot.users["alice"], testbot.users["dave"]
    kept, given = ids(testbot, Customer, owner_id=alice)[:2]
    for cid in (kept, given):
        assert testbot("alice", f"new deal #{cid}: Deal {cid} 5k stage lead").status == "ok"
        deal = ids(testbot, Deal, customer_id=cid)[0]
        assert testbot("alice", f"log call #{cid}: talked").status == "ok"
        assert testbot("alice", f"move #{deal} to proposal").status == "ok"
    assert testbot("admin", f"reassign #{given} to @dave with deals").status == "ok"
    # dave's note on the kept customer: the admin may log anywhere, dave may not; as dave
    # through a hand-written row (an import would do the same).
    with unit_of_work(testbot.session_factory) as session:
        note = session.scalars(select(Interaction).where(Interaction.customer_id == kept)).first()
        assert note is not None
        session.add(
            Interaction(
                customer_id=kept,
                author_id=dave,
                kind=note.kind,
                occurred_at=note.occurred_at,
                text="dave's",
            )
        )
    # Everything at 20:00 UTC yesterday: inside Kolkata's today (which starts at 18:30 UTC).
    at = clock.now.replace(hour=20, minute=0) - timedelta(days=1)
    with unit_of_work(testbot.session_factory) as session:
        session.execute(update(Interaction).values(occurred_at=at))
        session.execute(update(StageChange).values(changed_at=at))
    with testbot.session_factory() as session:
        for handle in ("alice", "bob", "admin"):
            actor = session.get(User, testbot.users[handle])
            assert actor is not None
            actor.timezone = "Asia/Kolkata"
            ctx = Ctx(session, actor, Pipeline(DEFAULT_STAGES), clock=clock)
            today = ctx.now().astimezone(ctx.tz).date()
            period = Period(today, today + timedelta(days=1), "today")
            got = activity(ctx, period)
            assert got == activity_from_rows(ctx, period), handle
            row = {r.user_id: r for r in got.rows}[alice]
            if handle == "admin":  # the admin's book holds both customers
                assert (row.logged, row.moved) == (2, 2)
            else:
                assert (row.logged, row.moved) == (1, 1), handle
                assert dave not in {r.user_id for r in got.rows}
        session.rollback()
