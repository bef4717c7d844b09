"""edit contact through the real dispatcher: typed fields, Chinese, access, bad input, the form."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from crm_core.models import AuditEntry, Contact
from tests.conftest import TestBot


def _setup(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme")
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example, +1 617 555 0101")


def _contacts(testbot: TestBot) -> list[tuple[object, ...]]:
    return testbot.rows(
        select(Contact.name, Contact.title, Contact.email, Contact.phone, Contact.birthday)
    )


def test_edit_contact_typed_shows_before_after_and_audits(testbot: TestBot) -> None:
    """`edit contact Dana Ruiz: phone …, title …, email …, birthday …`: one audited update."""
    _setup(testbot)
    reply = testbot(
        "alice",
        "edit contact Dana Ruiz: phone +1 617 555 0199, title COO, "
        "email dana@acme.test, birthday May 3",
    )
    assert reply.status == "ok", reply.text
    assert reply.text == "Updated Dana Ruiz (Acme)."
    assert {f.label: f.value for f in reply.fields} == {
        "Phone": "+1 617 555 0101 → +1 617 555 0199",
        "Title": "VP Ops → COO",
        "Email": "dana@acme.example → dana@acme.test",
        "Birthday": "none → 05-03",
    }
    assert _contacts(testbot) == [
        ("Dana Ruiz", "COO", "dana@acme.test", "+1 617 555 0199", date(1904, 5, 3))
    ]
    (changes,) = testbot.query(
        select(AuditEntry.changes).where(AuditEntry.action == "contact.update")
    )
    assert changes["title"] == ["VP Ops", "COO"] and changes["birthday"] == [None, "1904-05-03"]
    # A birthday with a year; a first name alone; the same values again change nothing.
    year = testbot("alice", "edit contact Dana: birthday 1984-05-03")
    assert year.fields[0].value == "05-03 → 1984-05-03"
    again = testbot("alice", "edit contact Acme / Dana: title COO")
    assert again.status == "info" and "nothing changed" in again.text
    assert (
        len(testbot.query(select(AuditEntry.id).where(AuditEntry.action == "contact.update"))) == 2
    )


def test_edit_contact_in_chinese(testbot: TestBot) -> None:
    """修改联系人 with Chinese field words, answered in Chinese."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 华东物流")
    testbot("wei", "添加联系人 华东物流：王芳，采购经理")
    reply = testbot("wei", "修改联系人 王芳：电话 13800138000，生日 5月3日")
    assert reply.status == "ok", reply.text
    assert reply.text == "已更新 王芳（华东物流）。"
    assert {f.label for f in reply.fields} == {"电话", "生日"}
    assert _contacts(testbot)[0][3:] == ("13800138000", date(1904, 5, 3))


def test_edit_contact_access_by_role(testbot: TestBot) -> None:
    """Another book's contact answers exactly like a missing one; managers and admins may edit."""
    _setup(testbot)
    hidden = testbot("dave", "edit contact Dana Ruiz: title CEO")
    missing = testbot("dave", "edit contact Zed Nobody: title CEO")
    assert hidden.status == missing.status == "error"
    assert hidden.text == missing.text.replace("Zed Nobody", "Dana Ruiz")
    assert testbot("carol", "edit contact #1: title CEO").text == testbot(
        "carol", "edit contact #99: title CEO"
    ).text.replace("#99", "#1")
    assert testbot("bob", "edit contact Dana: title CEO").status == "ok"
    assert testbot("admin", "edit contact Dana: title CTO").status == "ok"
    assert _contacts(testbot)[0][1] == "CTO"


def test_edit_contact_bad_input_says_what_to_type_and_writes_nothing(testbot: TestBot) -> None:
    """Unknown field, bad email, bad phone, bad birthday, empty name: an answer, no write."""
    _setup(testbot)
    cases = {
        "edit contact Dana: fax 555": "a contact has name, title, email, phone and birthday",
        "edit contact Dana: email dana-at-acme": "does not look like an email",
        "edit contact Dana: phone 12": "does not look like a phone",
        "edit contact Dana: birthday Feb 30": "not a birthday I can read",
        "edit contact Dana: name": "edit contact Dana Ruiz",
        "edit contact": "edit contact Dana Ruiz",
        "edit contact Acme / Zed: title CEO": "no contact called",
    }
    for line, said in cases.items():
        reply = testbot("alice", line)
        assert reply.status == "error", line
        assert said in reply.text, (line, reply.text)
    assert _contacts(testbot) == [
        ("Dana Ruiz", "VP Ops", "dana@acme.example", "+1 617 555 0101", None)
    ]
    assert testbot.query(select(AuditEntry.id).where(AuditEntry.action == "contact.update")) == []


def test_edit_contact_alone_opens_the_form_and_the_card_offers_it(testbot: TestBot) -> None:
    """`edit contact Dana Ruiz` opens the form prefilled; the card's Edit contact button too."""
    _setup(testbot)
    reply = testbot("alice", "edit contact Dana Ruiz")
    assert reply.form is not None and reply.form.name == "edit_contact"
    assert reply.form.values["email"] == "dana@acme.example"
    assert reply.form.values["phone"] == "+1 617 555 0101"
    assert reply.form.labels == {"contact": "Dana Ruiz · Acme"}
    assert reply.form.settled == ("contact",)
    card = testbot("alice", "customer Acme")
    (button,) = [b for b in card.buttons if b.label == "Edit contact"]
    assert testbot.press("alice", button).form is not None
    testbot("alice", "contact add Acme: Ed Park")
    card = testbot("alice", "customer Acme")
    (button,) = [b for b in card.buttons if b.label == "Edit contact"]
    pick = testbot.press("alice", button)
    assert [b.label for b in pick.buttons] == ["Dana Ruiz", "Ed Park"]
    opened = testbot.press("alice", pick.buttons[1])
    assert opened.form is not None and opened.form.values["name"] == "Ed Park"
    # Another book's rep pressing the same button learns nothing.
    assert testbot.press("dave", button).status == "error"
