"""contact remove through the real dispatcher: the card, Confirm, access, audit, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Interaction
from tests.conftest import TestBot


def _setup(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme")
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example")
    testbot("alice", "contact add Acme: Sam Lee")
    testbot("alice", "log call Acme, with Dana: wants a discount")


def _names(testbot: TestBot) -> list[str]:
    return sorted(testbot.query(select(Contact.name)))


@pytest.mark.parametrize("platform", ["console", "slack", "telegram"])
def test_remove_contact_card_then_confirm(testbot: TestBot, platform: str) -> None:
    """The card names the person and the notes it unlinks; Confirm removes, audited."""
    _setup(testbot)
    testbot.platform = platform
    card = testbot("alice", "contact remove Dana Ruiz")
    assert card.status == "info", card.text
    assert card.text.startswith("Remove Dana Ruiz (VP Ops · dana@acme.example) from Acme?")
    assert card.items == [
        "1 note that named this person stays on Acme, no longer linked to the contact"
    ]
    assert [b.label for b in card.buttons] == ["Confirm", "Cancel"]
    # The card alone writes nothing.
    assert _names(testbot) == ["Dana Ruiz", "Sam Lee"]
    done = testbot.press("alice", card.buttons[0])
    assert done.status == "ok", done.text
    assert done.text.startswith("Removed Dana Ruiz (VP Ops · dana@acme.example) from Acme")
    assert _names(testbot) == ["Sam Lee"]
    # The note stays on the customer, unlinked.
    assert testbot.rows(select(Interaction.text, Interaction.contact_id)) == [
        ("wants a discount", None)
    ]
    (entry,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "contact.delete"))
    assert entry.actor_id == testbot.users["alice"]
    assert entry.changes["name"] == ["Dana Ruiz", None]
    assert entry.changes["email"] == ["dana@acme.example", None]
    assert entry.changes["note_ids"][0] == [1]
    # On the customer's history, as a removal.
    history = testbot("alice", "history Acme")
    assert any("contact Dana Ruiz removed" in line for line in history.items), history.items


def test_remove_contact_typed_confirm_and_chinese(testbot: TestBot) -> None:
    """`… confirm` typed removes at once; 删除联系人 / 刪除聯絡人 read the same, in Chinese."""
    _setup(testbot)
    assert testbot("alice", "remove contact Sam Lee confirm").status == "ok"
    assert _names(testbot) == ["Dana Ruiz"]
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("wei", "新客戶 台灣精密")
    testbot("wei", "添加聯絡人 台灣精密：陳美玲，採購主管")
    card = testbot("wei", "刪除聯絡人 陳美玲")
    assert card.status == "info" and card.title == "刪除聯絡人", card.text
    assert testbot("wei", "刪除聯絡人 陳美玲 確認").status == "ok"
    assert "陳美玲" not in _names(testbot)


def test_remove_contact_access_and_bad_input_write_nothing(testbot: TestBot) -> None:
    """Another book's contact reads as missing; archived, empty, unknown: what to type, no write."""
    _setup(testbot)
    before = testbot.count(AuditEntry)
    hidden = testbot("dave", "contact remove Dana Ruiz confirm")
    missing = testbot("dave", "contact remove Zed Nobody confirm")
    assert hidden.status == missing.status == "error"
    assert hidden.text == missing.text.replace("Zed Nobody", "Dana Ruiz")
    empty = testbot("alice", "contact remove")
    assert empty.status == "error" and "`contact remove Dana Ruiz`" in empty.text
    # Two people called Ruiz-something: buttons to choose, never a guess.
    testbot("alice", "contact add Acme: Dan Ruiz")
    which = testbot("alice", "contact remove Ruiz confirm")
    assert which.status == "info" and len(which.buttons) == 2
    assert testbot.count(AuditEntry) == before + 1  # only the contact add
    assert _names(testbot) == ["Dan Ruiz", "Dana Ruiz", "Sam Lee"]
    # An archived customer's contacts wait for unarchive, and the answer says so.
    testbot("alice", "archive Acme confirm")
    after_archive = testbot.count(AuditEntry)
    archived = testbot("alice", "contact remove #1 confirm")
    assert archived.status == "error", archived.text
    assert _names(testbot) == ["Dan Ruiz", "Dana Ruiz", "Sam Lee"]
    assert testbot.count(AuditEntry) == after_archive


def test_manager_and_admin_may_remove(testbot: TestBot) -> None:
    """The rep's manager and an admin may remove (whoever may edit the contact)."""
    _setup(testbot)
    assert testbot("bob", "contact remove Sam Lee confirm").status == "ok"
    assert testbot("admin", "contact remove Acme / Dana confirm").status == "ok"
    assert _names(testbot) == []
