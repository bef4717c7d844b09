"""The care sweep: the monthly tier review, tier-change pings and care-date pings, each once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from sqlalchemy import select

from crm_core.models import CarePing, CustomerTier, TierChange, TierReview
from schedules.care import CareSweep
from schedules.runner import SchedulerComponent
from tests.conftest import FakeClock, TestBot
from tests.schedules.conftest import FakeNotifier

RULES = "tiers: silver 50k, gold 200k, platinum 1M on won value in 12 months"


def _sweep(sched: SchedulerComponent) -> CareSweep:
    sweep = sched.jobs.care
    assert sweep is not None
    return sweep


def _win(testbot: TestBot, title: str, amount: str) -> None:
    assert testbot("alice", f"new deal Acme: {title} {amount}").status == "ok"
    assert testbot("alice", f"move Acme / {title} to won").status == "ok"


async def test_downgrades_wait_for_the_monthly_review_which_runs_once(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """A customer whose won value ages out keeps its tier until the 1st; the review runs once."""
    testbot("admin", RULES)
    testbot("alice", "new customer Acme")
    _win(testbot, "Fleet", "250k")
    assert testbot.query(select(CustomerTier.tier)) == ["gold"]
    sweep = _sweep(sched)
    # Rules set in November are first reviewed on 1 December: nothing changes before.
    assert (await sweep.run_once()).reviewed == []
    clock.now = datetime(2027, 11, 24, 9, 0, tzinfo=UTC)  # the win is older than 12 months
    card = testbot("alice", "customer Acme")
    tier = next(f for f in card.fields if f.label == "Tier")
    assert tier.value == "gold · 0 USD won in 12 months · 1,000,000 USD to platinum"
    stats = await sweep.run_once()
    assert stats.reviewed == ["2027-11"]
    assert testbot.query(select(CustomerTier.tier)) == [None]
    assert (await sweep.run_once()).reviewed == []
    other = CareSweep(
        sweep.session_factory, sweep.pipeline, sweep.send_tier, sweep.send_care, clock=clock
    )
    assert (await other.run_once()).reviewed == []  # another worker: the month is taken
    rows = testbot.rows(select(TierReview.period, TierReview.status))
    assert rows == [("2027-11", "sent")]
    change = testbot.rows(
        select(TierChange.from_tier, TierChange.to_tier, TierChange.reason, TierChange.status)
        .order_by(TierChange.id.desc())
        .limit(1)
    )
    assert change == [("gold", None, "review", "sent")]
    assert [r.text for r in notifier.to("alice")][-1] == (
        "Tier change: Acme: gold → no tier (monthly review)"
    )


async def test_a_pinned_tier_survives_the_review(
    testbot: TestBot, sched: SchedulerComponent, clock: FakeClock
) -> None:
    """Only unpinned customers are reviewed."""
    testbot("admin", RULES)
    testbot("alice", "new customer Acme")
    testbot("admin", "tier Acme platinum pin")
    clock.now = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
    assert (await _sweep(sched).run_once()).reviewed == ["2027-01"]
    assert testbot.rows(select(CustomerTier.tier, CustomerTier.pinned)) == [("platinum", True)]
    testbot("admin", "tier Acme unpin")  # earns nothing: keeps platinum until the next review
    assert testbot.query(select(CustomerTier.tier)) == ["platinum"]
    clock.now = datetime(2027, 2, 1, 0, 5, tzinfo=UTC)
    assert (await _sweep(sched).run_once()).reviewed == ["2027-02"]
    assert testbot.query(select(CustomerTier.tier)) == [None]


async def test_a_tier_change_is_pinged_once_by_two_workers(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier
) -> None:
    """Two sweeps at once (threads on one database): the owner hears of each change once."""
    testbot("admin", RULES)
    testbot("alice", "new customer Acme")
    _win(testbot, "Pilot", "60k")
    _win(testbot, "Fleet", "150k")
    sweep = _sweep(sched)
    other = CareSweep(
        sweep.session_factory, sweep.pipeline, sweep.send_tier, sweep.send_care, clock=sweep.clock
    )
    first, second = await asyncio.gather(sweep.run_once(), other.run_once())
    assert sorted(first.tier_pings + second.tier_pings) == testbot.query(
        select(TierChange.id).order_by(TierChange.id)
    )
    # The two workers send in parallel: the order between them is not fixed.
    assert sorted(r.text for r in notifier.to("alice")) == [
        "New tier: Acme: no tier → silver (deal won)",
        "Tier change: Acme: silver → gold (deal won)",
    ]
    customer = testbot.query(select(TierChange.customer_id))[0]
    for ping in notifier.to("alice"):
        assert [b.payload["text"] for b in ping.buttons] == [f"customer #{customer}"]
    assert (await sweep.run_once()).tier_pings == []
    assert set(testbot.query(select(TierChange.status))) == {"sent"}


def _renewal(testbot: TestBot, owner: str, day: str, lead: str = "15d") -> None:
    assert testbot("admin", "field add deal renewal_date date").status == "ok"
    assert testbot(owner, "new customer Acme").status == "ok"
    assert testbot(owner, "new deal Acme: Fleet 10k").status == "ok"
    assert testbot(owner, f"edit deal Fleet: renewal_date {day}").status == "ok"
    assert testbot("admin", f"care renewal_date {lead}").status == "ok"


async def test_a_care_date_is_pinged_once_and_listed_in_the_digest(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """15 days before the renewal (the owner's Monday, in working hours): one ping, then none."""
    _renewal(testbot, "alice", "2026-12-08")  # START is Monday 2026-11-23 15:00 UTC
    sweep = _sweep(sched)
    other = CareSweep(
        sweep.session_factory, sweep.pipeline, sweep.send_tier, sweep.send_care, clock=clock
    )
    first, second = await asyncio.gather(sweep.run_once(), other.run_once())
    assert len(first.care_pings + second.care_pings) == 1
    assert [r.text for r in notifier.to("alice")] == [
        "Coming up: renewal_date of Fleet (Acme): 2026-12-08, in 15 days"
    ]
    clock.advance(days=1)
    assert (await sweep.run_once()).care_pings == []
    assert testbot.rows(select(CarePing.day, CarePing.status)) == [(date(2026, 12, 8), "sent")]
    digest = testbot("alice", "digest")
    care = next(s for s in digest.sections if s.title == "Care dates coming")
    assert care.lines == ["renewal_date of Fleet (Acme): 2026-12-08, in 14 days"]


async def test_a_failed_care_ping_is_retried_then_left(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier
) -> None:
    """A retryable failure is sent again on the next tick, once."""
    from handlers.notify import DeliveryFailed

    _renewal(testbot, "alice", "2026-12-08")
    notifier.failures.append(DeliveryFailed("down", retryable=True))
    sweep = _sweep(sched)
    assert (await sweep.run_once()).failed == 1
    assert len((await sweep.run_once()).care_pings) == 1
    assert len(notifier.to("alice")) == 1


async def test_the_ping_day_is_the_owners_local_day(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """Auckland's Tuesday starts while it is Monday in UTC: the ping follows the owner's day."""
    testbot.add_user("kiri", timezone="Pacific/Auckland")  # UTC+13 in November
    _renewal(testbot, "kiri", "2026-12-09")  # ping day: Tuesday 2026-11-24, local
    sweep = _sweep(sched)
    clock.now = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 07:30 Tuesday in Auckland
    assert (await sweep.run_once()).care_pings == []  # before the working day
    clock.now = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # 08:00 Tuesday there, Monday here
    assert len((await sweep.run_once()).care_pings) == 1
    assert len(notifier.to("kiri")) == 1


async def test_the_ping_follows_daylight_saving_time(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """New York moved to EDT on 14 March 2027: 08:00 on Monday the 15th is 12:00 UTC, not 13:00."""
    testbot.add_user("nora", timezone="America/New_York")
    clock.now = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
    _renewal(testbot, "nora", "2027-03-22", "7d")  # ping day: Monday 2027-03-15, local
    sweep = _sweep(sched)
    clock.now = datetime(2027, 3, 15, 11, 59, tzinfo=UTC)  # 07:59 EDT
    assert (await sweep.run_once()).care_pings == []
    clock.now = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)  # 08:00 EDT (07:00 in EST)
    assert len((await sweep.run_once()).care_pings) == 1
    (ping,) = notifier.to("nora")
    assert ping.text == "Coming up: renewal_date of Fleet (Acme): 2027-03-22, in 7 days"


async def test_a_birthday_comes_every_year(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """`care birthday 3d`: a year-less birthday is pinged 3 days ahead, this year and next."""
    testbot("alice", "new customer Acme")
    testbot("alice", "contact add Acme: Dana Ruiz, birthday November 26")
    assert testbot("admin", "care birthday 3d").status == "ok"
    sweep = _sweep(sched)
    assert len((await sweep.run_once()).care_pings) == 1
    clock.now = datetime(2027, 11, 23, 15, 0, tzinfo=UTC)  # a Tuesday, a year later
    assert len((await sweep.run_once()).care_pings) == 1
    assert testbot.query(select(CarePing.day).order_by(CarePing.day)) == [
        date(2026, 11, 26),
        date(2027, 11, 26),
    ]
    assert next(r.text for r in notifier.to("alice")) == (
        "Coming up: birthday of Dana Ruiz (Acme): 2026-11-26, in 3 days"
    )


async def test_an_open_deals_expected_close_is_a_care_date(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier
) -> None:
    """`care close 7d`: open deals closing within a week are pinged; a won one is not."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 10k close 2026-11-30")
    testbot("alice", "new deal Acme: Pilot 5k close 2026-11-27")
    testbot("alice", "new deal Acme: Later 5k close 2026-12-25")
    testbot("alice", "move Pilot to won")
    assert testbot("admin", "care close 7d").status == "ok"
    assert len((await _sweep(sched).run_once()).care_pings) == 1
    assert [r.text for r in notifier.to("alice")] == [
        "Coming up: expected close of Fleet (Acme): 2026-11-30, in 7 days"
    ]
