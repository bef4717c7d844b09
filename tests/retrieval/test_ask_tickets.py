"""`ask` knows tickets: subjects, descriptions, replies and resolutions are indexed with the
notes, cited as "ticket #N", and visible as their customer is."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import IndexOutbox
from handlers.reply import Reply
from retrieval.notes import live_notes
from tests.conftest import TestBot
from tests.retrieval.conftest import log_note


def _opened(testbot: TestBot, who: str, line: str) -> int:
    reply = testbot(who, line)
    assert reply.status == "ok", reply.text
    (number,) = [b.payload["text"] for b in reply.buttons if b.payload["text"].startswith("ticket")]
    return int(number.split("#")[1].split()[0])


def _cited_tickets(reply: Reply) -> list[int]:
    return [
        int(b.payload["text"].split("#")[1])
        for b in reply.buttons
        if b.payload["text"].startswith("ticket #")
    ]


def test_ask_cites_tickets_beside_notes(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme Logistics")
    testbot("dave", "new customer Globex")
    note = log_note(testbot, "alice", "log call Acme, 2026-10-20: Dana wants a 12% discount.")
    jam = _opened(testbot, "alice", "ticket Acme: label printer jams on every label, priority high")
    assert testbot("alice", f"reply #{jam}: asked them to send a photo of the feed path").status
    fixed = testbot(
        "alice", f"resolve #{jam}: replaced the worn printer roller, labels print again"
    )
    assert fixed.status == "ok", fixed.text
    other = _opened(testbot, "dave", "ticket Globex: printer offline after the firmware update")
    # A ticket's rows in the outbox, under its own key (never an interaction's).
    keys = {k for (k,) in testbot.rows(select(IndexOutbox.interaction_id))}
    assert {-jam, -other, note} <= keys
    reply = testbot("alice", "ask what problems has Acme had with the printers?")
    assert reply.status == "ok", reply.text
    assert _cited_tickets(reply)[0] == jam
    line = reply.sections[0].lines[0]
    assert f"ticket #{jam}" in line and "Acme Logistics" in line
    assert "roller" in reply.text or "jams" in reply.text
    # The citation opens the ticket's card.
    button = next(b for b in reply.buttons if b.payload["text"] == f"ticket #{jam}")
    assert testbot.press("alice", button).title == f"#{jam} label printer jams on every label"
    # What fixed it is found by its own words too.
    roller = testbot("alice", "ask Acme: what did we replace in the printer?")
    assert _cited_tickets(roller)[:1] == [jam] and "roller" in roller.text
    # A ticket is as private as its customer: alice never sees Globex's, dave never Acme's.
    assert other not in _cited_tickets(testbot("alice", "ask printer offline after firmware?"))
    theirs = testbot("dave", "ask what problems with the printers?")
    assert jam not in _cited_tickets(theirs) and other in _cited_tickets(theirs)


def test_chinese_ticket_and_a_rebuild_keeps_tickets(testbot: TestBot) -> None:
    testbot.add_user("wang", locale="zh")
    testbot("wang", "新客户 华东物流")
    tid = _opened(testbot, "wang", "工单 华东物流：仓库扫码枪无法连接系统，优先级 高")
    reply = testbot("wang", "问 华东物流：扫码枪有什么问题？")
    assert reply.status == "ok", reply.text
    assert _cited_tickets(reply)[0] == tid
    assert f"工单 #{tid}" in reply.sections[0].lines[0]
    # A rebuild from the database (reindex, a new process) reads the tickets too.
    with testbot.session_factory() as s:
        built = [n for batch in live_notes(s) for n in batch]
    (ticket,) = [n for n in built if n.meta.kind == "ticket"]
    assert ticket.interaction_id == -tid and "扫码枪" in ticket.passages[0].text
