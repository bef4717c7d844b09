"""Snoozing a reminder to the time it is already due: said so, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, Reminder
from tests.conftest import TestBot


@pytest.mark.parametrize("platform", ["console", "slack", "telegram"])
def test_snooze_to_the_same_time_writes_nothing(testbot: TestBot, platform: str) -> None:
    """`snooze #1 tomorrow` on a reminder due tomorrow 09:00: "already due at …", no write;
    another time still moves it."""
    testbot.platform = platform
    testbot("alice", "remind me tomorrow call Dana")
    (due,) = testbot.query(select(Reminder.due_at))
    entries = testbot.count(AuditEntry)
    same = testbot("alice", "snooze #1 tomorrow 9:00")
    assert same.status == "error", same.text
    assert same.text.startswith("Reminder #1 is already due at 2026-11-24 09:00 (UTC)")
    assert "`snooze #1 1h`" in same.text
    assert testbot.count(AuditEntry) == entries
    assert testbot.query(select(Reminder.due_at)) == [due]
    moved = testbot("alice", "snooze #1 tomorrow 10:00")
    assert moved.status == "ok" and "to 2026-11-24 10:00" in moved.text, moved.text
    assert testbot.count(AuditEntry) == entries + 1


def test_snooze_same_time_in_traditional_chinese(testbot: TestBot) -> None:
    """wei (zh-Hant, Taipei) `推遲 #1 明天` on a reminder due tomorrow 09:00: in her script."""
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("wei", "提醒 我 明天 打電話")
    reply = testbot("wei", "推遲 #1 明天")
    assert reply.status == "error", reply.text
    assert reply.text.startswith("提醒 #1 本來就在 2026-11-24 09:00 (Asia/Taipei)，沒有改動")
