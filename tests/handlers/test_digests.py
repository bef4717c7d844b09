"""The digest: content for a rep and a manager, the digest verb's settings, and its schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.scheduling import scheduler_component
from crm_core.db import unit_of_work
from crm_core.models import (
    Contact,
    Customer,
    Deal,
    DigestLog,
    Interaction,
    InteractionKind,
    Reminder,
    ReminderStatus,
    SchedulePrefs,
    StageChange,
)
from crm_core.settings import Settings
from schedules.digests import DigestDispatcher
from tests.conftest import START, FakeClock, TestBot
from tests.schedules.conftest import FakeNotifier

DAY = timedelta(days=1)


def _book(testbot: TestBot) -> None:
    """alice: overdue and today's reminders, a deal closing this week, a stalled deal, a quiet
    customer, yesterday's calls; carol: a deal won yesterday."""
    alice, carol = testbot.users["alice"], testbot.users["carol"]
    with unit_of_work(testbot.session_factory) as s:
        acme = Customer(name="Acme", name_key="acme", owner_id=alice, created_at=START - 400 * DAY)
        quiet = Customer(name="Quietco", name_key="quietco", owner_id=alice)
        beta = Customer(name="Beta", name_key="beta", owner_id=carol)
        s.add_all([acme, quiet, beta])
        s.flush()
        s.add_all(
            [
                Reminder(
                    owner_id=alice,
                    due_at=START - 2 * DAY,
                    text="old thing",
                    status=ReminderStatus.sent,
                ),
                Reminder(owner_id=alice, due_at=START + timedelta(hours=3), text="today thing"),
                Reminder(owner_id=alice, due_at=START + 2 * DAY, text="later thing"),
            ]
        )
        closing = Deal(
            customer_id=acme.id,
            title="Fleet",
            title_key="fleet",
            stage="proposal",
            owner_id=alice,
            expected_close=date(2026, 11, 27),
            created_at=START - 3 * DAY,
        )
        stalled = Deal(
            customer_id=quiet.id,
            title="Old deal",
            title_key="old deal",
            stage="negotiation",
            owner_id=alice,
            created_at=START - 90 * DAY,
        )
        won = Deal(
            customer_id=beta.id,
            title="Big win",
            title_key="big win",
            stage="won",
            owner_id=carol,
            created_at=START - 30 * DAY,
        )
        s.add_all([closing, stalled, won])
        s.flush()
        s.add(
            StageChange(
                deal_id=won.id,
                from_stage="negotiation",
                to_stage="won",
                changed_at=START - DAY,
                actor_id=carol,
            )
        )
        # Quietco: contacted weekly until 40 days ago.
        for weeks in range(6):
            s.add(
                Interaction(
                    customer_id=quiet.id,
                    author_id=alice,
                    kind=InteractionKind.call,
                    occurred_at=START - timedelta(days=40 + 7 * weeks),
                    text="n",
                )
            )
        for _ in range(2):
            s.add(
                Interaction(
                    customer_id=acme.id,
                    author_id=alice,
                    kind=InteractionKind.call,
                    occurred_at=START - DAY,
                    text="y",
                )
            )
        s.add(
            Interaction(
                customer_id=beta.id,
                author_id=carol,
                kind=InteractionKind.visit,
                occurred_at=START - DAY,
                text="v",
            )
        )


def test_rep_digest_content(testbot: TestBot) -> None:
    """Overdue and today's reminders, closing this week, stalled, quiet, yesterday's activity."""
    _book(testbot)
    reply = testbot("alice", "digest")
    assert reply.title == "Digest for Alice, 2026-11-23"
    sections = {s.title: s.lines for s in reply.sections}
    assert [line.split(" · ")[1] for line in sections["Overdue reminders"]] == ["old thing"]
    assert [line.split(" · ")[1] for line in sections["Due today"]] == ["today thing"]
    assert "Fleet" in sections["Expected to close this week"][0]
    assert sections["Stalled deals"] == [sections["Stalled deals"][0]]
    assert "Old deal" in sections["Stalled deals"][0] and "40 days" in sections["Stalled deals"][0]
    assert sections["Customers going quiet"] == [
        "Quietco: no contact for 40 days (usually every 7 days)"
    ]
    assert sections["Your activity yesterday"] == ["call: 2"]
    assert "Team: won yesterday" not in sections
    assert "Birthdays" not in sections


def test_manager_digest_adds_the_team(testbot: TestBot) -> None:
    """bob sees carol's win and each rep's activity counts."""
    _book(testbot)
    sections = {s.title: s.lines for s in testbot("bob", "digest").sections}
    assert sections["Team: won yesterday"] == ["Big win (Carol): negotiation → won"]
    assert sections["Team activity yesterday"] == ["Alice: 2 logged", "Carol: 1 logged"]


def _birthdays(testbot: TestBot, owner: str) -> None:
    """`owner`'s Acme: birthdays today (year-less), in 3 days, in 10 days; carol's Beta: today."""
    me, carol = testbot.users[owner], testbot.users["carol"]
    with unit_of_work(testbot.session_factory) as s:
        acme = Customer(name="Acme", name_key="acme", owner_id=me)
        beta = Customer(name="Beta", name_key="beta", owner_id=carol)
        s.add_all([acme, beta])
        s.flush()
        s.add_all(
            [
                Contact(customer_id=acme.id, name="Dana Ruiz", birthday=date(1904, 11, 23)),
                Contact(customer_id=acme.id, name="Jo Park", birthday=date(1984, 11, 26)),
                Contact(customer_id=acme.id, name="Later Lee", birthday=date(1990, 12, 3)),
                Contact(customer_id=acme.id, name="No Birthday"),
                Contact(customer_id=beta.id, name="Not Mine", birthday=date(1904, 11, 23)),
            ]
        )


def test_rep_digest_birthdays(testbot: TestBot) -> None:
    """Own customers' contacts only, today and the next six days, soonest first."""
    _birthdays(testbot, "alice")
    sections = {s.title: s.lines for s in testbot("alice", "digest").sections}
    assert sections["Birthdays"] == ["Dana Ruiz (Acme) — today", "Jo Park (Acme) — Thu 26 Nov"]
    # carol owns only Beta; bob (a manager) owns no customer: no section.
    assert {s.title: s.lines for s in testbot("carol", "digest").sections}["Birthdays"] == [
        "Not Mine (Beta) — today"
    ]
    assert "Birthdays" not in {s.title for s in testbot("bob", "digest").sections}


def test_digest_birthdays_in_chinese_and_the_local_calendar(testbot: TestBot) -> None:
    """In Auckland it is already the 24th: Dana's birthday has passed, Jo's is in two days."""
    testbot.add_user("mei", locale="zh", timezone="Pacific/Auckland")
    _birthdays(testbot, "mei")
    sections = {s.title: s.lines for s in testbot("mei", "digest").sections}
    assert sections["生日"] == ["Jo Park（Acme）— 11月26日 周四"]


def test_feb_29_birthdays_fall_on_feb_28_in_other_years(testbot: TestBot, clock: FakeClock) -> None:
    """2027 has no Feb 29; 2028 has."""
    with unit_of_work(testbot.session_factory) as s:
        acme = Customer(name="Acme", name_key="acme", owner_id=testbot.users["alice"])
        s.add(acme)
        s.flush()
        s.add(Contact(customer_id=acme.id, name="Leap Day", birthday=date(1904, 2, 29)))
    clock.now = datetime(2027, 2, 25, 15, 0, tzinfo=UTC)
    lines = {s.title: s.lines for s in testbot("alice", "digest").sections}["Birthdays"]
    assert lines == ["Leap Day (Acme) — Sun 28 Feb"]
    clock.now = datetime(2028, 2, 25, 15, 0, tzinfo=UTC)
    lines = {s.title: s.lines for s in testbot("alice", "digest").sections}["Birthdays"]
    assert lines == ["Leap Day (Acme) — Tue 29 Feb"]


def test_digest_settings(testbot: TestBot) -> None:
    """at / off / on / weekdays / daily; times outside working hours and nonsense refused."""
    assert "08:15" in testbot("alice", "digest at 8:15").text
    assert testbot("alice", "digest at 6:00").status == "error"
    assert testbot("alice", "digest at 25:00").status == "error"
    assert testbot("alice", "digest sometimes").status == "error"
    assert testbot("alice", "digest daily").status == "ok"
    assert testbot("alice", "摘要 关闭").status == "ok"
    (prefs,) = testbot.query(select(SchedulePrefs))
    assert (prefs.digest_minute, prefs.digest_days, prefs.digest_off) == (495, "daily", True)
    assert "08:15" in testbot("alice", "digest on").text


async def test_digest_goes_out_once_per_local_day(
    testbot: TestBot, crm_app: App, clock: FakeClock
) -> None:
    """Each user once a day at their local time, weekdays only by default, never twice."""
    testbot.add_user("berlin", timezone="Europe/Berlin")
    testbot.add_user("tokyo", timezone="Asia/Tokyo")
    notifier = FakeNotifier()
    jobs = scheduler_component(crm_app, [notifier], clock=clock).jobs
    clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # Berlin 08:00, Tokyo 16:00
    stats = await jobs.digests.run_once()
    assert [a.target for a, _ in notifier.sent] == ["tokyo"]
    clock.now = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # Berlin 08:30
    await jobs.digests.run_once()
    assert [a.target for a, _ in notifier.sent][-1] == "berlin"
    clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # UTC users' 09:00
    stats = await jobs.digests.run_once()
    assert len(stats.sent) == 5  # alice, carol, bob, dave, admin
    # A second run and a second worker: nothing more today.
    other = DigestDispatcher(testbot.session_factory, jobs.digests.send, clock=clock)
    assert (await jobs.digests.run_once()).sent == [] and (await other.run_once()).sent == []
    assert len(notifier.sent) == 7 and testbot.count(DigestLog) == 7
    # Saturday: nobody on weekdays; `digest daily` gets one.
    testbot("alice", "digest daily")
    clock.now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert [a.target for a, _ in notifier.sent[7:]] == []
    stats = await jobs.digests.run_once()
    assert stats.sent == [testbot.users["alice"]]


async def test_digest_is_not_sent_outside_working_hours_and_respects_off(
    testbot: TestBot, crm_app: App, clock: FakeClock
) -> None:
    """Before 08:00 or after 19:00 local nothing goes; `digest off` stops it."""
    notifier = FakeNotifier()
    jobs = scheduler_component(crm_app, [notifier], clock=clock).jobs
    testbot("alice", "digest off")
    clock.now = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)
    assert (await jobs.digests.run_once()).sent == []
    clock.now = datetime(2026, 11, 25, 7, 59, tzinfo=UTC)
    assert (await jobs.digests.run_once()).sent == []
    clock.now = datetime(2026, 11, 25, 8, 45, tzinfo=UTC)
    sent = (await jobs.digests.run_once()).sent
    assert testbot.users["alice"] not in sent and len(sent) == 4


def test_digest_defaults_come_from_the_configured_settings(testbot: TestBot) -> None:
    """`digest on` without a chosen time names the configured default, not a built-in one."""
    assert "08:30" in testbot("alice", "digest on").text
    testbot.dispatcher.settings = Settings(_env_file=None, digest_time="07:45")
    assert "07:45" in testbot("carol", "digest on").text


async def test_digest_waits_for_personal_quiet_hours(
    testbot: TestBot, crm_app: App, clock: FakeClock
) -> None:
    """`quiet 08:00-10:00`: the 08:30 digest is not sent then, and goes once they end."""
    notifier = FakeNotifier()
    jobs = scheduler_component(crm_app, [notifier], clock=clock).jobs
    testbot("alice", "quiet 08:00-10:00")
    clock.now = datetime(2026, 11, 25, 8, 45, tzinfo=UTC)
    sent = (await jobs.digests.run_once()).sent
    assert testbot.users["alice"] not in sent and testbot.users["carol"] in sent
    clock.now = datetime(2026, 11, 25, 10, 1, tzinfo=UTC)
    assert (await jobs.digests.run_once()).sent == [testbot.users["alice"]]
