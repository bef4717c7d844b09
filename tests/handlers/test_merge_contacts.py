"""Merging two customers folds the same person listed on both into one contact."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Interaction
from tests.conftest import TestBot


def test_merge_folds_the_duplicate_contact_and_keeps_the_others(testbot: TestBot) -> None:
    """Dana (same email) becomes one contact with the title and phone of both; her note
    follows her; Lee stays a contact of his own."""
    testbot("alice", "new customer Acme Logistics")
    testbot("alice", "new customer Harbour Freight")
    testbot("alice", "contact add Acme Logistics: Dana Ruiz, VP Ops, dana@acme.example")
    testbot("alice", "contact add Harbour Freight: dana ruiz, DANA@acme.example, +1 617 555 0101")
    testbot("alice", "contact add Harbour Freight: Lee Park, lee@acme.example")
    testbot("alice", "log call Harbour Freight: spoke with Dana about the renewal")
    with testbot.session_factory.begin() as s:
        s.execute(Interaction.__table__.update().values(contact_id=2))
    merge = testbot("bob", "merge #2 into #1")
    assert testbot.press("bob", merge.buttons[0]).status == "ok"
    rows = testbot.rows(
        select(Contact.id, Contact.name, Contact.title, Contact.email, Contact.phone).order_by(
            Contact.id
        )
    )
    assert rows == [
        (1, "Dana Ruiz", "VP Ops", "dana@acme.example", "+1 617 555 0101"),
        (3, "Lee Park", None, "lee@acme.example", None),
    ]
    assert testbot.query(select(Interaction.contact_id)) == [1]
    actions = testbot.query(select(AuditEntry.action).where(AuditEntry.entity_type == "contacts"))
    assert "contact.merge" in actions
