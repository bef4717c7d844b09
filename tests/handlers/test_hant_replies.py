"""zh-Hant users: last week's days in a log, `language auto` on script-neutral Chinese, replies
with no English or Simplified words in them, and group words quoted back."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm_core.models import Interaction
from crm_core.text import simplified_only
from tests.conftest import TestBot

TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.fixture
def wei(testbot: TestBot) -> TestBot:
    """wei, a Taiwan rep (zh-Hant, Asia/Taipei), with 台灣精密; the clock is Mon 23:00 there."""
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("wei", "新客戶 台灣精密 城市 台中")
    return testbot


@pytest.mark.parametrize(
    ("said", "day", "hour"),
    [
        ("上週五", 20, 23),
        ("上周五", 20, 23),
        ("上個星期五", 20, 23),
        ("上週五下午3點", 20, 15),
        ("週五", 20, 23),
        ("這週一 上午9點", 23, 9),
    ],
)
def test_last_weeks_day_is_read_in_a_log(wei: TestBot, said: str, day: int, hour: int) -> None:
    """`記錄 電話 台灣精密，上週五：…` is logged on last Friday (as `last friday` is)."""
    logged = wei("wei", f"記錄 電話 台灣精密，{said}：補記")
    assert logged.status == "ok", logged.text
    at = wei.query(select(Interaction.occurred_at))[0]
    local = (at.replace(tzinfo=UTC) if at.tzinfo is None else at).astimezone(TAIPEI)
    assert (local.month, local.day, local.hour) == (11, day, hour)


def test_language_auto_answers_script_neutral_chinese_in_the_persons_script(
    wei: TestBot,
) -> None:
    """管道, 提醒 and 摘要 are the same in both scripts: wei (zh-Hant) reads them in Traditional."""
    wei("wei", "language auto")
    for line in ("管道", "商機", "幫助 提醒"):
        reply = wei("wei", line)
        shown = " ".join([reply.text or "", reply.title or "", *reply.items])
        assert not simplified_only(shown), (line, shown)
    # Simplified typed is still answered in Simplified.
    assert "销售管道" in (wei("wei", "销售管道").title or "")
    wei.add_user("li", locale="zh")
    wei("li", "language auto")
    assert "销售管道" in (wei("li", "管道").title or "")


def test_ticket_states_forecast_card_and_echoed_names_read_traditional(wei: TestBot) -> None:
    """No `resolved`, no `forecast`/`category`, and 台灣 is not echoed as 台湾."""
    wei("wei", "新商機 台灣精密：設備採購 30萬 TWD 預計成交 2027-03-31")
    wei("wei", "工單 台灣精密：機台異音")
    wei("wei", "解決 #1：換零件")
    for line in ("解決 #1：換零件", "等待客戶 #1"):
        refused = wei("wei", line)
        assert refused.status == "error"
        assert "resolved" not in refused.text and "已解決" in refused.text, refused.text
    card = wei("wei", "台灣精密的設備採購 預測放 best case")
    assert card.status == "confirm", card.text
    assert "forecast" not in (card.title or ""), card.title
    assert [f.label for f in card.fields if f.label == "category"] == []
    tier = wei("wei", "等級 台灣精密")
    assert "台灣精密" in tier.text and not simplified_only(tier.text), tier.text


@pytest.mark.parametrize(
    ("line", "quoted"),
    [
        ("報表 贏單率 按 顏色", "「顏色」"),
        ("報表 贏單率 按顏色", "「顏色」"),
        ("report win rate by", ""),
    ],
)
def test_the_group_word_after_by_is_quoted(wei: TestBot, line: str, quoted: str) -> None:
    """`按 顏色` (a space after 按) names 顏色 in the refusal, not an empty 「」."""
    refused = wei("wei" if not line.isascii() else "alice", line)
    assert refused.status == "error"
    assert "「」" not in refused.text
    assert quoted in refused.text


def test_a_report_that_is_not_grouped_is_named_in_chinese(wei: TestBot) -> None:
    """`報表 漏斗 按 團隊` says 漏斗, not funnel."""
    refused = wei("wei", "報表 漏斗 按 團隊")
    assert refused.status == "error" and "funnel" not in refused.text, refused.text
    assert "`報表 漏斗`" in refused.text and "不分組" in refused.text, refused.text
