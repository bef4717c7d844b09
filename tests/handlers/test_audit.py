"""Every write is audited: a scripted session of every writing verb leaves a complete trail."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Customer, Deal, Feedback, Interaction, Ticket
from handlers.verbs import all_verbs
from tests.conftest import TestBot

SCRIPT = [
    ("new customer", "new customer Acme city Boston"),
    ("edit customer", "edit customer Acme: industry logistics"),
    ("contact add", "contact add Acme: Dana Ruiz, dana@acme.example"),
    ("edit contact", "edit contact Dana Ruiz: title VP Ops, birthday May 3"),
    ("new deal", "new deal Acme: Fleet 100"),
    ("move", "move Fleet to proposal"),
    ("edit deal", "edit deal Fleet: amount 120, close 2027-01-15"),
    ("log", "log call Acme: hi"),
    ("edit", "edit #1: hi, corrected"),
    ("undo", "undo #1"),
    ("remind", "remind me tomorrow 3pm call Dana"),
    ("snooze", "snooze #1 1h"),
    ("done", "done #1"),
    ("remind", "remind me friday 5pm send the report"),
    ("cancel", "cancel #2"),
    ("digest", "digest at 8:45"),
    ("forecast", "forecast #1 commit"),
    ("ticket", "ticket Acme: printer jams on every label, priority high"),
    ("assign", "assign #1 to me"),
    ("reply", "reply #1: a technician comes tomorrow"),
    ("wait", "wait #1"),
    ("reopen", "reopen #1"),
    ("priority", "priority #1 urgent"),
    ("resolve", "resolve #1: replaced the feed roller"),
    ("feedback", 'feedback Acme: nps 9, "fast fix"'),
    ("save segment", 'save segment "Boston" city Boston'),
    ("follow segment", 'follow segment "Boston"'),
    ("unfollow segment", 'unfollow segment "Boston"'),
    ("delete segment", 'delete segment "Boston" confirm'),
    ("archive", "archive Acme confirm"),
    ("unarchive", "unarchive Acme"),
    ("contact add", "contact add Acme: Sam Lee"),
    ("contact remove", "contact remove Sam Lee confirm"),
    ("timezone", "timezone Asia/Taipei"),
    ("quiet", "quiet 20:00-08:00"),
    ("language", "language zh-Hant"),
]


# Writing verbs an admin runs, whose audit entries are checked in their own test module.
AUDITED_ELSEWHERE = {
    "link": "tests/handlers/test_links.py",
    "link code": "tests/handlers/test_link_codes.py",
    "webhook add": "tests/handlers/test_webhooks.py",
    "webhook remove": "tests/handlers/test_webhooks.py",
    "webhook resume": "tests/handlers/test_webhooks.py",
    # A manager's verb, and one whose command names an audit entry made earlier.
    "delete deal": "tests/handlers/test_deal_edit.py",
    "undo deal edit": "tests/handlers/test_deal_edit.py",
    "undo edit": "tests/handlers/test_edit_undo.py",
    "quota": "tests/handlers/test_reports.py",
    # Managers and admins only; its entries (customer.reassign, deal.reassign) are checked there.
    "reassign": "tests/handlers/test_reassign.py",
    # Only managers and admins merge; alice, the scripted rep, is refused.
    "merge": "tests/handlers/test_merge.py",
    # Only admins declare or remove custom fields; alice, the scripted rep, is refused.
    "field add": "tests/handlers/test_custom_fields.py",
    "field remove": "tests/handlers/test_custom_fields.py",
    # Only admins set tiers, pin them and declare care dates (customer.tier, tiers.set, care.*).
    "tiers": "tests/handlers/test_tiers.py",
    "tier": "tests/handlers/test_tiers.py",
    "care": "tests/handlers/test_care.py",
    "care remove": "tests/handlers/test_care.py",
    # Only admins set a team's service calendar (service_calendar.update).
    "team": "tests/handlers/test_teams.py",
    # Only admins set SLA targets (sla_policy.update).
    "sla": "tests/handlers/test_sla_policies.py",
    # Only in a Slack channel or a Telegram group (channel.link, channel.auto, channel.unlink).
    "channel": "tests/handlers/test_channels.py",
    # Needs a saved segment and a frozen campaign (campaign.create, campaign.reached, ...).
    "campaign": "tests/handlers/test_campaigns.py",
    "task": "tests/handlers/test_campaigns.py",
    "end campaign": "tests/handlers/test_campaigns.py",
}


def test_script_covers_every_writing_verb() -> None:
    """A new writing verb must be added to the audit script."""
    assert {v.name for v in all_verbs() if v.writes} == {verb for verb, _ in SCRIPT} | set(
        AUDITED_ELSEWHERE
    )


def test_every_write_has_an_audit_entry(testbot: TestBot) -> None:
    """Each command that writes adds entries naming the actor; each new row has a create entry."""
    alice = testbot.users["alice"]
    for _verb, line in SCRIPT:
        before = testbot.count(AuditEntry)
        reply = testbot("alice", line)
        assert reply.status == "ok", (line, reply.text)
        new = testbot.query(select(AuditEntry).where(AuditEntry.id > before))
        assert new, line
        assert all(e.actor_id == alice and e.changes for e in new), line
    for model, table in (
        (Customer, "customers"),
        (Contact, "contacts"),
        (Deal, "deals"),
        (Interaction, "interactions"),
        (Ticket, "tickets"),
        (Feedback, "feedback"),
    ):
        ids = set(testbot.query(select(model.id)))
        created = set(
            testbot.query(
                select(AuditEntry.entity_id).where(
                    AuditEntry.entity_type == table, AuditEntry.action.like("%.create")
                )
            )
        )
        assert ids and ids <= created, table
    (move,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "deal.move"))
    assert move.changes["stage"] == ["lead", "proposal"]


def test_reads_write_nothing(testbot: TestBot) -> None:
    """Reading verbs leave the audit log alone."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 100")
    before = testbot.count(AuditEntry)
    for line in (
        "customer Acme",
        "find acme",
        "customers",
        "deals Acme",
        "deals",
        "deal Fleet",
        "edit deal Fleet",
        "pipeline",
        "help",
        "help log",
        "whoami",
        "duplicates",
        "tickets",
        "tickets mine",
        "tickets breaching",
        "settings",
        "fields",
        "tiers",
        "tier Acme",
        "cares",
    ):
        assert testbot("alice", line).status != "error", line
    assert testbot.count(AuditEntry) == before
