"""`undo edit #N`: the Undo of an edit of a customer, contact or deal, through the dispatcher."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Customer, Deal
from tests.conftest import TestBot


def _undo_of(reply: object) -> object:
    return next(b for b in reply.buttons if b.label in ("Undo", "撤销"))  # type: ignore[attr-defined]


def test_undo_customer_edit_restores_fields_and_the_exact_tag_set(testbot: TestBot) -> None:
    """Undo puts back name, city and the exact tags, audited; a second press says already undone."""
    testbot("alice", "new customer Acme Logistics city Chicago tags fleet, west")
    edit = testbot("alice", "edit customer Acme: name Acme Freight, city Boston, tags eu, Fleet")
    assert edit.status == "ok", edit.text
    (entry,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "customer.update"))
    undo = _undo_of(edit)
    assert undo.payload["text"] == f"undo edit #{entry.id}"  # type: ignore[attr-defined]
    undone = testbot.press("alice", undo)  # type: ignore[arg-type]
    assert undone.status == "ok", undone.text
    assert undone.text == "Undid the edit of Acme Logistics."
    assert {f.label: f.value for f in undone.fields} == {
        "Name": "Acme Freight → Acme Logistics",
        "City": "Boston → Chicago",
        "Tags": "eu, fleet → fleet, west",
    }
    assert testbot.rows(select(Customer.name, Customer.city, Customer.tags)) == [
        ("Acme Logistics", "Chicago", ["fleet", "west"])
    ]
    (back,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "customer.undo_edit"))
    assert back.actor_id == testbot.users["alice"]
    assert back.changes["tags"] == [["eu", "fleet"], ["fleet", "west"]]
    before = testbot.count(AuditEntry)
    again = testbot.press("alice", undo)  # type: ignore[arg-type]
    assert again.status == "error" and "already undone" in again.text
    assert testbot.count(AuditEntry) == before


def test_undo_customer_edit_refused_when_changed_since_or_in_another_book(
    testbot: TestBot,
) -> None:
    """Changed since: refused and nothing written; another book's rep hears "no such edit"."""
    testbot("alice", "new customer Acme city Chicago")
    first = testbot("alice", "edit customer Acme: city Boston")
    hidden = testbot.press("dave", _undo_of(first))  # type: ignore[arg-type]
    missing = testbot("dave", "undo edit #999")
    entry_id = _undo_of(first).payload["text"].split()[-1]  # type: ignore[attr-defined]
    assert hidden.status == "error" and hidden.text == missing.text.replace("#999", entry_id)
    assert testbot.rows(select(Customer.city)) == [("Boston",)]
    testbot("alice", "edit customer Acme: city Denver")
    before = testbot.count(AuditEntry)
    refused = testbot.press("alice", _undo_of(first))  # type: ignore[arg-type]
    assert refused.status == "error" and "changed again since" in refused.text
    assert testbot.rows(select(Customer.city)) == [("Denver",)]
    assert testbot.count(AuditEntry) == before


def test_undo_contact_edit(testbot: TestBot) -> None:
    """Undo of a contact edit restores phone, title and a cleared birthday; the rules still hold."""
    testbot("alice", "new customer Acme")
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example, +1 617 555 0101")
    testbot("alice", "edit contact Dana: birthday 1984-05-03")
    edit = testbot("alice", "edit contact Dana: phone +1 617 555 0199, title COO, birthday 5月4日")
    assert edit.status == "ok", edit.text
    (entry_id,) = testbot.query(
        select(AuditEntry.id)
        .where(AuditEntry.action == "contact.update")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    assert _undo_of(edit).payload["text"] == f"undo edit #{entry_id}"  # type: ignore[attr-defined]
    hidden = testbot.press("dave", _undo_of(edit))  # type: ignore[arg-type]
    assert hidden.text == testbot("dave", "undo edit #999").text.replace("#999", f"#{entry_id}")
    undone = testbot("alice", f"undo edit #{entry_id}")
    assert undone.status == "ok", undone.text
    assert undone.text == "Undid the edit of Dana Ruiz (Acme)."
    assert testbot.rows(select(Contact.phone, Contact.title, Contact.birthday)) == [
        ("+1 617 555 0101", "VP Ops", date(1984, 5, 3))
    ]
    (back,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "contact.undo_edit"))
    assert back.changes["title"] == ["COO", "VP Ops"]
    again = testbot("alice", f"undo edit #{entry_id}")
    assert again.status == "error" and "already undone" in again.text
    late = testbot("alice", "edit contact Dana: phone +1 617 555 0144")
    testbot("alice", "edit contact Dana: phone +1 617 555 0155")
    changed = testbot.press("alice", _undo_of(late))  # type: ignore[arg-type]
    assert changed.status == "error" and "changed again since" in changed.text
    assert testbot.rows(select(Contact.phone)) == [("+1 617 555 0155",)]


def test_undo_edit_takes_deal_edits_and_refuses_other_entries(testbot: TestBot) -> None:
    """The general verb undoes a deal edit too; a non-edit audit entry reads as missing."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal 48000 close 2026-12-15")
    testbot("alice", "edit deal #1: amount 52k")
    (entry_id,) = testbot.query(select(AuditEntry.id).where(AuditEntry.action == "deal.update"))
    undone = testbot("alice", f"undo edit #{entry_id}")
    assert undone.status == "ok", undone.text
    assert undone.text == "Undid the edit of #1 Fleet renewal."
    assert testbot.query(select(Deal.amount)) == [Decimal("48000.00")]
    again = testbot("alice", f"undo deal edit #{entry_id}")
    assert again.status == "error" and "already undone" in again.text
    (create_id,) = testbot.query(
        select(AuditEntry.id).where(AuditEntry.action == "customer.create")
    )
    other = testbot("alice", f"undo edit #{create_id}")
    assert other.status == "error"
    assert other.text == testbot("alice", "undo edit #999").text.replace("#999", f"#{create_id}")


def test_undo_edit_in_chinese(testbot: TestBot) -> None:
    """撤销修改: the button reads 撤销 and the answer is Chinese."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 华东物流")
    edit = testbot("wei", "修改客户 华东物流：城市 上海，标签 冷链")
    assert edit.status == "ok", edit.text
    undo = _undo_of(edit)
    entry_id = undo.payload["text"].split()[-1]  # type: ignore[attr-defined]
    undone = testbot("wei", f"撤销修改 {entry_id}")
    assert undone.status == "ok", undone.text
    assert undone.text == "已撤销对 华东物流 的修改。"
    assert testbot.rows(select(Customer.city, Customer.tags)) == [(None, [])]
    again = testbot("wei", f"撤销修改 {entry_id}")
    assert again.status == "error" and "已经撤销" in again.text
