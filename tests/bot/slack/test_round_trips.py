"""Database connections a Slack command takes: one unit of work for the sender and the verb."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.bot.slack.conftest import SlackHarness
from tests.handlers.test_round_trips import counting


async def test_a_slash_command_takes_one_connection(slack: SlackHarness, engine: Engine) -> None:
    """Identifying the sender, running the verb and its delivery claim share one checkout, for
    a read, a write, a refused command and one whose reply carries buttons."""
    assert "Created" in (await slack.ask("new customer Acme Logistics"))["text"]
    await slack.ask("customer Acme")  # the name index loaded
    for line, expect in (
        ("customer Acme", "Acme Logistics"),
        ("log call Acme: asked for a quote", "Logged the call"),
        ("customer Nowhere Corp", "Nowhere"),
        ("find Acme", "matching"),
    ):
        with counting(engine) as seen:
            answer = await slack.ask(line)
        assert expect in answer["text"], (line, answer["text"])
        assert seen["checkouts"] == 1, (line, seen)
