"""A Taiwan / Hong Kong field team writing Traditional Chinese (review rev13)."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Quota
from tests.conftest import TestBot


def _team(testbot: TestBot) -> None:
    """ming manages a Taipei rep (ling) and a Hong Kong rep (fai), all reading zh-Hant."""
    testbot.add_user("ming", role="manager", team="台港", locale="zh-Hant", timezone="Asia/Taipei")
    testbot.add_user("ling", team="台港", locale="zh-Hant", timezone="Asia/Taipei")
    testbot.add_user("fai", team="台港", locale="zh-Hant", timezone="Asia/Hong_Kong")


def test_quota_in_yuan_is_the_persons_yuan(testbot: TestBot) -> None:
    """`配額 @ling 2027-Q2 250萬 元`: NT$ for a Taipei rep, HK$ for a Hong Kong one (as 元 in a
    new deal), CNY only when 人民幣 is said."""
    _team(testbot)
    reply = testbot("ming", "配額 @ling 2027-Q2 250萬 元")
    assert reply.status == "ok", reply.text
    assert "NT$2,500,000" in reply.text, reply.text
    assert testbot("ming", "配額 @fai 2027-Q2 120萬 元").status == "ok"
    assert testbot("ming", "配額 @ling 2027-Q3 80萬 人民幣").status == "ok"
    got = testbot.rows(select(Quota.user_id, Quota.amount, Quota.currency).order_by(Quota.id))
    assert [(u, int(a), c) for u, a, c in got] == [
        (testbot.users["ling"], 2_500_000, "TWD"),
        (testbot.users["fai"], 1_200_000, "HKD"),
        (testbot.users["ling"], 800_000, "CNY"),
    ]
