"""The customer verbs through the real dispatcher: card, find, customers, new customer."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Customer
from tests.conftest import TestBot


def test_new_customer_with_options_and_card(testbot: TestBot) -> None:
    """Creating a customer stores its fields; the card shows them with contacts and deals."""
    reply = testbot(
        "alice", "new customer Acme Logistics industry logistics city Boston tags fleet, EU"
    )
    assert reply.status == "ok", reply.text
    assert "Acme Logistics" in reply.text
    (customer,) = testbot.query(select(Customer))
    assert (customer.industry, customer.city, customer.tags) == (
        "logistics",
        "Boston",
        ["eu", "fleet"],
    )
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example, +1 617 555 0101")
    testbot("alice", "new deal Acme: Fleet renewal 48000 USD close 2026-12-15")
    testbot("alice", "log call Acme: Dana wants 12% off")
    card = testbot("alice", "customer acme logistics")
    assert card.title == "Acme Logistics"
    fields = {f.label: f.value for f in card.fields}
    assert fields["Owner"] == "Alice"
    assert fields["Industry"] == "logistics"
    assert fields["City"] == "Boston"
    assert fields["Tags"] == "eu, fleet"
    assert fields["Last contact"].startswith("today")
    sections = {s.title: s.lines for s in card.sections}
    assert any("Dana Ruiz" in line and "VP Ops" in line for line in sections["Contacts"])
    assert any("Fleet renewal" in line and "48,000 USD" in line for line in sections["Open deals"])
    assert any("Dana wants 12% off" in line for line in sections["Recent interactions"])
    assert card.shareable


def test_near_duplicate_is_flagged_not_created(testbot: TestBot) -> None:
    """A near-duplicate name answers with the existing record; only an explicit press creates."""
    testbot("alice", "new customer Acme Logistics")
    exact = testbot("alice", "new customer ACME logistics inc.")
    assert exact.status == "info"
    assert "already exists" in exact.text
    assert [b.label for b in exact.buttons] == ["Acme Logistics"]
    assert testbot.count(Customer) == 1
    near = testbot("alice", "new customer Acme Logistic")
    assert "very similar" in near.text
    assert testbot.count(Customer) == 1
    anyway = near.buttons[-1]
    assert anyway.label == "Create a new one anyway"
    created = testbot.press("alice", anyway)
    assert created.status == "ok", created.text
    assert testbot.count(Customer) == 2


def test_duplicate_check_only_sees_own_book(testbot: TestBot) -> None:
    """A rep's duplicate check must not reveal another rep's customer."""
    testbot("dave", "new customer Globex")
    reply = testbot("alice", "new customer Globex")
    assert reply.status == "ok"
    assert "dave" not in reply.text.lower()


def test_owner_assignment_rules(testbot: TestBot) -> None:
    """Managers assign within their team, admins to anyone, reps only to themselves."""
    denied = testbot("alice", "new customer Initech owner @carol")
    assert denied.status == "error" and "cannot make" in denied.text
    assert testbot("bob", "new customer Initech owner @carol").status == "ok"
    assert testbot("bob", "new customer Umbrella owner @dave").status == "error"
    assert testbot("admin", "new customer Umbrella owner @dave").status == "ok"
    unknown = testbot("admin", "new customer Hooli owner @nobody")
    assert unknown.status == "error" and "no user" in unknown.text
    owners = {c.name: c.owner_id for c in testbot.query(select(Customer))}
    assert owners == {"Initech": testbot.users["carol"], "Umbrella": testbot.users["dave"]}


def test_quoted_name_keeps_keywords(testbot: TestBot) -> None:
    """A quoted name may contain a keyword such as `city`."""
    testbot("alice", 'new customer "Kansas City Steaks" city Kansas City')
    (customer,) = testbot.query(select(Customer))
    assert (customer.name, customer.city) == ("Kansas City Steaks", "Kansas City")


def test_find_and_list(testbot: TestBot) -> None:
    """find matches substrings and typos; customers pages through the book."""
    for name in ("Acme Logistics", "Acme Foods", "Northwind Traders"):
        testbot("alice", f"new customer {name}")
    found = testbot("alice", "find acme")
    assert len(found.items) == 2
    typo = testbot("alice", "find northwnd")
    assert any("Northwind" in item for item in typo.items)
    assert "No customer" in testbot("alice", "find zzzz").text
    listed = testbot("alice", "customers")
    assert len(listed.items) == 3 and "3" in (listed.title or "")
    assert testbot("alice", "customers page 9").status == "error"
    assert testbot("alice", "customers banana").status == "error"


def test_customers_paging(testbot: TestBot) -> None:
    """More than a page offers a More button that shows the next page."""
    for i in range(23):
        testbot("alice", f"new customer Company {chr(65 + i)}{chr(65 + i)}x")
    first = testbot("alice", "customers")
    assert len(first.items) == 20
    second = testbot.press("alice", first.buttons[0])
    assert len(second.items) == 3


def test_ambiguous_card_offers_buttons(testbot: TestBot) -> None:
    """An ambiguous name lists candidates as buttons; pressing one opens that card."""
    testbot("alice", "new customer Acme Logistics")
    testbot("alice", "new customer Acme Foods")
    reply = testbot("alice", "customer acme")
    assert reply.status == "info"
    assert sorted(b.label for b in reply.buttons) == ["Acme Foods", "Acme Logistics"]
    chosen = next(b for b in reply.buttons if b.label == "Acme Foods")
    assert testbot.press("alice", chosen).title == "Acme Foods"


def test_creation_is_audited(testbot: TestBot) -> None:
    """The audit entry names the actor and the created fields."""
    testbot("alice", "new customer Acme city Boston")
    (entry,) = testbot.query(select(AuditEntry).where(AuditEntry.entity_type == "customers"))
    assert entry.actor_id == testbot.users["alice"]
    assert entry.action == "customer.create"
    assert entry.changes["city"] == [None, "Boston"]
    assert entry.changes["name"] == [None, "Acme"]


def test_find_by_contact_and_city(testbot: TestBot) -> None:
    """find also matches a contact's name or email and the city, after name matches."""
    testbot("alice", "new customer Acme Logistics city Boston")
    testbot("alice", "new customer Northwind city Denver")
    testbot("alice", "contact add Northwind: Dana Ruiz, dana@northwind.example")
    testbot("dave", "new customer Globex city Boston")
    testbot("dave", "contact add Globex: Dana Smith")
    assert [i.split(" · ")[0] for i in testbot("alice", "find dana").items] == ["#2 Northwind"]
    assert [i.split(" · ")[0] for i in testbot("alice", "find boston").items] == [
        "#1 Acme Logistics"
    ]
    assert "Northwind" in testbot("alice", "find northwind.example").items[0]


def test_card_shows_only_the_reminders_the_viewer_may_manage(testbot: TestBot) -> None:
    """Alice's card shows hers, not her manager's "performance review of Alice"; bob sees all."""
    testbot("alice", "new customer Acme")
    assert testbot("alice", "remind me tomorrow 3pm call Dana about Acme").status == "ok"
    assert (
        testbot("bob", "remind me tomorrow 9am performance review of Alice about Acme").status
        == "ok"
    )
    assert testbot("bob", "remind @alice tomorrow 11am send the quote about Acme").status == "ok"
    assert (
        testbot("admin", "remind @bob tomorrow 10am audit Acme pricing about Acme").status == "ok"
    )
    assert testbot("admin", "remind me tomorrow 8am check Acme payments about Acme").status == "ok"

    def pending(who: str) -> list[str]:
        card = testbot(who, "customer Acme")
        section = next(s for s in card.sections if s.title == "Pending reminders")
        return sorted(line.split(" · ", 1)[1] for line in section.lines)

    alice = ["call Dana about Acme", "send the quote about Acme"]
    assert pending("alice") == alice
    bob = sorted(
        [*alice, "audit Acme pricing about Acme", "performance review of Alice about Acme"]
    )
    assert pending("bob") == bob
    assert pending("admin") == sorted([*bob, "check Acme payments about Acme"])


def test_list_titles_say_whose_book_it_is_and_names_end_sentences_once(testbot: TestBot) -> None:
    """A manager's list is the team's, an admin's everyone's; "Inc." ends a sentence once."""
    created = testbot("alice", "new customer Initech Inc.")
    assert created.text.count("Inc.") == 1 and "Inc.." not in created.text
    testbot("dave", "new customer Globex")
    assert testbot("alice", "customers").title.startswith("Your customers: 1 ")
    assert testbot("bob", "customers").title.startswith("Your team's customers: 1 ")
    assert testbot("admin", "customers").title.startswith("All customers: 2 ")


def test_undo_of_a_plain_note_does_not_say_note_twice(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme")
    logged = testbot("alice", "log note Acme: spoke to reception")
    (note_id,) = [
        b.payload["text"].split("#")[1]
        for b in logged.buttons
        if "undo" in b.payload.get("text", "")
    ]
    reply = testbot("alice", f"undo #{note_id}")
    assert reply.text.startswith("Removed the note with Acme") and "note note" not in reply.text
