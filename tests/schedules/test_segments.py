"""Segment followers told once per customer that enters; daily counts for the chart."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from crm_core.context import Ctx
from crm_core.models import Segment, SegmentCount, SegmentEntry, SegmentFollow
from schedules.runner import SchedulerComponent
from schedules.segments import SegmentSweep
from tests.conftest import PG_URL, FakeClock, TestBot
from tests.schedules.conftest import FakeNotifier


def _sweep(sched: SchedulerComponent) -> SegmentSweep:
    sweep = sched.jobs.segments
    assert sweep is not None
    return sweep


async def test_follow_pings_once_per_customer(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """Members present at the follow are not news; a newcomer is told once, in the book only."""
    testbot("alice", "new customer Acme city Shanghai")
    testbot("dave", "new customer Westco city Shanghai")
    testbot("admin", 'save segment "SH" city Shanghai')
    assert testbot("alice", 'follow segment "SH"').status == "ok"
    sweep = _sweep(sched)
    assert (await sweep.run_once()).pings == 0
    testbot("alice", "new customer Zeta city Shanghai")
    # dave's newcomer is outside alice's book: she never hears of it.
    testbot("dave", "new customer Westco Two city Shanghai")
    first = await sweep.run_once()
    assert (first.pings, first.entered) == (1, 1)
    (ping,) = notifier.to("alice")
    assert ping.title == 'New in segment "SH": 1 customer(s)'
    assert [i.split(" · ")[0].split(" ", 1)[1] for i in ping.items] == ["Zeta"]
    assert (await sweep.run_once()).pings == 0
    # Leaving and coming back is not news twice.
    testbot("alice", "edit customer Zeta: city Paris")
    await sweep.run_once()
    testbot("alice", "edit customer Zeta: city Shanghai")
    assert (await sweep.run_once()).pings == 0
    assert len(notifier.sent) == 1
    statuses = testbot.query(select(SegmentEntry.status).order_by(SegmentEntry.customer_id))
    assert statuses == ["seen", "sent"]


async def test_daily_counts_make_the_chart(
    testbot: TestBot, sched: SchedulerComponent, clock: FakeClock
) -> None:
    """One count a day per book; the segment shows a chart once two days are kept."""
    testbot("alice", "new customer Acme city Shanghai")
    testbot("alice", 'save segment "SH" city Shanghai')
    first = testbot("alice", 'segment "SH"')
    assert first.image is None and "second day" in first.text
    sweep = _sweep(sched)
    assert (await sweep.run_once()).counted == 0  # kept at save time already
    clock.advance(days=1)
    testbot("alice", "new customer Beta city Shanghai")
    assert (await sweep.run_once()).counted == 1
    assert (await sweep.run_once()).counted == 0
    rows = testbot.rows(select(SegmentCount.scope, SegmentCount.count).order_by(SegmentCount.day))
    scope = f"user:{testbot.users['alice']}"
    assert rows == [(scope, 1), (scope, 2)]
    shown = testbot("alice", 'segment "SH"')
    assert shown.image is not None and shown.image.startswith(b"\x89PNG")
    # Another book's view is counted apart (no leak of the saver's count).
    assert testbot("bob", 'segment "SH"').image is None


class RacingSweep(SegmentSweep):
    """A worker that waits until the other has read the same newcomers before claiming."""

    barrier: threading.Barrier

    def entered(self, ctx: Ctx, follow_id: int, segment: Segment) -> list[int]:
        """The newcomers, read before either worker writes its claim."""
        found = super().entered(ctx, follow_id, segment)
        if found:
            self.barrier.wait(timeout=10)
        return found


@pytest.mark.skipif(not PG_URL, reason="CRMBOT_TEST_DATABASE_URL is not set")
async def test_two_workers_ping_once_on_postgres(
    testbot: TestBot, notifier: FakeNotifier, sched: SchedulerComponent
) -> None:
    """Two sweeps that both see the same newcomer: only one claims it, one ping goes out."""
    if testbot.session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("the race is PostgreSQL's (SQLite runs one writer)")
    testbot("admin", 'save segment "SH" city Shanghai')
    testbot("alice", 'follow segment "SH"')
    testbot("alice", "new customer Zeta city Shanghai")
    testbot("alice", "new customer Zora city Shanghai")
    send = _sweep(sched).send
    barrier = threading.Barrier(2)
    workers = [RacingSweep(testbot.session_factory, send) for _ in range(2)]
    for w in workers:
        w.barrier = barrier
    one, two = await asyncio.gather(*(w.run_once() for w in workers))
    assert sorted([one.pings, two.pings]) == [0, 1]
    assert one.entered + two.entered == 2
    assert len(notifier.to("alice")) == 1
    assert testbot.query(select(SegmentEntry.status)) == ["sent", "sent"]


async def test_big_entry_is_claimed_in_chunks_and_pinged_as_a_count(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier
) -> None:
    """Claims insert a chunk of rows at a time (a whole import passes the parameter limit)."""
    testbot("alice", 'save segment "SH" city Shanghai')
    testbot("alice", 'follow segment "SH"')
    for name in ("Ace", "Bee", "Cog", "Dot", "Elm"):
        testbot("alice", f"new customer {name} city Shanghai")
    sweep = SegmentSweep(testbot.session_factory, _sweep(sched).send, claim_chunk=2, ping_lists=2)
    inserts: list[int] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SEGMENT_ENTRIES"):
            inserts.append(len(params))

    engine = testbot.session_factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        stats = await sweep.run_once()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert (stats.pings, stats.entered) == (1, 5)
    # Three statements: two rows, two rows, one row (counted by their bound parameters).
    assert len(inserts) == 3 and inserts[0] == inserts[1] == 2 * inserts[2] > 0
    (ping,) = notifier.to("alice")
    assert ping.title == 'New in segment "SH": 5 customer(s)'
    assert [i.split(" · ")[0].split(" ", 1)[1] for i in ping.items[:2]] == ["Ace", "Bee"]
    assert ping.items[2] == "… and 3 more: open the segment to see them all."
    assert testbot.query(select(SegmentEntry.status)) == ["sent"] * 5


class BrokenForOne(SegmentSweep):
    """A worker whose database fails for one follower's view (a dropped connection, say)."""

    broken_user: int

    def _ctx(self, s: Any, user_id: int) -> Ctx | None:
        if user_id == self.broken_user:
            raise OperationalError("SELECT 1", {}, Exception("connection lost"))
        return super()._ctx(s, user_id)


async def test_one_failing_follow_does_not_stop_the_sweep(
    testbot: TestBot,
    sched: SchedulerComponent,
    notifier: FakeNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A database error in one view is logged (no customer data) and later follows still hear."""
    testbot("admin", 'save segment "SH" city Shanghai')
    testbot("bob", 'follow segment "SH"')
    testbot("alice", 'follow segment "SH"')
    testbot("alice", "new customer Zeta Secret city Shanghai")
    sweep = BrokenForOne(testbot.session_factory, _sweep(sched).send)
    sweep.broken_user = testbot.users["bob"]
    with caplog.at_level(logging.WARNING, logger="schedules.segments"):
        stats = await sweep.run_once()
    assert stats.pings == 1 and stats.errors == 2  # bob's count and bob's follow
    assert [r.title for r in notifier.to("alice")] == ['New in segment "SH": 1 customer(s)']
    assert "OperationalError" in caplog.text and "Zeta" not in caplog.text


async def test_claim_left_by_a_killed_worker_is_pinged_after_the_lease(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """A worker that died between claim and send does not lose the ping forever."""
    testbot("alice", 'save segment "SH" city Shanghai')
    testbot("alice", 'follow segment "SH"')
    testbot("alice", "new customer Zeta city Shanghai")
    testbot("bob", "new customer Bobco city Shanghai")
    sweep = _sweep(sched)
    ((follow_id, segment_id, user_id),) = testbot.rows(
        select(SegmentFollow.id, SegmentFollow.segment_id, SegmentFollow.user_id)
    )
    # The dead worker: its claim committed, its ping never went.
    assert len(sweep.claim(follow_id, segment_id, user_id)) == 1
    assert (await sweep.run_once()).pings == 0  # still within the lease: not taken twice
    clock.advance(minutes=6)
    stats = await sweep.run_once()
    assert (stats.pings, stats.entered) == (1, 1)
    (ping,) = notifier.to("alice")
    assert [i.split(" · ")[0].split(" ", 1)[1] for i in ping.items] == ["Zeta"]
    assert testbot.query(select(SegmentEntry.status)) == ["sent"]
    clock.advance(minutes=6)
    assert (await sweep.run_once()).pings == 0
