"""A Taiwan / Hong Kong field team writing Traditional Chinese (review rev13)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from crm_core.models import Deal, Quota
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


def test_chinese_reminder_verbs_on_a_reminder_not_yours(testbot: TestBot) -> None:
    """`完成 #7` / `推遲 #7 後天` / `取消提醒 #7` for a reminder that is missing or another
    rep's answer the same error as `done #7`, never a confirm card promising the write."""
    _team(testbot)
    assert testbot("fai", "提醒我 後天下午3點 回覆Harbour報價").status == "ok"
    english = testbot("ling", "done #1")
    assert english.status == "error"
    for line in ("完成 #1", "推遲 #1 後天", "推迟 #1 明天上午10点", "取消提醒 #1", "完成 #42"):
        reply = testbot("ling", line)
        assert reply.status == "error", (line, reply.status, reply.text)
        assert not reply.buttons, line
        assert "提醒列表" in reply.text, reply.text
    assert testbot("fai", "提醒列表").items, "fai's reminder is untouched"


def test_hong_kong_dollar_sign_and_currency_words_before_the_amount(testbot: TestBot) -> None:
    """`HK$12萬` and `HK$120,000` are HKD, `新台幣 45萬` and `港幣 3萬` before the amount are
    the currency, never words of the title."""
    _team(testbot)
    testbot("fai", "新客戶 海港茶餐廳")
    testbot("ling", "新客戶 北投溫泉會館")
    lines = [
        ("fai", "新商機 海港茶餐廳：凍櫃 HK$12萬", "凍櫃", 120_000, "HKD"),
        ("fai", "新商機 海港茶餐廳：爐具 HK$120,000", "爐具", 120_000, "HKD"),
        ("fai", "新商機 海港茶餐廳：餐具 港幣 3萬", "餐具", 30_000, "HKD"),
        ("ling", "新商機 北投溫泉會館：三期工程 新台幣 45萬", "三期工程", 450_000, "TWD"),
        ("ling", "新商機 北投溫泉會館：備品 US$2,000", "備品", 2_000, "USD"),
    ]
    for who, line, *_ in lines:
        reply = testbot(who, line)
        assert reply.status == "ok", (line, reply.text)
    got = testbot.rows(select(Deal.title, Deal.amount, Deal.currency).order_by(Deal.id))
    assert [(t, int(a), c) for t, a, c in got] == [tuple(row[2:]) for row in lines]


def test_lost_in_the_bots_own_word_and_unknown_stages_quoted_as_typed(testbot: TestBot) -> None:
    """`推進 … 到 丟單：…` (the reports' word for lost) is the lost stage; an unknown stage is
    quoted back as typed (「議價」), not in Simplified (「议价」)."""
    _team(testbot)
    testbot("ling", "新客戶 宏達五金")
    testbot("ling", "新商機 宏達五金：螺絲年約 60萬")
    testbot("ling", "新商機 宏達五金：工具車 12萬")
    refused = testbot("ling", "推進 螺絲年約 到 議價")
    assert refused.status == "error"
    assert "「議價」" in refused.text and "议价" not in refused.text, refused.text
    lost = testbot("ling", "推進 螺絲年約 到 丟單：對手便宜兩成")
    assert lost.status == "ok", lost.text
    assert "輸單" in lost.text, lost.text
    assert testbot("ling", "推进 工具车 到 丢单：预算砍了").status == "ok"
    got = testbot.rows(select(Deal.title, Deal.stage, Deal.lost_reason).order_by(Deal.id))
    assert got == [("螺絲年約", "lost", "對手便宜兩成"), ("工具車", "lost", "预算砍了")]


def test_taiwan_words_are_understood_and_used(testbot: TestBot) -> None:
    """職稱 / 信箱 name a contact's fields, 行銷活動列表 and 客戶清單 are verbs; zh-Hant
    messages say 使用者名稱, 聯絡人, 行銷活動 (not 用戶名, 聯繫人, 營銷活動)."""
    _team(testbot)
    testbot("ling", "新客戶 宏達五金")
    assert testbot("ling", "新增聯絡人 宏達五金：張志豪，採購經理").status == "ok"
    titled = testbot("ling", "修改聯絡人 張志豪: 職稱 採購協理")
    assert titled.status == "ok" and "採購協理" in " ".join(f.value for f in titled.fields)
    mailed = testbot("ling", "修改聯絡人 張志豪: 信箱 zhang@hongda.example.tw")
    assert mailed.status == "ok", mailed.text
    listed = testbot("ling", "客戶清單")
    assert listed.status == "ok" and any("宏達五金" in i for i in listed.items), listed.items
    campaigns = testbot("ming", "行銷活動列表")
    assert campaigns.status != "error", campaigns.text
    assert "營銷" not in campaigns.text and "行銷活動" in campaigns.text, campaigns.text
    admin_only = testbot("ling", "link-code @fai")
    assert "用戶名" not in admin_only.text, admin_only.text


def test_this_quarter_and_month_end_as_taiwan_and_hong_kong_say_them(testbot: TestBot) -> None:
    """`贏單率 本季` / `預測 下季` are periods; `預計成交 下個月尾` is next month's last day."""
    _team(testbot)
    testbot("fai", "新客戶 海港茶餐廳")
    testbot("fai", "新商機 海港茶餐廳：凍櫃 HK$12萬")
    this = testbot("ming", "贏單率 本季")
    assert this.status == "ok" and this.title is not None and "2026-Q4" in this.title, this.text
    ahead = testbot("ming", "預測 下季")
    assert ahead.status == "ok" and ahead.title is not None and "2027-Q1" in ahead.title
    moved = testbot("fai", "修改商機 凍櫃: 預計成交 下個月尾")
    assert moved.status == "ok", moved.text
    assert testbot.query(select(Deal.expected_close)) == [date(2026, 12, 31)]


def test_deal_choice_buttons_name_the_stage_in_the_readers_words(testbot: TestBot) -> None:
    """`推進 凍 到 談判` with two matching deals: the buttons say (線索), not (lead)."""
    _team(testbot)
    testbot("fai", "新客戶 海港茶餐廳")
    testbot("fai", "新商機 海港茶餐廳：凍櫃 HK$12萬")
    testbot("fai", "新商機 海港茶餐廳：凍肉櫃 HK$8萬")
    reply = testbot("fai", "推進 凍 到 談判")
    labels = [b.label for b in reply.buttons]
    assert len(labels) == 2 and all(label.endswith("(線索)") for label in labels), labels


def test_loose_cards_show_money_as_the_reader_reads_it(testbot: TestBot) -> None:
    """A loose new-deal or amount-change card says HK$ / NT$, as the deal card does; the
    command it runs keeps the plain amount and code."""
    _team(testbot)
    testbot("fai", "新客戶 海港茶餐廳")
    testbot("fai", "新商機 海港茶餐廳：凍櫃 HK$12萬")
    card = testbot("fai", "海港茶餐廳開咗個新商機：洗碗機 8萬")
    assert card.status == "confirm", card.text
    amounts = [f.value for f in card.fields if f.label == "金額"]
    assert amounts == ["HK$80,000"], card.fields
    assert "80000 HKD" in card.text, card.text


def test_no_write_answer_names_the_verb_as_the_reader_types_it(testbot: TestBot) -> None:
    """A question about reminders answers `幫助 提醒` and a 幫助：提醒 button, not `remind`."""
    _team(testbot)
    reply = testbot("ling", "提醒可以設每個月一號嗎？怎麼用")
    assert reply.status == "info", reply.text
    assert "remind" not in reply.text and "提醒" in reply.text, reply.text
    assert [b.label for b in reply.buttons] == ["幫助：提醒"], reply.buttons
