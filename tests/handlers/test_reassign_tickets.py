"""Reassigning a customer to another team moves its open unassigned tickets to that team (queue,
SLA calendar, triage) and says so; a ticket being worked stays with its assignee's team
(rev10 fault 5)."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Team, Ticket
from tests.conftest import TestBot


def _team(testbot: TestBot, name: str) -> int:
    (tid,) = testbot.query(select(Team.id).where(Team.name == name))
    return int(tid)


def test_reassign_to_another_team_moves_unassigned_open_tickets(testbot: TestBot) -> None:
    testbot.add_user("erin", role="manager", team="West")
    testbot("alice", "new customer Acme")
    testbot("alice", "ticket Acme: printer jams")  # #1, unassigned
    testbot("alice", "ticket Acme: scanner broken, assign @carol")  # #2, carol's (East)
    testbot("alice", "ticket Acme: old question")  # #3, resolved below
    testbot("alice", "resolve #3: answered")
    east, west = _team(testbot, "East"), _team(testbot, "West")
    done = testbot("admin", "reassign Acme to @dave")
    assert done.status == "ok", done.text
    assert "1 open unassigned ticket(s) (#1) moved to the new owner's team" in done.text
    assert "1 open ticket(s) (#2) stay with their assignee's team" in done.text
    teams = testbot.rows(select(Ticket.id, Ticket.team_id).order_by(Ticket.id))
    assert teams == [(1, west), (2, east), (3, east)]
    assert {f.label: f.value for f in testbot("dave", "ticket #1").fields}["Team"] == "West"
    assert any(line.startswith("#1 ") for line in testbot("erin", "tickets team").items)
    assert not any(line.startswith("#1 ") for line in testbot("bob", "tickets team").items)
    assert any(line.startswith("#2 ") for line in testbot("carol", "tickets mine").items)
    audited = testbot.rows(
        select(AuditEntry.entity_id, AuditEntry.changes).where(
            AuditEntry.action == "ticket.reassign"
        )
    )
    assert [(i, c["team_id"]) for i, c in audited] == [(1, [east, west])]


def test_reassign_within_a_team_leaves_tickets_and_says_nothing_of_them(
    testbot: TestBot,
) -> None:
    testbot("alice", "new customer Acme")
    testbot("alice", "ticket Acme: printer jams")
    done = testbot("bob", "reassign Acme to @carol")
    assert done.status == "ok" and "ticket" not in done.text, done.text
    assert testbot.count(AuditEntry) and not testbot.query(
        select(AuditEntry.id).where(AuditEntry.action == "ticket.reassign")
    )


def test_reassigning_the_last_customer_names_what_the_old_owner_still_holds(
    testbot: TestBot,
) -> None:
    """alice's book goes to carol: her assigned ticket and a reminder typed in chat stay hers,
    and the reply says so with what to type (rev14 F5)."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Globex")
    assert testbot("alice", "ticket Acme: invoices wrong, assign @alice").status == "ok"
    assert testbot("alice", "remind me tomorrow 10am call Dana about the quote").status == "ok"
    first = testbot("bob", "reassign Acme to @carol")
    assert "1 open ticket(s) on it (#1) are still assigned to @alice" in first.text, first.text
    assert "`assign #1 to @carol`" in first.text
    last = testbot("bob", "reassign Globex to @carol")
    assert "@alice has no customer left but still holds 1 open ticket(s) assigned (#1" in last.text
    assert "1 pending reminder(s)" in last.text and "`cancel #1`" in last.text, last.text
    assert testbot("bob", "assign #1 to @carol").status == "ok"
