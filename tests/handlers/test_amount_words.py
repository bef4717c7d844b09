"""Amounts as Taiwan, mainland and German reps write them, and money the reader cannot take
refused rather than written into a deal's title."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_core.models import Deal
from handlers.grammar import take_amount
from tests.conftest import TestBot


@pytest.mark.parametrize(
    ("typed", "amount", "currency"),
    [
        ("乙案 NT$50,000", Decimal(50_000), "TWD"),
        ("丙案 5萬 新台幣", Decimal(50_000), "TWD"),
        ("丙案 5万 台币", Decimal(50_000), "TWD"),
        ("丁案 1.5億 TWD", Decimal(150_000_000), "TWD"),
        ("戊案 3千 TWD", Decimal(3_000), "TWD"),
        ("B 1.5亿 CNY", Decimal(150_000_000), "CNY"),
        ("G 48.000 EUR", Decimal(48_000), "EUR"),
        ("G 1.234.567,50 EUR", Decimal("1234567.50"), "EUR"),
        ("E 48,000.50 EUR", Decimal("48000.50"), "EUR"),
        ("Fleet 48k", Decimal(48_000), None),
    ],
)
def test_amount_words(typed: str, amount: Decimal, currency: str | None) -> None:
    """千, 萬/万, 億/亿, NT$, 新台幣/台幣 and dots grouping thousands are read."""
    title, got, cur = take_amount(typed)
    assert (got, cur) == (amount, currency)
    assert title == typed.split()[0]


@pytest.mark.parametrize("tail", ["3百 TWD", "¥5百", "5千萬億"])
def test_money_that_is_not_read_is_refused(testbot: TestBot, tail: str) -> None:
    """A deal whose title would end in unread money is refused with how to write the amount."""
    testbot("alice", "new customer Acme")
    refused = testbot("alice", f"new deal Acme: Fleet {tail}")
    assert refused.status == "error", refused.text
    assert "48k" in refused.text and tail in refused.text
    assert testbot.count(Deal) == 0


def test_a_taiwan_rep_opens_deals_in_twd(testbot: TestBot) -> None:
    """The review's lines: amounts land in the amount, the title keeps only the title."""
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("wei", "新客戶 台灣精密")
    for line in ("乙案 NT$50,000", "丙案 5萬 新台幣", "丁案 1.5億 TWD", "戊案 3千 TWD"):
        assert testbot("wei", f"新商機 台灣精密：{line}").status == "ok", line
    assert testbot.rows(select(Deal.title, Deal.amount, Deal.currency).order_by(Deal.id)) == [
        ("乙案", Decimal(50_000), "TWD"),
        ("丙案", Decimal(50_000), "TWD"),
        ("丁案", Decimal(150_000_000), "TWD"),
        ("戊案", Decimal(3_000), "TWD"),
    ]
    # Titles that end in a number with no money word still open as before.
    assert testbot("wei", "新商機 台灣精密：二期").status == "ok"
    assert testbot("alice", "new customer Acme").status == "ok"
    assert testbot("alice", 'new deal Acme: "Phase 2"').status == "ok"
