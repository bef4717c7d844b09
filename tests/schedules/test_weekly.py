"""The weekly manager report: Monday morning local time, once per manager, week and target."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.bootstrap import App
from bot.scheduling import scheduler_component
from crm_core.models import Deal, WeeklyReportLog
from handlers.notify import DeliveryFailed
from tests.conftest import FakeClock, TestBot
from tests.crm_core.test_analytics import load_book
from tests.schedules.conftest import FakeNotifier


async def test_a_manager_gets_last_weeks_report_once(
    testbot: TestBot, crm_app: App, clock: FakeClock
) -> None:
    """START is Monday 2026-11-23 15:00 UTC: Bob (UTC) is due; reps never are."""
    load_book(testbot.session_factory)
    notifier = FakeNotifier()
    weekly = scheduler_component(crm_app, [notifier], clock=clock).jobs.weekly
    assert weekly is not None
    stats = await weekly.run_once()
    assert stats.sent == [(testbot.users["bob"], "dm")]
    ((address, reply),) = notifier.sent
    assert address.target == "bob"
    assert reply.title == "Weekly report: 2026-11-16 – 2026-11-22"
    sections = {s.title: s.lines for s in reply.sections}
    # Bob's team only: Alice's two calls and visit, Carol's meeting, Alice's move of o1.
    assert sections["Activity"] == [
        "Alice: call 2 · visit 1 · 1 moved · 0 won · 0 lost",
        "Bob: nothing logged · 0 moved · 0 won · 0 lost",
        "Carol: meeting 1 · 0 moved · 0 won · 0 lost",
    ]
    (o1,) = testbot.query(select(Deal.id).where(Deal.external_id == "o1"))
    assert sections["Deals moved"] == [f"#{o1} Deal o1 · Acme · lead → proposal · 4,000 USD"]
    fields = {f.label: f.value for f in reply.fields}
    assert fields["Forecast 2026-Q4"] == (
        "won 5,000 USD · commit 11,800 USD · best case 15,800 USD · pipeline 15,800 USD"
    )
    # Claimed: the same worker, or another one, sends nothing more this Monday.
    assert (await weekly.run_once()).sent == []
    other = scheduler_component(crm_app, [FakeNotifier()], clock=clock).jobs.weekly
    assert other is not None and (await other.run_once()).sent == []
    clock.advance(days=1)
    assert (await weekly.run_once()).sent == []
    assert testbot.rows(select(WeeklyReportLog.status, WeeklyReportLog.attempts)) == [("sent", 1)]


async def test_monday_morning_in_the_managers_zone_and_the_team_channel(
    testbot: TestBot, crm_app: App, clock: FakeClock
) -> None:
    testbot.add_user("mei", role="manager", team="Asia", timezone="Asia/Shanghai", locale="zh")
    crm_app.settings.alert_slack_channel = "C0TEAM"
    crm_app.settings.weekly_to_channels = True
    console, slack = FakeNotifier(), FakeNotifier("slack")
    weekly = scheduler_component(crm_app, [console, slack], clock=clock).jobs.weekly
    assert weekly is not None
    # Sunday 23:00 UTC is Monday 07:00 in Shanghai: before the report time.
    clock.now = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert [u for u, _ in (await weekly.run_once()).sent] == []
    # Monday 09:00 in Shanghai; in London it is still Monday 01:00 (too early for Bob).
    clock.now = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    console.failures.append(DeliveryFailed("flood", retryable=True))
    stats = await weekly.run_once()
    assert (stats.sent, stats.retried) == ([(testbot.users["mei"], "slack:C0TEAM")], 1)
    ((address, posted),) = slack.sent
    assert (address.target, address.channel) == ("C0TEAM", True)
    assert posted.title == "周报：2026-11-23 – 2026-11-29"
    # The failed direct message is retried on the next tick, once.
    stats = await weekly.run_once()
    assert stats.sent == [(testbot.users["mei"], "dm")]
    assert (await weekly.run_once()).sent == []


async def test_a_two_currency_team_sees_every_currencys_wins(
    testbot: TestBot, crm_app: App, clock: FakeClock
) -> None:
    """A Taipei+Hong Kong team (NT$ and HK$ deals): the Monday report counts the HK$ win and
    shows each currency's won value and forecast, never "won 0 · NT$0" above a HK$ win."""
    testbot.add_user("ming", role="manager", team="台港", locale="zh-Hant", timezone="Asia/Taipei")
    testbot.add_user("ling", team="台港", locale="zh-Hant", timezone="Asia/Taipei")
    testbot.add_user("fai", team="台港", locale="zh-Hant", timezone="Asia/Hong_Kong")
    clock.now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    testbot("ling", "新客戶 北投溫泉會館")
    testbot("ling", "新商機 北投溫泉會館：三期工程 45萬 TWD 預計成交 2026-12-20")
    testbot("ling", "新商機 北投溫泉會館：毛巾 5萬 TWD 預計成交 2026-12-22")
    testbot("ling", "新商機 北投溫泉會館：備品 8萬 TWD 預計成交 2027-02-10")
    testbot("fai", "新客戶 海港茶餐廳")
    testbot("fai", "新商機 海港茶餐廳：凍櫃 12萬 HKD 預計成交 2026-12-18")
    testbot("fai", "新商機 海港茶餐廳：爐具 3萬 HKD 預計成交 2026-12-19")
    assert testbot("fai", "推進 凍櫃 到 贏單").status == "ok"
    assert testbot("ling", "推進 毛巾 到 輸單：預算不足").status == "ok"
    # Monday 09:00 in Taipei; the team's book is mostly NT$, so NT$ comes first.
    clock.now = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    notifier = FakeNotifier()
    weekly = scheduler_component(crm_app, [notifier], clock=clock).jobs.weekly
    assert weekly is not None
    await weekly.run_once()
    (reply,) = [r for a, r in notifier.sent if a.target == "ming"]
    fields = {f.label: f.value for f in reply.fields}
    assert (fields["贏單"], fields["丟單"]) == ("1", "1"), fields
    assert fields["贏單金額"] == "NT$0 · HK$120,000", fields
    assert fields["預測 2026-Q4 · TWD"].endswith("管道 NT$450,000"), fields
    assert fields["預測 2026-Q4 · HKD"].startswith("已成交 HK$120,000"), fields
    closed = {s.title: s.lines for s in reply.sections}["贏單和丟單"]
    assert any(line.startswith("Fai：贏單 1") and "HK$120,000" in line for line in closed), closed
