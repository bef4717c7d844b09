"""An open deal's expected close typed in the past: refused with a day to type, nothing written."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, Deal
from tests.conftest import FakeClock, TestBot

# The test clock's today is 2026-11-23 (tests/conftest.py START).


@pytest.mark.parametrize("platform", ["console", "slack", "telegram"])
def test_new_deal_with_a_past_close_is_refused(testbot: TestBot, platform: str) -> None:
    """`close 2026-01-01` in November 2026: the wrong year, most likely; 2027-01-01 offered."""
    testbot.platform = platform
    testbot("alice", "new customer Acme")
    entries = testbot.count(AuditEntry)
    reply = testbot("alice", "new deal Acme: Old order 1k close 2026-01-01")
    assert reply.status == "error", reply.text
    assert reply.text.startswith("The expected close 2026-01-01 is already past")
    assert "`close 2027-01-01`" in reply.text
    assert (testbot.count(Deal), testbot.count(AuditEntry)) == (0, entries)
    assert testbot("alice", "new deal Acme: Old order 1k close 2026-11-23").status == "ok"


def test_edit_close_to_the_past(testbot: TestBot, clock: FakeClock) -> None:
    """`edit deal #1: close yesterday` on an open deal: refused, today offered; the day the
    deal already has may be sent back (as its form does); a won deal's close may be any day."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 10k close 2026-12-15")
    reply = testbot("alice", "edit deal #1: close yesterday")
    assert reply.status == "error" and "`close 2026-11-23`" in reply.text, reply.text
    assert testbot.query(select(Deal.expected_close)) == [date(2026, 12, 15)]
    assert testbot("alice", "edit deal #1: close 2026-12-20").status == "ok"
    # The clock moves past the close: the overdue deal's own day still goes through an edit.
    clock.advance(days=40)
    kept = testbot("alice", "edit deal #1: close 2026-12-20, title Fleet renewal")
    assert kept.status == "ok", kept.text
    testbot("alice", "move #1 to won")
    assert testbot("bob", "edit deal #1: close 2026-10-01").status == "ok"


def test_traditional_chinese_refusal(testbot: TestBot) -> None:
    """wei (zh-Hant) gets the refusal in her script, with 預計成交 to type."""
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("wei", "新客戶 台灣精密")
    reply = testbot("wei", "新商機 台灣精密：設備 5萬 預計成交 2026-01-01")
    assert reply.status == "error", reply.text
    assert "預計成交日 2026-01-01 已經過去" in reply.text and "`預計成交 2027-01-01`" in reply.text
