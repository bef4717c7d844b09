"""元 as the reader means it (NT$ for a Taiwan rep), and NT$ shown as NT$ to Traditional readers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_core.models import Deal
from handlers import format as fmt
from handlers.i18n import Translator
from tests.conftest import TestBot


def _deals(testbot: TestBot) -> list[tuple[object, ...]]:
    return testbot.rows(select(Deal.title, Deal.amount, Deal.currency).order_by(Deal.id))


@pytest.mark.parametrize("platform", ["console", "slack", "telegram"])
def test_taiwan_rep_yuan_is_ntd(testbot: TestBot, platform: str) -> None:
    """wei (zh-Hant, Taipei): `50萬 元` is NT$500,000, shown as NT$; 人民幣 says yuan."""
    testbot.platform = platform
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("wei", "新客戶 台灣精密")
    made = testbot("wei", "新商機 台灣精密：乙案 50萬 元")
    assert made.status == "ok", made.text
    assert "NT$500,000" in made.text
    testbot("wei", "新商機 台灣精密：丁案 50萬 人民幣")
    assert _deals(testbot) == [
        ("乙案", Decimal("500000.00"), "TWD"),
        ("丁案", Decimal("500000.00"), "CNY"),
    ]
    listed = testbot("wei", "商機 台灣精密")
    assert any("NT$500,000" in line for line in listed.items), listed.items
    # Yuan to a Taiwan reader is written 人民幣 …萬元, never a bare 萬元 that reads as NT$.
    assert any("人民幣50萬元" in line for line in listed.items), listed.items
    edit = testbot("wei", "修改商機 #1：金額 60萬 元")
    assert edit.status == "ok", edit.text
    assert _deals(testbot)[0] == ("乙案", Decimal("600000.00"), "TWD")
    assert edit.fields[0].value == "NT$500,000 → NT$600,000"


def test_yuan_elsewhere(testbot: TestBot) -> None:
    """A Shanghai rep's 元 stays yuan; a Traditional reader with no zone of their own gets NT$;
    an English rep in New York typing 元 means yuan."""
    testbot.add_user("li", locale="zh", timezone="Asia/Shanghai")
    testbot.add_user("mei", locale="zh-Hant", timezone="UTC")
    testbot("li", "新客户 华东物流")
    testbot("li", "新商机 华东物流：仓储 50万 元")
    testbot("mei", "新客戶 台北商行")
    testbot("mei", "新商機 台北商行：租賃 3萬 元")
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Shanghai office 50万 元")
    assert [c for *_, c in _deals(testbot)] == ["CNY", "TWD", "CNY"]


def test_money_for_traditional_readers() -> None:
    """NT$ for TWD (Babel's zh_Hant_TW writes a bare $), US$ stays US$; Simplified unchanged."""
    hant, zh, en = Translator("zh-Hant"), Translator("zh"), Translator("en")
    assert fmt.money(Decimal(50000), "TWD", hant) == "NT$50,000"
    assert fmt.money(Decimal(50000), "USD", hant) == "US$50,000"
    assert fmt.money(Decimal(500000), "CNY", hant) == "人民幣50萬元"
    assert fmt.money(Decimal(500000), "CNY", zh) == "50万元"
    assert fmt.money(Decimal(50000), "TWD", zh) == "NT$50,000"
    assert fmt.money(Decimal(50000), "TWD", en) == "50,000 TWD"
