"""Input with a field left empty is refused with what to type, and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Customer
from tests.conftest import TestBot


@pytest.mark.parametrize(
    "text",
    [
        "contact add Zeta: , VP Sales",
        "contact add Zeta: ，VP Sales, vp@zeta.example",
    ],
)
def test_contact_add_without_a_name_adds_nobody(testbot: TestBot, text: str) -> None:
    """The title after an empty name is not taken as the name."""
    testbot("alice", "new customer Zeta Corp")
    reply = testbot("alice", text)
    assert reply.status == "error"
    assert "Put the person's name first" in reply.text and "contact add Acme: Dana" in reply.text
    assert testbot.count(Contact) == 0


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("edit customer Zeta: industry", "industry"),
        ("edit customer Zeta: city , industry logistics", "city"),
        ("edit customer Zeta: industry logistics, city", "city"),
        ("edit customer Zeta: tags", "tags"),
    ],
)
def test_edit_customer_with_an_empty_field_changes_nothing(
    testbot: TestBot, text: str, field: str
) -> None:
    """A field with no value (or a stray comma) used to clear it; now nothing is written."""
    testbot("alice", "new customer Zeta Corp")
    testbot("alice", "edit customer Zeta: city Paris, industry retail, tags vip")
    audits = testbot.count(AuditEntry)
    reply = testbot("alice", text)
    assert reply.status == "error"
    assert f"`{field}` needs a value" in reply.text and "edit customer Acme:" in reply.text
    row = testbot.rows(select(Customer.city, Customer.industry))
    assert row == [("Paris", "retail")]
    assert testbot.count(AuditEntry) == audits
