"""Reminder texts that hold daily/weekly/monthly, and a time already past refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import Reminder
from tests.conftest import TestBot


@pytest.mark.parametrize(
    ("line", "text", "repeats"),
    [
        ("remind me tomorrow 9am weekly plan", "weekly plan", None),
        ("remind me friday 5pm monthly report", "monthly report", None),
        ("remind me tomorrow 9am daily standup notes", "daily standup notes", None),
        ("remind me every monday at 9am weekly plan", "weekly plan", "weekly"),
        ("remind me tomorrow 9am send the daily numbers", "send the daily numbers", None),
    ],
)
def test_schedule_words_inside_the_text_stay_text(
    testbot: TestBot, line: str, text: str, repeats: str | None
) -> None:
    """`monthly report` after the time is what to be reminded of, not a schedule."""
    reply = testbot("alice", line)
    assert reply.status == "ok", reply.text
    ((saved, rule),) = testbot.rows(select(Reminder.text, Reminder.recurrence))
    assert saved == text
    assert (rule or "").startswith(repeats or "") and bool(rule) == bool(repeats), rule


@pytest.mark.parametrize("line", ["remind me yesterday 9am call back", "remind me weekly"])
def test_a_past_or_unoffered_time_sets_nothing(testbot: TestBot, line: str) -> None:
    """`yesterday 9am` is refused as past (not set for tomorrow); `weekly` alone still refused."""
    reply = testbot("alice", line)
    assert reply.status == "error", reply.text
    assert testbot.count(Reminder) == 0
    if "yesterday" in line:
        assert "already passed" in reply.text, reply.text
