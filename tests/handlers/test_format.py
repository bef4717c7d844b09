"""Money and days per reader: Babel's signs and names, yuan in 万, English left as it was."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from handlers import format as fmt
from handlers.i18n import Translator
from tests.conftest import TestBot


@pytest.mark.parametrize(
    ("locale", "amount", "currency", "shown"),
    [
        ("en", "48000", "USD", "48,000 USD"),
        ("en", "1234.5", "EUR", "1,234.50 EUR"),
        ("zh", "500000", "CNY", "50万元"),
        ("zh", "48000", "CNY", "4.8万元"),
        ("zh", "300000000", "CNY", "3亿元"),
        ("zh", "1234.5", "CNY", "¥1,234.50"),
        ("zh", "9999", "CNY", "¥9,999"),
        ("zh", "48000", "USD", "US$48,000"),
        # In Taiwan 元 alone is NT$: yuan is written 人民幣 …元, and NT$ never as a bare $.
        ("zh-Hant", "500000", "CNY", "人民幣50萬元"),
        ("zh-Hant", "48000", "TWD", "NT$48,000"),
        ("zh-Hant", "48000", "USD", "US$48,000"),
    ],
)
def test_money(locale: str, amount: str, currency: str, shown: str) -> None:
    """`¥500,000` reads `50万元` to a Chinese reader; other currencies get their sign."""
    assert fmt.money(Decimal(amount), currency, Translator(locale)) == shown


def test_money_without_a_reader_is_the_neutral_form() -> None:
    """No reader (forms, audit values, files): `500,000 CNY`, which the amount parser reads."""
    assert fmt.money(Decimal("500000"), "CNY") == "500,000 CNY"
    assert fmt.money(None, "CNY", Translator("zh")) == "—"


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("en", "Tue 15 Dec"), ("zh", "12月15日 周二"), ("zh-Hant", "12月15日 週二")],
)
def test_short_day(locale: str, shown: str) -> None:
    """Days by Babel's names, whatever the process's C locale."""
    assert fmt.short_day(Translator(locale), date(2026, 12, 15)) == shown


def test_replies_use_the_readers_format_and_json_does_not(testbot: TestBot) -> None:
    """A Chinese deal reply says 50万元; the same reply as JSON keeps the amount's own figures."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 华东物流")
    made = testbot("wei", "新商机 华东物流：仓储系统 50万 元")
    assert "50万元" in made.text
    assert "50万元" in testbot("wei", "商机").items[0]
    english = testbot("alice", "new customer Acme")
    assert english.status == "ok"
    testbot("alice", "new deal Acme: Fleet 48000 USD")
    assert "48,000 USD" in testbot("alice", "deals").items[0]
    pipeline = testbot("wei", "管道")
    assert any("50万元" in f.value for f in pipeline.fields)
