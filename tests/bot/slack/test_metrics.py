"""`GET /metrics` on the server `crmbot serve` runs for Slack: commands sent through the real
endpoint are counted by verb, outcome and adapter; the queues are read from the database."""

from __future__ import annotations

from datetime import timedelta

from crm_core.db import unit_of_work
from crm_core.models import DigestLog, IndexOutbox, Reminder, ReminderStatus
from tests.bot.slack.conftest import SlackHarness
from tests.bot.test_metrics import samples, scrape, value
from tests.conftest import FakeClock, TestBot


async def test_slack_commands_are_counted_by_verb_outcome_and_adapter(
    slack: SlackHarness, testbot: TestBot
) -> None:
    """Commands through the real Slack endpoint show up on /metrics of the same server."""
    assert "Created Metric Co" in (await slack.ask("new customer Metric Co"))["text"]
    await slack.ask("customer Metric Co")
    await slack.ask("frobnicate the thing")
    found = samples(await scrape(slack.port))
    assert value(found, "crmbot_commands_total", verb="new customer", outcome="ok") == 1
    assert value(found, "crmbot_commands_total", verb="customer", outcome="ok") == 1
    assert value(found, "crmbot_commands_total", verb="unknown", outcome="error") == 1
    assert value(found, "crmbot_command_seconds_count", adapter="slack") == 3
    assert value(found, "crmbot_command_seconds_bucket", adapter="slack", le="+Inf") == 3
    assert value(found, "crmbot_command_seconds_sum", adapter="slack") > 0
    # The queues are read from the database at the scrape.
    assert value(found, "crmbot_note_outbox_depth") == testbot.count(IndexOutbox)
    assert value(found, "crmbot_reminders_due") == 0


async def test_queues_index_lag_and_failed_sends_come_from_the_database(
    slack: SlackHarness, testbot: TestBot, clock: FakeClock
) -> None:
    """A note waiting to be indexed, a reminder overdue, a digest retrying, one that failed."""
    await slack.ask("new customer Queue Co")
    await slack.ask("log call Queue Co: talked pricing")
    await slack.ask("remind me in 1 hour call Dana")
    # The gauges are read as of the dispatcher's clock.
    now = clock()
    with unit_of_work(testbot.session_factory) as s:
        s.query(IndexOutbox).update({IndexOutbox.created_at: now - timedelta(minutes=5)})
        s.query(Reminder).update({Reminder.due_at: now - timedelta(minutes=1)})
        s.add(DigestLog(user_id=testbot.users["alice"], local_date=now.date(), status="retry"))
        s.add(DigestLog(user_id=testbot.users["bob"], local_date=now.date(), status="failed"))
    found = samples(await scrape(slack.port))
    assert value(found, "crmbot_note_outbox_depth") == testbot.count(IndexOutbox) >= 1
    assert 300 <= value(found, "crmbot_index_lag_seconds") < 400
    assert value(found, "crmbot_reminders_due") == 1
    assert value(found, "crmbot_deliveries_pending", kind="digest") == 1
    assert value(found, "crmbot_deliveries_failed", kind="digest") == 1
    with unit_of_work(testbot.session_factory) as s:
        s.query(Reminder).update({Reminder.status: ReminderStatus.failed})
    found = samples(await scrape(slack.port))
    assert value(found, "crmbot_reminders_due") == 0
    assert value(found, "crmbot_deliveries_failed", kind="reminder") == 1
