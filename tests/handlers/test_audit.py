"""Every write is audited: a scripted session of every writing verb leaves a complete trail."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Customer, Deal, Interaction
from handlers.verbs import all_verbs
from tests.conftest import TestBot

SCRIPT = [
    ("new customer", "new customer Acme city Boston"),
    ("edit customer", "edit customer Acme: industry logistics"),
    ("contact add", "contact add Acme: Dana Ruiz, dana@acme.example"),
    ("new deal", "new deal Acme: Fleet 100"),
    ("move", "move Fleet to proposal"),
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
]


# Writing verbs an admin runs, whose audit entries are checked in their own test module.
AUDITED_ELSEWHERE = {
    "link": "tests/handlers/test_links.py",
    "link code": "tests/handlers/test_link_codes.py",
    "quota": "tests/handlers/test_reports.py",
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
    before = testbot.count(AuditEntry)
    for line in (
        "customer Acme",
        "find acme",
        "customers",
        "deals Acme",
        "deals",
        "pipeline",
        "help",
        "help log",
        "whoami",
    ):
        assert testbot("alice", line).status != "error", line
    assert testbot.count(AuditEntry) == before
