"""The deal card and the move fixes through the real dispatcher: history, access, languages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, Deal, Product, Reminder
from tests.conftest import START, FakeClock, TestBot


def _remind(testbot: TestBot, owner: str, text: str, deal_id: int) -> None:
    """A pending reminder about a deal, as the log form's follow-up writes it."""
    with unit_of_work(testbot.session_factory) as s:
        deal = s.get(Deal, deal_id)
        assert deal is not None
        s.add(
            Reminder(
                owner_id=testbot.users[owner],
                created_by_id=testbot.users[owner],
                due_at=START + timedelta(days=3),
                text=text,
                customer_id=deal.customer_id,
                deal_id=deal.id,
            )
        )


def test_deal_card_shows_history_notes_reminders_and_buttons(
    testbot: TestBot, clock: FakeClock
) -> None:
    """`deal #1`: customer, owner, amount, close, stage and days in it, history, notes, buttons."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal 48000 close 2026-12-15")
    testbot("alice", "new deal Acme: Other deal")
    clock.advance(days=2)
    testbot("alice", "move Fleet renewal to qualified")
    testbot("alice", "log call Acme, deal Fleet renewal: they want a fleet of 12")
    testbot("alice", "log call Acme: a note on the customer only")
    _remind(testbot, "alice", "send the quote", 1)
    _remind(testbot, "bob", "review Alice's pricing", 1)
    clock.advance(days=5)
    before = testbot.count(AuditEntry)
    card = testbot("alice", "deal #1")
    assert card.status == "ok", card.text
    assert card.title == "#1 Fleet renewal"
    fields = {f.label: f.value for f in card.fields}
    assert fields == {
        "Customer": "#1 Acme",
        "Owner": "Alice",
        "Amount": "48,000 USD",
        "Expected close": "2026-12-15",
        "Stage": "qualified for 5 days",
        # Too few closed deals to learn from: the stage's probability.
        "Score": "25 / 99",
    }
    sections = {s.title: s.lines for s in card.sections}
    assert sections["Stage history"] == [
        "2026-11-23 · opened in lead · Alice",
        "2026-11-25 · lead → qualified · Alice",
    ]
    (note,) = sections["Recent interactions"]
    assert "they want a fleet of 12" in note
    # Bob's plan about the deal is not on Alice's card (like the customer card).
    (reminder,) = sections["Pending reminders"]
    assert "send the quote" in reminder
    assert [b.payload["text"] for b in card.buttons] == [
        "move #1",
        "edit deal #1",
        "log",
        "help remind",
        "score #1",
    ]
    assert [b.label for b in card.buttons] == ["Move", "Edit", "Log", "Remind", "Why 25?"]
    assert card.shareable
    # The manager sees both reminders; by name works as well as by number.
    managed = testbot("bob", "deal Fleet renewal")
    assert len({s.title: s.lines for s in managed.sections}["Pending reminders"]) == 2
    assert testbot.count(AuditEntry) == before


def test_deal_card_lost_reason_and_who_moved_it(testbot: TestBot) -> None:
    """A lost deal shows its reason on the card and on the history line, with the mover."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Beta")
    testbot("alice", "new deal Acme: Pilot 100")
    testbot("alice", "new deal Beta: Pilot 100")
    assert testbot("bob", "move Acme / Pilot to lost: price").status == "ok"
    card = testbot("alice", "deal Acme / Pilot")
    fields = {f.label: f.value for f in card.fields}
    assert fields["Lost reason"] == "price"
    assert fields["Stage"] == "lost for 0 days"
    history = {s.title: s.lines for s in card.sections}["Stage history"]
    assert history[-1] == "2026-11-23 · lead → lost · Bob · reason: price"


def test_deal_card_in_chinese(testbot: TestBot) -> None:
    """商机详情 #1 answers in Chinese, stage names translated."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 华东物流")
    testbot("wei", "新商机 华东物流：仓储系统 50万 元 预计成交 2026-12-31")
    card = testbot("wei", "商机详情 #1")
    assert card.status == "ok", card.text
    fields = {f.label: f.value for f in card.fields}
    assert fields["客户"] == "#1 华东物流"
    # Yuan in 万, as Chinese readers say it (issue 17).
    assert fields["金额"] == "50万元"
    assert fields["阶段"].endswith("已 0 天")
    assert [b.label for b in card.buttons] == ["推进", "修改", "记录", "提醒", "为什么是 10？"]
    assert testbot("wei", "查看商机 仓储系统").title == "#1 仓储系统"


def test_deal_card_access_another_books_deal_is_missing(testbot: TestBot) -> None:
    """A rep sees their own deals, a manager the team's, an admin all; others read as missing."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal")
    assert testbot("alice", "deal #1").status == "ok"
    assert testbot("bob", "deal #1").status == "ok"
    assert testbot("admin", "deal #1").status == "ok"
    for who in ("carol", "dave"):
        hidden = testbot(who, "deal #1")
        missing = testbot(who, "deal #2")
        assert hidden.status == missing.status == "error"
        assert hidden.text == missing.text.replace("#2", "#1")
        by_name = testbot(who, "deal Fleet renewal")
        nothing = testbot(who, "deal Fleet renewax")
        assert by_name.text == nothing.text.replace("renewax", "renewal")


def test_move_keeps_the_customer_narrowing_when_asking_for_the_reason(testbot: TestBot) -> None:
    """`move Acme / Label printers pilot to lost` asks back naming the same deal, narrowed."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Beta")
    testbot("alice", "new deal Acme: Label printers pilot")
    testbot("alice", "new deal Beta: Label printers pilot")
    asked = testbot("alice", "move Acme / Label printers pilot to lost")
    assert asked.status == "error"
    assert "`move Acme / Label printers pilot to lost: <reason>`" in asked.text
    # The line it gives, with a reason, moves that deal and not Beta's.
    done = testbot("alice", "move Acme / Label printers pilot to lost: budget")
    assert done.status == "ok", done.text
    rows = testbot.rows(select(Deal.customer_id, Deal.stage).order_by(Deal.id))
    assert rows == [(1, "lost"), (2, "lead")]
    # A stage button (`move #1 to lost`) names the deal by number in the same way.
    testbot("alice", "new deal Acme: Second pilot")
    by_button = testbot("alice", "move #3 to lost")
    assert "`move #3 to lost: <reason>`" in by_button.text


def test_move_offers_only_open_deals_unless_a_closed_one_is_named(testbot: TestBot) -> None:
    """A closed deal is not a choice for a move; named exactly, only a manager may reopen it."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Label printers trial")
    testbot("alice", "move Label printers trial to lost: price")
    testbot("alice", "new deal Acme: Label printers pilot")
    # Only the open deal matches "Label printers": no question with the lost one in it.
    moved = testbot("alice", "move Label printers to qualified")
    assert moved.status == "ok", (moved.text, [b.label for b in moved.buttons])
    assert testbot.rows(select(Deal.title, Deal.stage).order_by(Deal.id)) == [
        ("Label printers trial", "lost"),
        ("Label printers pilot", "qualified"),
    ]
    asked = testbot("alice", "move Label printers")
    assert "Label printers pilot" in asked.text
    # Named exactly, the closed deal is found; a rep is told who can reopen it.
    refused = testbot("alice", "move Label printers trial to proposal")
    assert refused.status == "error"
    assert refused.text == (
        "Label printers trial is closed (lost); only a manager or an admin can reopen or move "
        "it. Ask your manager."
    )
    assert testbot("alice", "move #1 to won").status == "error"
    assert testbot.query(select(Deal.stage).where(Deal.id == 1)) == ["lost"]
    reopened = testbot("bob", "move Label printers trial to proposal")
    assert reopened.status == "ok", reopened.text
    assert testbot.query(select(Deal.stage).where(Deal.id == 1)) == ["proposal"]


def test_deal_card_names_its_product(testbot: TestBot) -> None:
    """A deal that names a product shows it with the quantity."""
    with unit_of_work(testbot.session_factory) as s:
        s.add(Product(external_id="p-widget", name="Widget", name_key="widget", price=100))
    testbot("alice", "new customer Acme")
    assert testbot("alice", "new deal Acme: 12 units widget").status == "ok"
    fields = {f.label: f.value for f in testbot("alice", "deal #1").fields}
    assert fields["Product"] == "Widget × 12"
    assert fields["Amount"] == "1,200 USD"
