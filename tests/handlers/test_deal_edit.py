"""edit deal, its Undo, and delete deal through the real dispatcher: access, audit, languages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.console import ConsoleSession
from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, Deal, Interaction, Reminder, StageChange
from tests.conftest import START, TestBot


def _acme_fleet(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal 48000 close 2026-12-15")


def test_edit_deal_typed_shows_before_after_audits_and_undoes(testbot: TestBot) -> None:
    """`edit deal #1: amount 52k, close 2027-01-15, title …`: each field before → after, Undo."""
    _acme_fleet(testbot)
    reply = testbot("alice", "edit deal #1: amount 52k, close 2027-01-15, title Fleet renewal 2027")
    assert reply.status == "ok", reply.text
    assert reply.text == "Updated #1 Fleet renewal 2027."
    assert {f.label: f.value for f in reply.fields} == {
        "Amount": "48,000 USD → 52,000 USD",
        "Expected close": "2026-12-15 → 2027-01-15",
        "Title": "Fleet renewal → Fleet renewal 2027",
    }
    (deal,) = testbot.query(select(Deal))
    assert (deal.amount, deal.expected_close, deal.title) == (
        Decimal("52000.00"),
        date(2027, 1, 15),
        "Fleet renewal 2027",
    )
    (entry,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "deal.update"))
    assert entry.actor_id == testbot.users["alice"]
    assert entry.changes == {
        "amount": ["48000.00", "52000.00"],
        "expected_close": ["2026-12-15", "2027-01-15"],
        "title": ["Fleet renewal", "Fleet renewal 2027"],
    }
    undo = next(b for b in reply.buttons if b.label == "Undo")
    assert undo.payload["text"] == f"undo deal edit #{entry.id}"
    undone = testbot.press("alice", undo)
    assert undone.status == "ok", undone.text
    assert undone.text == "Undid the edit of #1 Fleet renewal."
    (deal,) = testbot.query(select(Deal))
    assert (deal.amount, deal.expected_close, deal.title) == (
        Decimal("48000.00"),
        date(2026, 12, 15),
        "Fleet renewal",
    )
    (back,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "deal.undo_edit"))
    assert back.changes["amount"] == ["52000.00", "48000.00"]
    # Pressed twice: nothing more is written.
    before = testbot.count(AuditEntry)
    again = testbot.press("alice", undo)
    assert again.status == "error" and "already undone" in again.text
    assert testbot.count(AuditEntry) == before
    same = testbot("alice", "edit deal #1: amount 48000")
    assert same.status == "info" and "nothing changed" in same.text


def test_undo_refused_once_the_deal_changed_since(testbot: TestBot) -> None:
    """Undo puts back values only if nothing changed them since; otherwise it says so."""
    _acme_fleet(testbot)
    first = testbot("alice", "edit deal #1: amount 50000")
    testbot("alice", "edit deal #1: amount 51000")
    undo = next(b for b in first.buttons if b.label == "Undo")
    before = testbot.count(AuditEntry)
    refused = testbot.press("alice", undo)
    assert refused.status == "error" and "changed again since" in refused.text
    assert testbot.query(select(Deal.amount)) == [Decimal("51000.00")]
    assert testbot.count(AuditEntry) == before
    # Another book's person pressing it learns nothing.
    hidden = testbot.press("dave", undo)
    missing = testbot("dave", "undo deal edit #999")
    assert hidden.text == missing.text.replace("#999", undo.payload["text"].split()[-1])


def test_edit_deal_owner_follows_the_assignment_rules(testbot: TestBot) -> None:
    """A manager hands a team deal to a teammate; nobody gives it to one who cannot see it."""
    _acme_fleet(testbot)
    refused = testbot("alice", "edit deal #1: owner @carol")
    assert refused.status == "error" and "cannot make Carol the owner" in refused.text
    moved = testbot("bob", "edit deal Fleet renewal: owner @bob")
    assert moved.status == "ok", moved.text
    assert {f.label: f.value for f in moved.fields} == {"Owner": "Alice → Bob"}
    blind = testbot("admin", "edit deal #1: owner @dave")
    assert blind.status == "error" and "Dave cannot see Acme" in blind.text
    (changes,) = testbot.query(select(AuditEntry.changes).where(AuditEntry.action == "deal.update"))
    assert changes == {"owner_id": [testbot.users["alice"], testbot.users["bob"]]}


def test_edit_deal_in_chinese(testbot: TestBot) -> None:
    """修改商机 with Chinese field words and 万, answered in Chinese."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 华东物流")
    testbot("wei", "新商机 华东物流：仓储系统 50万 元")
    reply = testbot("wei", "修改商机 #1：金额 60万 元，预计成交 2027-01-15")
    assert reply.status == "ok", reply.text
    assert reply.text == "已更新 #1 仓储系统。"
    assert {f.label for f in reply.fields} == {"金额", "预计成交"}
    assert testbot.rows(select(Deal.amount, Deal.currency, Deal.expected_close)) == [
        (Decimal("600000.00"), "CNY", date(2027, 1, 15))
    ]
    bad = testbot("wei", "修改商机 #1：金额 很多")
    assert bad.status == "error" and "很多" in bad.text


def test_edit_deal_access_by_role(testbot: TestBot) -> None:
    """Rep: own deals; manager: the team's; admin: all; another book's deal reads as missing."""
    _acme_fleet(testbot)
    testbot("dave", "new customer West Corp")
    testbot("dave", "new deal West Corp: Trucks 100")
    for who in ("carol", "dave"):
        hidden = testbot(who, "edit deal #1: amount 5")
        missing = testbot(who, "edit deal #9: amount 5")
        assert hidden.status == "error" and hidden.text == missing.text.replace("#9", "#1")
    assert testbot("bob", "edit deal #2: amount 5").status == "error"
    assert testbot("alice", "edit deal #1: amount 1").status == "ok"
    assert testbot("bob", "edit deal #1: amount 2").status == "ok"
    assert testbot("admin", "edit deal #2: amount 3").status == "ok"
    assert testbot.query(select(Deal.amount).order_by(Deal.id)) == [Decimal(2), Decimal(3)]


def test_edit_deal_alone_opens_the_form_and_the_console_saves_it(testbot: TestBot) -> None:
    """`edit deal #1` answers with the form prefilled; on the console it is asked field by field."""
    _acme_fleet(testbot)
    reply = testbot("alice", "edit deal #1")
    assert reply.form is not None and reply.form.name == "edit_deal"
    assert reply.form.values == {
        "deal": 1,
        "title": "Fleet renewal",
        "amount": "48,000 USD",
        "close": date(2026, 12, 15),
        "owner": "@alice",
    }
    assert reply.form.settled == ("deal",)
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    first = session.handle("edit deal #1")
    assert first.title == "Edit deal" and first.text == "Title [Fleet renewal]"
    assert session.handle("").text == "Amount [48,000 USD]"
    bad = session.handle("abc")
    assert bad.status == "error" and '"abc" is not an amount' in bad.text
    assert session.handle("52k").text == "Expected close [2026-12-15]"
    assert session.handle("someday").status == "error"
    assert session.handle("2027-01-15").text == "Owner [@alice]"
    done = session.handle("")
    assert done.text == "Updated #1 Fleet renewal.", done.text
    assert {f.label: f.value for f in done.fields} == {
        "Amount": "48,000 USD → 52,000 USD",
        "Expected close": "2026-12-15 → 2027-01-15",
    }
    assert [b.label for b in done.buttons] == ["Open", "Undo"]


def test_customer_card_edit_button_opens_the_edit_customer_form(testbot: TestBot) -> None:
    """The customer card's Edit button answers with the edit customer form, prefilled."""
    testbot("alice", "new customer Acme city Boston")
    card = testbot("alice", "customer Acme")
    edit = next(b for b in card.buttons if b.label == "Edit")
    opened = testbot.press("alice", edit)
    assert opened.form is not None and opened.form.name == "edit_customer"
    assert opened.form.values["city"] == "Boston"


def _links(testbot: TestBot) -> None:
    with unit_of_work(testbot.session_factory) as s:
        s.add(
            Reminder(
                owner_id=testbot.users["alice"],
                due_at=START,
                text="send the quote",
                customer_id=1,
                deal_id=1,
            )
        )


def test_delete_deal_confirm_card_then_delete_audited(testbot: TestBot) -> None:
    """A manager's `delete deal #1`: a preview; Cancel does nothing; Confirm deletes once."""
    _acme_fleet(testbot)
    testbot("alice", "move Fleet renewal to qualified")
    testbot("alice", "log call Acme, deal Fleet renewal: fleet of 12")
    _links(testbot)
    before = testbot.count(AuditEntry)
    preview = testbot("bob", "delete deal #1")
    assert preview.status == "info", preview.text
    assert preview.title == "Delete a deal"
    assert "#1 Fleet renewal · Acme" in preview.text
    assert preview.items == [
        "2 stage changes are deleted with it (kept in the audit log)",
        "1 notes stay on Acme, no longer linked to the deal",
        "1 pending or past reminders stay, no longer linked to the deal",
    ]
    confirm, cancel = preview.buttons
    assert confirm.payload["text"] == "delete deal #1 confirm"
    assert testbot.count(AuditEntry) == before
    cancelled = testbot.press("bob", cancel)
    assert cancelled.text == "Cancelled; nothing was changed."
    assert testbot.count(Deal) == 1
    done = testbot.press("bob", confirm)
    assert done.status == "ok", done.text
    assert done.text.startswith("Deleted #1 Fleet renewal · Acme")
    assert testbot.count(Deal) == 0 and testbot.count(StageChange) == 0
    assert testbot.rows(select(Interaction.customer_id, Interaction.deal_id)) == [(1, None)]
    assert testbot.rows(select(Reminder.customer_id, Reminder.deal_id)) == [(1, None)]
    (entry,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "deal.delete"))
    assert entry.actor_id == testbot.users["bob"] and entry.entity_id == 1
    assert entry.changes["title"] == ["Fleet renewal", None]
    assert entry.changes["amount"] == ["48000.00", None]
    history = entry.changes["stage_history"][0]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        (None, "lead"),
        ("lead", "qualified"),
    ]
    assert entry.changes["note_ids"] == [[1], None]
    assert entry.changes["reminder_ids"] == [[1], None]
    # Confirm pressed again writes nothing and says the deal is gone.
    count = testbot.count(AuditEntry)
    again = testbot.press("bob", confirm)
    assert again.status == "error" and "no deal #1" in again.text
    assert testbot.count(AuditEntry) == count
    assert testbot("alice", "customer Acme").status == "ok"


def test_delete_deal_access(testbot: TestBot) -> None:
    """Reps are refused; a manager deletes only the team's; an admin any; hidden reads missing."""
    _acme_fleet(testbot)
    testbot("dave", "new customer West Corp")
    testbot("dave", "new deal West Corp: Trucks 100")
    refused = testbot("alice", "delete deal #1 confirm")
    assert refused.status == "error" and "Only a manager" in refused.text
    hidden = testbot("bob", "delete deal #2 confirm")
    missing = testbot("bob", "delete deal #9 confirm")
    assert hidden.text == missing.text.replace("#9", "#2")
    assert testbot.count(Deal) == 2
    assert testbot("admin", "delete deal #2 confirm").status == "ok"
    assert testbot("bob", "delete deal Fleet renewal confirm").status == "ok"
    assert testbot.count(Deal) == 0
    assert len(testbot.query(select(AuditEntry).where(AuditEntry.action == "deal.delete"))) == 2


def test_delete_deal_in_chinese(testbot: TestBot) -> None:
    """删除商机 #1 shows the Chinese card; 确认 deletes."""
    testbot.add_user("mei", role="manager", locale="zh", timezone="Asia/Shanghai")
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal")
    preview = testbot("mei", "删除商机 #1")
    assert preview.title == "删除商机"
    assert [b.label for b in preview.buttons] == ["确认", "取消"]
    done = testbot("mei", "删除商机 #1 确认")
    assert done.status == "ok" and done.text.startswith("已删除"), done.text
    assert testbot.count(Deal) == 0
