"""A deal on an archived customer: every way of asking says it is archived and how to restore it."""

from __future__ import annotations

import pytest

from crm_core.models import AuditEntry, Deal
from tests.conftest import TestBot

ARCHIVED = "Zeta is archived: type `unarchive #1` first, then try again."


@pytest.mark.parametrize("platform", ["console", "slack", "telegram"])
def test_new_deal_on_an_archived_customer(testbot: TestBot, platform: str) -> None:
    """Typed, by number, misspelt and said loosely: the same answer, and nothing written."""
    testbot.platform = platform
    testbot("alice", "new customer Zeta")
    testbot("alice", "new deal Zeta: Old order 5k")
    testbot("alice", "archive Zeta confirm")
    deals, entries = testbot.count(Deal), testbot.count(AuditEntry)
    for line in (
        "new deal Zeta: Big order 5000",
        "new deal #1: Big order 5000",
        "open a deal for Zeta, big order 5k",
        "deal #1",
        "move #1 to won",
    ):
        reply = testbot("alice", line)
        assert (reply.status, reply.text) == ("error", ARCHIVED), line
    assert (testbot.count(Deal), testbot.count(AuditEntry)) == (deals, entries)
    # Another book's deal by number still reads as missing, not as archived.
    hidden = testbot("dave", "deal #1")
    assert hidden.status == "error" and "archived" not in hidden.text


def test_traditional_confirm_word_archives(testbot: TestBot) -> None:
    """`歸檔 華東物流 確認`: the Confirm label as a zh-Hant reader sees it, typed back."""
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("wei", "新客戶 華東物流")
    reply = testbot("wei", "歸檔 華東物流 確認")
    assert reply.status == "ok", reply.text
    made = testbot("wei", "新商機 華東物流：倉儲 5萬")
    assert made.status == "error" and "取消歸檔 #1" in made.text, made.text
