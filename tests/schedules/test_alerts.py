"""Channel alerts: a deal won, lost or moved is posted once to the configured channel."""

from __future__ import annotations

from bot.bootstrap import App
from bot.scheduling import scheduler_component
from tests.conftest import FakeClock, TestBot
from tests.schedules.conftest import FakeNotifier


async def test_deal_moves_are_posted_once_to_the_team_channel(
    testbot: TestBot, crm_app: App, clock: FakeClock
) -> None:
    """Won and moved deals reach the Slack channel once; no channel means no job."""
    assert scheduler_component(crm_app, [FakeNotifier()], clock=clock).jobs.alerts is None
    crm_app.settings.alert_slack_channel = "C0TEAM"
    slack = FakeNotifier("slack")
    jobs = scheduler_component(crm_app, [slack, FakeNotifier()], clock=clock).jobs
    assert jobs.alerts is not None
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal 48000 USD")
    testbot("alice", "move Fleet renewal to proposal")
    testbot("alice", "move Fleet renewal to won")
    assert await jobs.alerts.run_once() == 2
    assert await jobs.alerts.run_once() == 0
    targets = {(a.platform, a.target, a.channel) for a, _ in slack.sent}
    assert targets == {("slack", "C0TEAM", True)}
    texts = [r.text for _, r in slack.sent]
    assert "moved Fleet renewal with Acme (48,000 USD): lead → proposal" in texts[0]
    assert texts[1].startswith("🎉 Alice won Fleet renewal")
