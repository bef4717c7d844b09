"""Cases found by exploratory testing: each once went wrong, silently or with a crash."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from crm_core.models import Contact, Customer, Deal
from tests.conftest import TestBot


def test_contact_add_with_only_commas_is_a_clear_refusal(testbot: TestBot) -> None:
    """No name at all is a message, never a crash."""
    testbot("alice", "new customer Acme")
    for line in ("contact add Acme: , , ,", "contact add Acme: ,", "添加联系人 Acme：，，，"):
        reply = testbot("alice", line)
        assert reply.status == "error" and "needs a name" in reply.text, (line, reply.text)
    assert testbot.count(Contact) == 0


def test_created_customer_shows_each_field_read(testbot: TestBot) -> None:
    """The reply shows what went into each field, so a keyword inside a name is seen at once."""
    reply = testbot("alice", "new customer Kansas City Steaks")
    assert {f.label: f.value for f in reply.fields} == {"City": "Steaks"}
    city_bank = testbot("alice", "new customer City Bank industry banking")
    assert "City Bank" in city_bank.text
    assert {f.label: f.value for f in city_bank.fields} == {"Industry": "banking"}


def test_plural_near_duplicates_are_flagged(testbot: TestBot) -> None:
    """Singular and plural forms of a name are the same company until the user says otherwise."""
    testbot("alice", "new customer Hill Supply")
    testbot("alice", "new customer Mesa Technologies")
    for line in ("new customer Hill Supplies", "new customer Mesa Technology city Phoenix"):
        reply = testbot("alice", line)
        assert reply.status == "info" and "very similar" in reply.text, line
    assert testbot.count(Customer) == 2


def test_same_title_open_and_closed_deal_is_a_question(testbot: TestBot) -> None:
    """Reopening a lost deal must not move the open one of the same title."""
    testbot("alice", "new customer Rodriguez Tooling")
    testbot("alice", "new customer Red Rock")
    testbot("alice", "new deal Rodriguez Tooling: 2025 renewal 100")
    testbot("alice", "move Rodriguez Tooling / 2025 renewal to lost: budget")
    testbot("alice", "new deal Red Rock: 2025 renewal 200 stage negotiation")
    ask = testbot("alice", "move 2025 renewal to lead")
    assert ask.status == "info" and len(ask.buttons) == 2
    assert sorted(testbot.query(select(Deal.stage))) == ["lost", "negotiation"]


def test_same_title_deal_already_at_the_stage_is_not_meant(testbot: TestBot) -> None:
    """Of last year's won Renewal and this year's open one, `to won` can only mean the open one."""
    testbot("alice", "new customer Desert Rose")
    testbot("alice", "new deal Desert Rose: Renewal 100")
    assert testbot("alice", "move Desert Rose / Renewal to won").status == "ok"
    assert testbot("alice", "new deal Desert Rose: Renewal 200 stage negotiation").status == "ok"
    reopen = testbot("alice", "move Desert Rose / Renewal to lead")
    assert reopen.status == "info" and len(reopen.buttons) == 2
    won = testbot("alice", "move Desert Rose / Renewal to won")
    assert won.status == "ok", won.text
    assert sorted(testbot.query(select(Deal.amount))) == [Decimal("100.00"), Decimal("200.00")]
    assert sorted(testbot.query(select(Deal.stage))) == ["won", "won"]


def test_keyword_at_the_start_of_a_title(testbot: TestBot) -> None:
    """`Close the gap` is a title, not a close date."""
    testbot("alice", "new customer Initech")
    assert testbot("alice", "new deal Initech: Close the gap 5k").status == "ok"
    assert testbot("alice", "new deal Initech: Stage test 5k stage negotiation").status == "ok"
    deals = {d.title: (d.amount, d.stage) for d in testbot.query(select(Deal))}
    assert deals == {
        "Close the gap": (Decimal("5000.00"), "lead"),
        "Stage test": (Decimal("5000.00"), "negotiation"),
    }


def test_chinese_errors_name_stages_in_chinese(testbot: TestBot) -> None:
    """Stage names inside refusals follow the user's language."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 华东物流")
    reply = testbot("wei", "新商机 华东物流：X 12k 阶段 赢单")
    assert reply.status == "error" and "赢单" in reply.text and "won" not in reply.text
    unknown = testbot("wei", "新商机 华东物流：X 12k 阶段 香蕉")
    assert "线索" in unknown.text and "lead" not in unknown.text
    help_reply = testbot("wei", "帮助")
    # Usage lines in the reader's words (issue 17): the Chinese verb and placeholders.
    assert help_reply.items[0].startswith("客户 (customer): 客户 <客户>")
    assert "记录" in [b.label for b in help_reply.buttons]


def test_full_width_hash_and_taiwan_contact_word(testbot: TestBot) -> None:
    """Chinese keyboards type ＃ and Taiwan says 聯絡人."""
    testbot("alice", "new customer 华东物流")
    (cid,) = testbot.query(select(Customer.id))
    assert testbot("alice", f"客户 ＃{cid}").title == "华东物流"
    assert testbot("alice", "添加聯絡人 华东物流：李四").status == "ok"
    assert testbot("alice", "记录 电话 华东物流，聯絡人 李四：确认报价").status == "ok"


def test_a_repeated_move_never_reopens_a_namesake(testbot: TestBot) -> None:
    """`to negotiation` again, with last year's won Renewal beside the open one, asks which."""
    testbot("bob", "new customer Desert Rose")
    testbot("bob", "new deal Desert Rose: Renewal 100")
    assert testbot("bob", "move Desert Rose / Renewal to won").status == "ok"
    assert testbot("bob", "new deal Desert Rose: Renewal 200 stage negotiation").status == "ok"
    again = testbot("bob", "move Desert Rose / Renewal to negotiation")
    assert again.status == "info" and len(again.buttons) == 2, again.text
    assert sorted(testbot.query(select(Deal.stage))) == ["negotiation", "won"]


def test_a_repeated_move_of_one_of_two_customers_deals_asks(testbot: TestBot) -> None:
    """Two customers' open Renewals: one already moved does not make the other the one meant."""
    testbot("alice", "new customer Desert Rose")
    testbot("alice", "new customer Zhou Bakery")
    testbot("alice", "new deal Desert Rose: Renewal 100")
    testbot("alice", "new deal Zhou Bakery: Renewal 200")
    assert testbot("alice", "move Desert Rose / Renewal to negotiation").status == "ok"
    again = testbot("alice", "move Renewal to negotiation")
    assert again.status == "info" and len(again.buttons) == 2, again.text
    assert sorted(testbot.query(select(Deal.stage))) == ["lead", "negotiation"]
