"""`archive Acme` / `unarchive Acme`: out of every list and report, card kept, writes refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, Customer
from crm_core.services.home import my_recent_customers
from tests.conftest import TestBot


@pytest.fixture
def book(testbot: TestBot, clock) -> TestBot:  # type: ignore[no-untyped-def]
    """Acme Logistics (to archive) and Beta Freight, alice's, each with a deal and a note."""
    close = (clock.now + timedelta(days=2)).date().isoformat()
    for name in ("Acme Logistics", "Beta Freight"):
        assert testbot("alice", f"new customer {name} city Boston").status == "ok"
        word = name.split()[0]
        assert testbot("alice", f"new deal {word}: {word} renewal 50k close {close}").status == "ok"
        reply = testbot("alice", f"log call {word}: {word} wants 12% off the renewal")
        assert reply.status == "ok", reply.text
    return testbot


def archive(book: TestBot, who: str = "alice") -> int:
    """Archive Acme through its confirm card; returns its id."""
    preview = book(who, "archive Acme")
    assert preview.status == "info", preview.text
    confirm = preview.buttons[0]
    assert confirm.payload["text"].endswith(" confirm")
    done = book.press(who, confirm)
    assert done.status == "ok", done.text
    (cid,) = book.query(select(Customer.id).where(Customer.name == "Acme Logistics"))
    return int(cid)


def test_archived_customer_leaves_every_list_and_report(book: TestBot) -> None:
    """customers, find, deals, pipeline, digest, ask, reports, duplicates and Home leave it out."""
    surfaces = {
        "customers": "customers",
        "find": "find acme",
        "deals": "deals",
        "pipeline": "pipeline",
        "digest": "digest",
        "ask": "ask who wants 12% off the renewal?",
    }

    def shown(line: str) -> str:
        reply = book("alice", line)
        return "\n".join(
            [reply.text, reply.title or "", *reply.items, *(f.value for f in reply.fields)]
            + [x for s in reply.sections for x in s.lines]
        )

    # Reports show totals, as alice and as the admin (whose queries take no book filter).
    totals = {
        ("alice", "forecast"): ("Pipeline: 100,000 USD", "Pipeline: 50,000 USD"),
        ("admin", "pipeline"): ("Total: 100,000 USD", "Total: 50,000 USD"),
        ("admin", "report activity"): ("Total: call 2", "Total: call 1"),
    }

    def fields(who: str, line: str) -> str:
        return "\n".join(f"{f.label}: {f.value}" for f in book(who, line).fields)

    for (who, line), (was, _) in totals.items():
        assert was in fields(who, line), (who, line)
    before = {k: shown(v) for k, v in surfaces.items()}
    for surface, text in before.items():
        assert "Acme Logistics" in text or surface == "pipeline", (surface, text)
    # The pipeline shows totals: both deals before, Beta's alone after.
    assert "100,000 USD" in before["pipeline"]
    cid = archive(book)
    after = {k: shown(v) for k, v in surfaces.items()}
    for surface, text in after.items():
        assert "Acme Logistics" not in text, (surface, text)
    assert "100,000 USD" not in after["pipeline"] and "50,000 USD" in after["pipeline"]
    assert "Beta" in after["customers"] and "Beta" in after["deals"]
    for (who, line), (_, now) in totals.items():
        assert now in fields(who, line), (who, line)
    with book.session_factory() as session:
        from crm_core.context import Ctx
        from crm_core.models import User

        alice = session.get(User, book.users["alice"])
        assert alice is not None
        assert cid not in [c.id for c in my_recent_customers(Ctx(session, alice), limit=5)]
    book("alice", "new customer ACME Logistics Inc --force")
    assert book("alice", "duplicates").status == "info"
    # Unarchived, it is back everywhere.
    assert book("alice", f"unarchive #{cid}").status == "ok"
    assert "Acme" in shown("customers") and "100,000 USD" in shown("pipeline")


def test_card_still_opens_marked_archived_and_writes_are_refused(book: TestBot) -> None:
    """The card says archived; edit, log, contact add and new deal say to unarchive first."""
    cid = archive(book)
    card = book("alice", "customer Acme Logistics")
    assert card.status == "ok" and card.title == "Acme Logistics"
    assert "Archived" in card.text and f"unarchive #{cid}" in card.text
    assert book("alice", f"customer #{cid}").title == "Acme Logistics"
    audited = book.count(AuditEntry)
    for line in (
        "edit customer Acme Logistics: city Denver",
        f"log call #{cid}: after archiving",
        f"contact add #{cid}: Dana Ruiz",
        f"new deal #{cid}: Another 10k",
    ):
        reply = book("alice", line)
        assert reply.status == "error", (line, reply.text)
        assert (
            reply.text
            == f"Acme Logistics is archived: type `unarchive #{cid}` first, then try again."
        )
    assert book.count(AuditEntry) == audited
    assert book("alice", f"unarchive #{cid}").status == "ok"
    assert book("alice", "edit customer Acme: city Denver").status == "ok"


def test_archive_confirm_card_cancel_twice_and_audit(book: TestBot) -> None:
    """Cancel writes nothing; Confirm archives once; pressed again it says so; audited."""
    audited = book.count(AuditEntry)
    preview = book("alice", "archive Acme")
    assert preview.title is not None and preview.title.startswith("Archive #")
    assert "1 open deal" in preview.text
    confirm, cancel = preview.buttons
    assert "nothing was archived" in book.press("alice", cancel).text
    assert book.count(AuditEntry) == audited
    assert book.press("alice", confirm).status == "ok"
    again = book.press("alice", confirm)
    assert again.status == "info" and "already archived" in again.text
    entries = book.query(select(AuditEntry).where(AuditEntry.id > audited))
    assert [e.action for e in entries] == ["customer.archive"]
    assert entries[0].changes["archived_at"][0] is None
    unarchived = book("alice", "unarchive Acme")
    assert unarchived.status == "ok", unarchived.text
    assert book("alice", "unarchive Acme").status == "info"
    assert book.query(select(AuditEntry.action).where(AuditEntry.id > audited)) == [
        "customer.archive",
        "customer.unarchive",
    ]


def test_who_may_archive(book: TestBot) -> None:
    """The owner (a rep too), their manager and an admin; others get the missing answer."""
    for who in ("carol", "dave"):
        reply = book(who, "archive Acme confirm")
        assert reply.status == "error" and "Acme" in reply.text
    assert book.query(select(Customer.archived_at).where(Customer.name == "Acme Logistics")) == [
        None
    ]
    assert book("bob", "archive Acme confirm").status == "ok"
    assert book("carol", "unarchive Acme").status == "error"
    assert book("admin", "unarchive Acme").status == "ok"
    assert book("alice", "archive Acme confirm").status == "ok"


def test_archive_in_chinese_and_bad_input(book: TestBot) -> None:
    """归档 and 取消归档; an empty or unknown customer says what to type and writes nothing."""
    book.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    assert book("wei", "新客户 华东物流 城市 上海").status == "ok"
    preview = book("wei", "归档 华东物流")
    assert preview.title is not None and preview.title.startswith("归档 #")
    assert [b.label for b in preview.buttons] == ["确认", "取消"]
    assert book("wei", "归档 华东物流 确认").text.startswith("已归档")
    assert book("wei", "取消归档 华东物流").text.startswith("已取消归档")
    audited = book.count(AuditEntry)
    for line, hint in (
        ("archive", "`archive Acme`"),
        ("unarchive", "`unarchive Acme`"),
        ("archive Nobody", "Nobody"),
    ):
        reply = book("alice", line)
        assert reply.status == "error" and hint in reply.text, (line, reply.text)
    assert book.count(AuditEntry) == audited
