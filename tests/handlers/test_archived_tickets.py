"""One rule for an archived customer's open tickets (rev10 faults 3 and 4): the archive card
lists them, and they stay open and workable by the owner, the assignee and the team's manager
alike, marked archived; a ticket's CSAT is for whoever may work the ticket."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Feedback, Ticket, TicketStatus
from tests.conftest import TestBot


def _archived_with_tickets(testbot: TestBot) -> None:
    """alice's Mesa with ticket #1 (unassigned, urgent) and #2 (carol's), then archived."""
    testbot("alice", "new customer Mesa")
    assert testbot("alice", "ticket Mesa: cannot find product, priority urgent").status == "ok"
    assert testbot("alice", "ticket Mesa: invoice wrong").status == "ok"
    assert testbot("alice", "assign #2 to @carol").status == "ok"
    card = testbot("alice", "archive Mesa")
    assert "2 open ticket(s) (#1, #2) stay open" in card.text, card.text
    assert testbot("alice", "archive Mesa confirm").status == "ok"


def test_the_archive_card_names_open_tickets_and_says_they_stay_open(testbot: TestBot) -> None:
    """A customer without open tickets gets no ticket line; resolved ones are not counted."""
    testbot("alice", "new customer Quiet")
    assert "ticket" not in testbot("alice", "archive Quiet").text
    testbot("alice", "ticket Quiet: one question")
    testbot("alice", "resolve #1: answered")
    assert "ticket" not in testbot("alice", "archive Quiet").text


def test_open_tickets_of_an_archived_customer_stay_workable_for_everyone(
    testbot: TestBot,
) -> None:
    _archived_with_tickets(testbot)
    for who in ("alice", "bob", "carol", "admin"):
        listed = testbot(who, "tickets")
        shown = [line for line in listed.items if "Mesa (archived)" in line]
        assert shown, (who, listed.text, listed.items)
    card = testbot("alice", "ticket #1")
    assert card.status == "ok", card.text
    assert {f.label: f.value for f in card.fields}["Customer"].endswith("Mesa (archived)")
    assert testbot("alice", "reply #1: found it in the old catalogue").status == "ok"
    assert testbot("alice", "resolve #1: sent the link").status == "ok"
    assert testbot("carol", "resolve #2: credit note sent").status == "ok"
    statuses = testbot.query(select(Ticket.status).order_by(Ticket.id))
    assert statuses == [TicketStatus.resolved, TicketStatus.resolved]
    # The customer itself stays archived: a new ticket waits for unarchive, and says how.
    new = testbot("alice", "ticket Mesa: another one")
    assert new.status != "ok" and "unarchive" in new.text
    assert testbot.count(Ticket) == 2
    # Its open-ticket scores: carol, the assignee, records the CSAT of hers.
    assert testbot("carol", "feedback #2: csat 5").status == "ok"


def test_the_assignee_records_the_csat_of_their_ticket(testbot: TestBot) -> None:
    """carol works alice's customer's ticket: its CSAT is hers to record; dave (West), who
    cannot see the ticket, is told about the ticket he typed, not a customer."""
    testbot("alice", "new customer Acme")
    testbot("alice", "ticket Acme: printer jams, assign @carol")
    (tid,) = testbot.query(select(Ticket.id))
    assert testbot.query(select(Ticket.assignee_id)) == [testbot.users["carol"]]
    testbot("carol", f"resolve #{tid}: replaced the roller")
    done = testbot("carol", f"feedback #{tid}: csat 5")
    assert done.status == "ok" and "Acme" in done.text, done.text
    assert testbot.rows(select(Feedback.ticket_id, Feedback.kind, Feedback.score)) == [
        (tid, "csat", 5)
    ]
    recorded = testbot.query(
        select(AuditEntry.actor_id).where(AuditEntry.action == "feedback.create")
    )
    assert recorded == [testbot.users["carol"]]
    refused = testbot("dave", f"feedback #{tid}: csat 1")
    assert refused.status == "error" and f"ticket #{tid}" in refused.text, refused.text
    assert "customer" not in refused.text
    # Without a ticket the score is the customer's: carol, who does not own Acme, may not.
    assert testbot("carol", "feedback Acme: nps 9").status == "error"
    assert testbot.count(Feedback) == 1
