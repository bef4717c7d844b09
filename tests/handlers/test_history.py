"""history through the real dispatcher: newest first, paged, in the reader's zone, by access."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm_core.models import AuditEntry
from tests.conftest import FakeClock, TestBot


def _book(testbot: TestBot, clock: FakeClock) -> None:
    testbot("alice", "new customer Acme city Chicago")
    clock.advance(minutes=5)
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops")
    clock.advance(minutes=5)
    testbot("alice", "new deal Acme: Fleet renewal 48k")
    clock.advance(minutes=5)
    testbot("alice", "edit customer Acme: city Boston, industry logistics")
    clock.advance(minutes=5)
    testbot("alice", "edit contact Dana: title COO")
    clock.advance(minutes=5)
    testbot("alice", "move Fleet renewal to proposal")


def test_customer_history_newest_first_with_its_parts(testbot: TestBot, clock: FakeClock) -> None:
    """The customer's own changes and its contacts' and deals', newest first, before → after."""
    _book(testbot, clock)
    reply = testbot("alice", "history Acme")
    assert reply.status == "ok" and reply.title == "History of Acme"
    said = [_after_time(i) for i in reply.items]
    assert said[0] == "Alice · deal Fleet renewal moved: stage: lead → proposal"
    assert said[1] == "Alice · contact Dana Ruiz changed: title: VP Ops → COO"
    assert said[2] == (
        "Alice · customer Acme changed: city: Chicago → Boston; industry: none → logistics"
    )
    assert said[-1] == "Alice · customer Acme created"
    assert reply.buttons == []
    # Times in the reader's zone (the log keeps UTC); Chinese words for a Chinese reader.
    newest = max(testbot.query(select(AuditEntry.at)))
    assert reply.items[0].startswith(newest.astimezone(UTC).strftime("%Y-%m-%d %H:%M · "))
    testbot.add_user("mei", role="admin", team=None, locale="zh", timezone="Asia/Shanghai")
    zh = testbot("mei", "历史 Acme")
    assert zh.title == "Acme 的变更历史"
    shanghai = newest.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M · ")
    assert zh.items[0].startswith(shanghai)
    assert _after_time(zh.items[2]) == (
        "Alice · 客户 Acme 已修改: 城市: Chicago → Boston; 行业: 无 → logistics"
    )


def _after_time(item: str) -> str:
    return item.split(" · ", 1)[1]


def test_deal_and_contact_history(testbot: TestBot, clock: FakeClock) -> None:
    """`history deal #1` and `history contact Dana` show only that record's entries."""
    _book(testbot, clock)
    deal = testbot("alice", "history deal #1")
    assert deal.title == "History of deal Fleet renewal" and len(deal.items) == 2
    assert "moved" in deal.items[0] and deal.items[1].endswith("deal Fleet renewal created")
    contact = testbot("alice", "history contact Dana Ruiz")
    assert [i.split(" · ")[2] for i in contact.items] == [
        "contact Dana Ruiz changed: title: VP Ops → COO",
        "contact Dana Ruiz created",
    ]
    assert len(testbot("alice", "历史 商机 #1").items) == 2

    # Named within its customer, as `edit contact Acme / Dana` takes it (half- or full-width).
    assert testbot("alice", "history contact Acme / Dana").items == contact.items
    assert testbot("alice", "history contact Acme／Dana Ruiz").items == contact.items
    missing = testbot("alice", "history contact Acme / Nobody")
    assert missing.status == "error" and "contact add Acme: Nobody" in missing.text


def test_history_is_paged_with_more(testbot: TestBot, clock: FakeClock) -> None:
    """Ten a page; More shows the older ones, and the last page has no More."""
    testbot("alice", "new customer Acme")
    for n in range(12):
        clock.advance(minutes=1)
        testbot("alice", f"edit customer Acme: city C{n}")
    first = testbot("alice", "history Acme")
    assert len(first.items) == 10 and "C10 → C11" in first.items[0]
    (more,) = first.buttons
    assert more.label == "More"
    second = testbot.press("alice", more)
    assert len(second.items) == 3 and second.buttons == []
    assert "C0 → C1" in second.items[0] and second.items[-1].endswith("created")


def test_history_access_and_note_text(testbot: TestBot, clock: FakeClock) -> None:
    """Another book's customer answers like a missing one; a note's text shows to its author,
    managers and admins, and to other reps only as "text edited"."""
    _book(testbot, clock)
    hidden = testbot("dave", "history Acme")
    missing = testbot("dave", "history Nowhere")
    assert hidden.status == missing.status == "error"
    assert hidden.text == missing.text.replace("Nowhere", "Acme")
    assert testbot("dave", "history deal #1").text == testbot(
        "dave", "history deal #99"
    ).text.replace("#99", "#1")
    testbot("bob", "log call Acme: Dana wants 12% off")
    testbot("bob", "edit #1: Dana wants 15% off")
    own = testbot("bob", "history Acme").items[0]
    assert "note" in own and "12% off → Dana wants 15% off" in own
    rep = testbot("alice", "history Acme").items[0]
    assert rep.endswith("changed: text edited") and "15%" not in rep
    assert "15%" in testbot("admin", "history Acme").items[0]
    assert testbot("alice", "history").status == "error"
    assert "history Acme" in testbot("alice", "history").text


def test_history_reads_only_one_customers_entries(testbot: TestBot) -> None:
    """Entries carry their customer, so a page reads by (customer_id, id)."""
    testbot("alice", "new customer Acme")
    testbot("alice", "contact add Acme: Dana Ruiz")
    testbot("alice", "new customer Beta")
    rows = testbot.rows(select(AuditEntry.entity_type, AuditEntry.customer_id))
    assert rows[-3:] == [("customers", 1), ("contacts", 1), ("customers", 2)]
    assert len(testbot("alice", "history Beta").items) == 1
