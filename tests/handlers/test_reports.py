"""Report verbs through the real dispatcher: text, Chinese, buttons, access and bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, Deal, Product
from tests.conftest import TestBot
from tests.crm_core.test_analytics import load_book


@pytest.fixture
def bot(testbot: TestBot) -> TestBot:
    """The testbot's people with the hand-made book of tests/crm_core/test_analytics.py."""
    load_book(testbot.session_factory)
    testbot.add_user("wei", role="admin", team=None, locale="zh", timezone="Asia/Shanghai")
    return testbot


def deal_id(bot: TestBot, ext: str) -> int:
    """A book deal's id."""
    (found,) = bot.query(select(Deal.id).where(Deal.external_id == ext))
    return int(found)


def test_win_rate_by_team_reads_as_the_numbers(bot: TestBot) -> None:
    reply = bot("admin", "report win rate by team")
    assert reply.status == "ok"
    assert reply.title == "Win rate · all deals · by team · all time · USD"
    assert reply.items == [
        "East: 3 won · 2 lost · 60.0% · won 6,000 USD",
        "West: 1 won · 1 lost · 50.0% · won 5,000 USD",
    ]
    assert [(f.label, f.value) for f in reply.fields] == [
        ("Won", "4"),
        ("Lost", "3"),
        ("Win rate", "57.1%"),
        ("Won value", "11,000 USD"),
    ]
    # The EUR deal is named, never added to the dollars.
    assert "1 EUR" in reply.text and "report win rate by team in EUR" in reply.text
    assert bot("admin", "win rate in EUR").fields[3].value == "9,999 EUR"


def test_chinese_report_with_group_and_period(bot: TestBot) -> None:
    reply = bot("wei", "报表 赢单率 按团队 本季度")
    assert reply.status == "ok", reply.text
    assert reply.title == "赢单率 · 全部商机 · 按团队 · 2026-Q4 · USD"
    # Q4: East won d3 d4, lost d5; West won d6, lost d7.
    assert reply.items == [
        "East：赢单 2 · 丢单 1 · 66.7% · 赢单金额 US$5,000",
        "West：赢单 1 · 丢单 1 · 50.0% · 赢单金额 US$5,000",
    ]
    assert bot("wei", "赢单率 按产品").items[0].startswith("Gadget：赢单 2")
    funnel = bot("wei", "漏斗")
    assert funnel.title == "销售漏斗 · 全部商机 · 全部时间 · USD"
    assert funnel.items[0].startswith("线索：到达 12 个")


def test_funnel_rows_offer_their_deals(bot: TestBot) -> None:
    reply = bot("admin", "report funnel")
    assert reply.items[1] == (
        "qualified: 10 reached (24,000 USD) → 7 went on · 70.0% conversion · 30.0% drop-off"
        " · 90.4% by value"
    )
    assert reply.items[-1] == "won: 4 (11,000 USD)"
    button = next(b for b in reply.buttons if b.label.startswith("negotiation"))
    listed = bot.press("admin", button)
    assert listed.title == "Deals that reached negotiation: 5"
    assert sorted(line.split(" ")[0] for line in listed.items) == sorted(
        f"#{deal_id(bot, ext)}" for ext in ("o2", "d1", "d3", "d4", "d6")
    )


def test_cycle_and_activity_replies(bot: TestBot) -> None:
    cycle = bot("admin", "report cycle")
    assert [(f.label, f.value) for f in cycle.fields] == [
        ("Won: days to close", "mean 18.8 · median 20.0 (4 deals)"),
        ("Lost: days to close", "mean 18.3 · median 20.0 (3 deals)"),
    ]
    assert cycle.sections[0].lines[0] == "lead: 10.7 days on average (7 moves out)"
    act = bot("bob", "report activity")
    assert act.title == "Activity · your team's deals · last 7 days"
    assert act.items == [
        "Alice (East): call 2 · visit 1 · 1 moved · 0 won · 0 lost",
        "Bob (East): nothing logged · 0 moved · 0 won · 0 lost",
        "Carol (East): meeting 1 · 0 moved · 0 won · 0 lost",
    ]
    # A win typed now shows in the week at once.
    assert bot("carol", "move Deal o3 to won").status == "ok"
    assert bot("bob", "report activity this week").items[2].endswith("0 moved · 1 won · 0 lost")


def test_forecast_and_setting_a_category(bot: TestBot) -> None:
    reply = bot("admin", "forecast")
    assert reply.title == "Forecast · all deals · 2026-Q4 · USD"
    assert [(f.label, f.value) for f in reply.fields] == [
        ("Closed (won)", "10,000 USD"),
        ("Commit", "16,800 USD"),
        ("Best case", "20,800 USD"),
        ("Pipeline", "20,800 USD"),
        ("Weighted", "6,580 USD"),
    ]
    assert reply.sections[0].title.startswith("Overdue: 1 open deal(s)")
    assert "1 open deal(s) have no expected close date" in reply.text
    o1 = deal_id(bot, "o1")
    done = bot("alice", f"forecast #{o1} commit")
    assert done.text == f"#{o1} Deal o1 is now forecast as Commit."
    (audit,) = bot.rows(
        select(AuditEntry.action, AuditEntry.changes).where(AuditEntry.action == "deal.forecast")
    )
    assert audit[1]["forecast_category"] == [None, "commit"]
    # o1 (4000) joins commit: 16,800 + 4,000.
    assert bot("admin", "forecast").fields[1].value == "20,800 USD"
    assert bot("wei", f"预测 #{o1} 自动").text.endswith("按阶段自动。")
    assert bot("admin", "forecast").fields[1].value == "16,800 USD"


def test_a_rep_sees_their_book_and_cannot_touch_another(bot: TestBot) -> None:
    assert bot("alice", "report win rate").fields[0].value == "2"
    assert bot("alice", "report win rate by rep").items == [
        "Alice: 2 won · 1 lost · 66.7% · won 3,000 USD"
    ]
    assert bot("bob", "report win rate by rep").fields[2].value == "60.0%"
    before = bot.count(AuditEntry)
    other = bot("alice", f"forecast #{deal_id(bot, 'o4')} commit")
    assert other.status == "error"
    assert bot.count(AuditEntry) == before


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("report", "report win rate by team this quarter"),
        ("report wins by colour", "can't group by “colour”"),
        ("report win rate by", "can't group by"),
        ("report sales", "There is no report “sales”"),
        ("report win rate someday", "can't read the period “someday”"),
        ("report funnel by team", "Only `report win rate` and `report cycle` take `by"),
        ("report funnel nowhere", "“nowhere” is not a funnel stage"),
        ("forecast #1 maybe", "“maybe” is not a forecast category"),
        ("forecast the future", "can't read the period"),
    ],
)
def test_bad_input_says_what_to_type_and_writes_nothing(bot: TestBot, text: str, says: str) -> None:
    before = bot.count(AuditEntry)
    reply = bot("admin", text)
    assert reply.status == "error"
    assert says in reply.text
    assert bot.count(AuditEntry) == before


def test_chinese_bad_input_is_answered_in_chinese(bot: TestBot) -> None:
    reply = bot("wei", "报表 赢单率 按颜色")
    assert reply.status == "error" and "无法按“颜色”分组" in reply.text


def test_quotas_are_set_by_managers_and_show_as_attainment(bot: TestBot) -> None:
    assert (
        bot("bob", "quota @alice 2026-Q4 10000 USD").text
        == "Alice's quota for 2026-Q4 is 10,000 USD."
    )
    assert bot("bob", "quota @carol this quarter 20k").status == "ok"
    before = bot.count(AuditEntry)
    refused = [
        bot("alice", "quota @alice 2026-Q4 99 USD"),  # a rep
        bot("bob", "quota @dave 2026-Q4 5000 USD"),  # not bob's team
        bot("bob", "quota @alice 2026-Q4"),  # no amount
        bot("bob", "quota @alice 2026-Q4 -5 USD"),
    ]
    assert [r.status for r in refused] == ["error"] * 4
    assert "Only a manager or an admin" in refused[0].text
    assert "not in your team" in refused[1].text
    assert "quota @alice 2027-Q1 120000 USD" in refused[2].text
    assert bot.count(AuditEntry) == before
    assert bot("admin", "quota @dave 2026-Q4 5000 USD").status == "ok"
    # Q4: Alice won d3 (2,000 of 10,000), Carol d4 (3,000 of 20,000), Dave d6 (5,000 of 5,000).
    by_rep = bot("admin", "report win rate by rep this quarter")
    assert by_rep.items == [
        "Dave: 1 won · 1 lost · 50.0% · won 5,000 USD · quota 5,000 USD · 100.0% attained",
        "Carol: 1 won · 1 lost · 50.0% · won 3,000 USD · quota 20,000 USD · 15.0% attained",
        "Alice: 1 won · 0 lost · 100.0% · won 2,000 USD · quota 10,000 USD · 20.0% attained",
    ]
    assert [(f.label, f.value) for f in by_rep.fields[4:]] == [
        ("Quota", "35,000 USD"),
        ("Attainment (won value / quota)", "28.6%"),
    ]
    # A period the quotas do not fit in shows none.
    assert len(bot("admin", "report win rate by rep 2026-11").fields) == 4
    # Bob's team: quotas 30,000; won 5,000 in Q4 plus o2 (6,000) and o3 (800) in commit.
    fc = bot("bob", "forecast")
    assert [(f.label, f.value) for f in fc.fields[-2:]] == [
        ("Quota", "30,000 USD"),
        ("Attainment (won + commit)", "39.3%"),
    ]


def test_products_and_deals_that_name_one(bot: TestBot) -> None:
    assert bot("alice", "products").items == ["Gadget · 1,000 USD", "Widget · 100 USD"]
    assert bot("wei", "价格表").title == "价格表（2 个产品）"
    made = bot("alice", "new deal Acme: 12 units widget close 2027-01-15")
    assert made.status == "ok", made.text
    deals = select(Deal.amount, Deal.quantity, Product.name).join(
        Product, Product.id == Deal.product_id
    )
    assert bot.rows(deals.where(Deal.title == "12 units widget")) == [(1200, 12, "Widget")]
    assert bot("alice", "new deal Delta: Rollout 5000 USD product gadget").status == "ok"
    assert bot.rows(deals.where(Deal.title == "Rollout")) == [(5000, None, "Gadget")]
    before = bot.count(Deal)
    refused = bot("alice", "new deal Acme: Spares product Gizmo")
    assert refused.status == "error"
    assert "no product “Gizmo”" in refused.text and "Gadget, Widget" in refused.text
    assert bot.count(Deal) == before
    # Sold by product: the new deals count in win rate by product once won.
    assert bot("alice", "move 12 units widget to won").status == "ok"
    row = next(i for i in bot("alice", "report win rate by product").items if "Widget" in i)
    assert row == "Widget: 2 won · 0 lost · 100.0% · won 2,200 USD"
