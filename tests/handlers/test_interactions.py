"""Logging interactions, editing and undoing them through the real dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from crm_core.models import AuditEntry, IndexOutbox, Interaction, InteractionKind
from tests.conftest import TestBot


def _setup(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme Logistics")
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example")
    testbot("alice", "new deal Acme: Fleet renewal 48000 USD")


def test_log_call_saves_author_time_kind_and_offers_undo(testbot: TestBot) -> None:
    """A plain log stores everything and answers with an Undo button."""
    _setup(testbot)
    reply = testbot(
        "alice", "log call Acme: Dana wants 12% off the renewal, legal review next week"
    )
    assert reply.status == "ok", reply.text
    (note,) = testbot.query(select(Interaction))
    assert note.kind == InteractionKind.call
    assert note.author_id == testbot.users["alice"]
    assert note.text == "Dana wants 12% off the renewal, legal review next week"
    assert note.occurred_at == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert note.source == "console"
    assert [b.label for b in reply.buttons] == ["Undo", "Open"]
    undone = testbot.press("alice", reply.buttons[0])
    assert undone.status == "ok" and "Removed" in undone.text
    (note,) = testbot.query(select(Interaction))
    assert note.deleted_at is not None
    card = testbot("alice", "customer Acme")
    assert all("12% off" not in line for s in card.sections for line in s.lines)
    assert testbot("alice", f"undo #{note.id}").status == "error"


def test_log_with_time_deal_and_contact(testbot: TestBot) -> None:
    """Options after commas: a time in the user's zone, a deal, a contact."""
    testbot.add_user("nina", timezone="America/New_York")
    testbot("nina", "new customer Acme Logistics")
    testbot("nina", "contact add Acme: Dana Ruiz")
    testbot("nina", "new deal Acme: Fleet renewal 48000")
    reply = testbot(
        "nina", "log meeting Acme, yesterday 3pm, deal fleet, with Dana: pricing walkthrough"
    )
    assert reply.status == "ok", reply.text
    (note,) = testbot.query(select(Interaction))
    assert note.kind == InteractionKind.meeting
    # 3pm in New York on 22 November is 20:00 UTC.
    assert note.occurred_at == datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert note.deal_id is not None and note.contact_id is not None
    assert "Fleet renewal" in reply.text and "Dana Ruiz" in reply.text


def test_log_kinds_default_and_chinese(testbot: TestBot) -> None:
    """No kind means a note; Chinese verbs and kinds work, in Traditional characters too."""
    testbot("alice", "new customer 华东物流有限公司")
    assert testbot("alice", "log 华东物流: general remark").status == "ok"
    assert testbot("alice", "记录 拜访 华东物流：客户希望下月试用").status == "ok"
    assert testbot("alice", "記錄 電話 華東物流：討論價格").status == "ok"
    kinds = [n.kind for n in testbot.query(select(Interaction).order_by(Interaction.id))]
    assert kinds == [InteractionKind.note, InteractionKind.visit, InteractionKind.call]


def test_customer_name_with_comma(testbot: TestBot) -> None:
    """A comma inside a customer's name is not mistaken for an option."""
    testbot("alice", "new customer Smith, Jones & Co")
    assert testbot("alice", "log call Smith, Jones & Co, yesterday: hello").status == "ok"
    # A part that is neither the rest of an exact name nor an option is refused, not dropped.
    for line in (
        "log call Smith, Dana Ruiz: x",
        "log call Smith, w/ Dana: x",
        "log call Smith, yesterday 25pm: x",
        "log call Smith, deal : x",
        "log call Smith, with : x",
    ):
        reply = testbot("alice", line)
        assert reply.status == "error", (line, reply.text)
    assert testbot.count(Interaction) == 1


def test_clock_time_colon_is_not_the_separator(testbot: TestBot) -> None:
    """`at 10:30: text` keeps the time and the whole text."""
    testbot("alice", "new customer Acme")
    assert testbot("alice", "log call Acme, 10:30: talked through pricing").status == "ok"
    (note,) = testbot.query(select(Interaction))
    assert note.text == "talked through pricing"
    assert (note.occurred_at.hour, note.occurred_at.minute) == (10, 30)


def test_log_refuses_future_and_unknown_option(testbot: TestBot) -> None:
    """Bad times and options are refused with a clear message and nothing is written."""
    _setup(testbot)
    future = testbot("alice", "log call Acme, tomorrow 3pm: will call")
    assert future.status == "error" and "future" in future.text
    odd = testbot("alice", "log call Acme, deal Fleet, banana: x")
    assert odd.status == "error" and "banana" in odd.text
    no_text = testbot("alice", "log call Acme:")
    assert no_text.status == "error" and "after the colon" in no_text.text
    no_colon = testbot("alice", "log call Acme")
    assert no_colon.status == "error" and "log call Acme:" in no_colon.text
    missing_contact = testbot("alice", "log call Acme, with Zed: x")
    assert missing_contact.status == "error" and "contact add" in missing_contact.text
    assert testbot.count(Interaction) == 0


def test_idempotency_key_writes_once(testbot: TestBot) -> None:
    """The same platform message delivered twice is logged once."""
    _setup(testbot)
    first = testbot("alice", "log call Acme: hello", idempotency_key="slack:T1:123.456")
    again = testbot("alice", "log call Acme: hello", idempotency_key="slack:T1:123.456")
    assert first.status == "ok" and again.status == "info"
    assert "Already logged" in again.text
    assert testbot.count(Interaction) == 1


def test_log_and_undo_are_audited(testbot: TestBot) -> None:
    """Creation and removal each leave an audit entry by the actor."""
    _setup(testbot)
    reply = testbot("alice", "log call Acme: hello")
    testbot.press("alice", reply.buttons[0])
    actions = [
        (e.action, e.actor_id)
        for e in testbot.query(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "interactions")
            .order_by(AuditEntry.id)
        )
    ]
    alice = testbot.users["alice"]
    assert actions == [("interaction.create", alice), ("interaction.delete", alice)]


def test_other_rep_cannot_undo(testbot: TestBot) -> None:
    """Undo is access-checked: another rep gets the same answer as for a missing note."""
    _setup(testbot)
    testbot("alice", "log call Acme: hello")
    (note,) = testbot.query(select(Interaction))
    theirs = testbot("dave", f"undo #{note.id}")
    missing = testbot("dave", "undo #99999")
    assert theirs.text.replace(str(note.id), "N") == missing.text.replace("99999", "N")
    assert testbot.query(select(Interaction))[0].deleted_at is None
    assert testbot("bob", f"undo #{note.id}").status == "ok"


def test_rep_cannot_undo_a_colleagues_note(testbot: TestBot) -> None:
    """A rep removes only their own notes; their manager may remove any in the team."""
    testbot("alice", "new customer Acme")
    testbot("bob", "log call Acme: manager's note")
    (note,) = testbot.query(select(Interaction))
    refused = testbot("alice", f"undo #{note.id}")
    assert refused.status == "error" and "author or a manager" in refused.text
    assert testbot.query(select(Interaction))[0].deleted_at is None
    assert testbot("bob", f"undo #{note.id}").status == "ok"


def test_edit_replaces_the_text_audited_and_reindexed(testbot: TestBot) -> None:
    """The author corrects a note: new text, an audit entry with the old one, an outbox row."""
    _setup(testbot)
    testbot("alice", "log call Acme: Dana wants 12% off the renewal")
    (note,) = testbot.query(select(Interaction))
    reply = testbot("alice", f"edit #{note.id}: Dana wants 15% off the renewal, not 12%")
    assert reply.status == "ok", reply.text
    assert reply.text.startswith(f"Updated note #{note.id}")
    assert [b.label for b in reply.buttons] == ["Show note", "Open"]
    assert testbot.query(select(Interaction.text)) == ["Dana wants 15% off the renewal, not 12%"]
    (entry,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "interaction.update"))
    assert entry.actor_id == testbot.users["alice"]
    assert entry.changes == {
        "text": ["Dana wants 12% off the renewal", "Dana wants 15% off the renewal, not 12%"]
    }
    assert testbot.count(IndexOutbox) == 2  # the log, then the edit
    audited = testbot.count(AuditEntry)
    same = testbot("alice", f"修改 #{note.id}： Dana wants 15% off the renewal, not 12% ")
    assert same.status == "info" and "nothing changed" in same.text
    assert testbot.count(IndexOutbox) == 2 and testbot.count(AuditEntry) == audited


def test_edit_is_access_checked_like_undo(testbot: TestBot) -> None:
    """Another book's rep gets "no note"; a colleague is refused; the manager may edit."""
    testbot("alice", "new customer Acme")
    testbot("bob", "log call Acme: manager's note")
    (note,) = testbot.query(select(Interaction))
    other = testbot("dave", f"edit #{note.id}: mine now")
    missing = testbot("dave", "edit #99999: mine now")
    assert other.text.replace(str(note.id), "N") == missing.text.replace("99999", "N")
    refused = testbot("alice", f"edit #{note.id}: corrected")
    assert refused.status == "error" and "author or a manager can change it" in refused.text
    assert testbot.query(select(Interaction.text)) == ["manager's note"]
    assert testbot("bob", f"edit #{note.id}: manager's corrected note").status == "ok"
    testbot("bob", f"undo #{note.id}")
    assert "no note" in testbot("bob", f"edit #{note.id}: again").text.lower()
