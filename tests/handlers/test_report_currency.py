"""Reports in the reader's money: a Taipei rep's forecast in NT$, not the configured default."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import Quota
from tests.conftest import TestBot


def _taipei_book(testbot: TestBot) -> None:
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("wei", "新客戶 台灣精密")
    testbot("wei", "新商機 台灣精密：設備採購 30萬 TWD 預計成交 2026-12-20")
    testbot("wei", "新商機 台灣精密：維修合約 10萬 TWD 預計成交 2026-12-10")
    testbot("wei", "推進 維修合約 到 贏單")
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 10k")
    testbot("alice", "move Fleet to won")


@pytest.mark.parametrize("platform", ["console", "slack", "telegram"])
def test_reports_default_to_the_readers_book_currency(testbot: TestBot, platform: str) -> None:
    """wei's deals are NT$: her forecast and win rate come in TWD; alice's stay USD; `in USD`
    still asks for another; the team's manager gets the team's most used currency."""
    _taipei_book(testbot)
    testbot.platform = platform
    forecast = testbot("wei", "預測")
    assert forecast.title is not None and forecast.title.endswith("TWD"), forecast.title
    won = testbot("wei", "報表 贏單率 本季度")
    assert won.title is not None and won.title.endswith("TWD"), won.title
    assert any(f.value == "NT$100,000" for f in won.fields), won.fields
    assert testbot("alice", "report win rate this quarter").title.endswith("USD")
    asked = testbot("wei", "報表 贏單率 本季度 in USD")
    assert asked.title is not None and asked.title.endswith("USD")
    # bob's team: two NT$ deals, one US$ deal.
    assert testbot("bob", "report win rate this quarter").title.endswith("TWD")


def test_quota_without_currency_is_in_the_persons_money(testbot: TestBot) -> None:
    """`quota @wei 2026-Q4 100萬`: NT$1,000,000, the money of wei's book, not the default."""
    _taipei_book(testbot)
    reply = testbot("bob", "quota @wei 2026-Q4 100萬")
    assert reply.status == "ok", reply.text
    assert testbot.query(select(Quota.currency)) == ["TWD"]


def test_singular_counts_in_the_cycle_report(testbot: TestBot) -> None:
    """`report cycle` with one won deal says "(1 deal)" and "(1 move out)", not "1 deals"."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 10k")
    testbot("alice", "move Fleet to won")
    reply = testbot("alice", "report cycle")
    text = " ".join(
        [f.value for f in reply.fields] + [i for s in reply.sections for i in s.lines] + reply.items
    )
    assert "(1 deal)" in text and "(1 move out)" in text, text
    assert "(0 deals)" in text and "1 deals" not in text and "1 moves" not in text
