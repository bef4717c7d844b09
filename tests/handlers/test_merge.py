"""`merge #31 into #7` through the real dispatcher: preview, confirm, tombstone, access."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select, update

from crm_core.db import unit_of_work
from crm_core.exchange import ImportFailed
from crm_core.models import (
    AuditEntry,
    Contact,
    Customer,
    Deal,
    Feedback,
    IndexOutbox,
    Interaction,
    Reminder,
    Segment,
    SegmentMember,
    Ticket,
)
from tests.conftest import TestBot
from tests.crm_core.test_exchange import run_export, run_import, wipe
from tests.handlers.test_duplicates import add_customers

MOVED = (Contact, Deal, Interaction, Reminder)


def counts(testbot: TestBot, *customer_ids: int) -> dict[str, int]:
    """Rows of each moved kind that belong to these customers together."""
    return {
        m.__tablename__: testbot.query(
            select(func.count()).select_from(m).where(m.customer_id.in_(customer_ids))
        )[0]
        for m in MOVED
    }


def two_acmes(testbot: TestBot, owner: str = "alice", other: str | None = None) -> tuple[int, int]:
    """Acme Logistics (#keep) and its duplicate ACME logistics inc. (#drop), each with records."""
    (keep,) = add_customers(testbot, owner, "Acme Logistics")
    (drop,) = add_customers(testbot, other or owner, "ACME logistics inc.")
    testbot(owner, f"edit customer #{keep}: tags fleet, city Boston")
    testbot(other or owner, f"edit customer #{drop}: tags vip, city Chicago, industry logistics")
    for who, cid in ((owner, keep), (other or owner, drop)):
        assert (
            testbot(who, f"contact add #{cid}: Dana {cid}, dana{cid}@acme.example").status == "ok"
        )
        assert testbot(who, f"new deal #{cid}: Fleet {cid} 100").status == "ok"
        assert testbot(who, f"log call #{cid}: note {cid} about pricing").status == "ok"
        assert testbot(who, f"log visit #{cid}: second note {cid}").status == "ok"
    reply = testbot(other or owner, "remind me tomorrow 3pm call Dana about the renewal")
    assert reply.status == "ok", reply.text
    with unit_of_work(testbot.session_factory) as session:
        # The reminder is about the duplicate (a reminder names its customer by id).
        session.execute(update(Reminder).values(customer_id=drop))
    return keep, drop


def test_merge_previews_then_confirm_moves_every_row(testbot: TestBot) -> None:
    """The preview writes nothing; Confirm moves everything, keeps the tombstone and audits."""
    keep, drop = two_acmes(testbot)
    before = counts(testbot, keep, drop)
    audited = testbot.count(AuditEntry)
    preview = testbot("bob", f"merge #{drop} into #{keep}")
    assert preview.status == "info", preview.text
    assert preview.title == f"Merge #{drop} ACME logistics inc. into #{keep} Acme Logistics?"
    shown = {f.label: f.value for f in preview.fields}
    assert shown["Moves"] == "1 contact(s), 1 deal(s), 2 note(s), 1 reminder(s)"
    assert shown["City"] == "Boston (kept) · Chicago (dropped)"
    assert shown["Industry"].startswith("logistics (from #")
    assert shown["Tags"] == "fleet, vip"
    assert testbot.count(AuditEntry) == audited
    confirm, cancel = preview.buttons
    assert confirm.payload["text"] == f"merge #{drop} into #{keep} confirm"
    assert "nothing was merged" in testbot.press("bob", cancel).text
    assert testbot.count(AuditEntry) == audited
    done = testbot.press("bob", confirm)
    assert done.status == "ok", done.text
    assert done.text == f"Merged #{drop} ACME logistics inc. into #{keep} Acme Logistics."
    assert counts(testbot, keep) == before and counts(testbot, drop) == dict.fromkeys(before, 0)
    (row,) = testbot.rows(
        select(Customer.city, Customer.industry, Customer.tags).where(Customer.id == keep)
    )
    assert row == ("Boston", "logistics", ["fleet", "vip"])
    assert testbot.query(select(Customer.merged_into).where(Customer.id == drop)) == [keep]
    entries = testbot.query(select(AuditEntry).where(AuditEntry.id > audited))
    # Each moved deal's own history says so (rev14 F6), then the two customers'.
    assert [e.action for e in entries] == ["deal.merge_move", "customer.merge", "customer.merged"]
    merge_entry = entries[1]
    assert merge_entry.changes["merged"] == [None, drop]
    assert merge_entry.changes["industry"] == [None, "logistics"]
    moved = merge_entry.changes["moved"][1]
    assert {k: len(v) for k, v in moved.items()} == {
        "contacts": 1,
        "deals": 1,
        "notes": 2,
        "reminders": 1,
    }
    assert entries[2].changes["merged_into"] == [None, keep]
    # The note index is owed every moved note, the way undo and edit owe it theirs.
    queued = set(testbot.query(select(IndexOutbox.interaction_id)))
    assert set(moved["notes"]) <= queued
    # Pressed again: said to be done, nothing written.
    again = testbot.press("bob", confirm)
    assert again.status == "info" and "already merged" in again.text
    assert testbot.count(AuditEntry) == audited + 3


def test_tombstone_leaves_lists_but_its_number_and_name_lead_to_the_survivor(
    testbot: TestBot,
) -> None:
    """Lists, search and duplicates leave the tombstone out; #id and the old name redirect."""
    (keep,) = add_customers(testbot, "alice", "云帆科技")
    (drop,) = add_customers(testbot, "alice", "杭州云帆科技有限公司")
    assert testbot("bob", f"merge #{drop} into #{keep} confirm").status == "ok"
    listed = testbot("alice", "customers")
    assert listed.title is not None and "Your customers: 1" in listed.title
    assert testbot("alice", "duplicates").status == "info"
    card = testbot("alice", f"customer #{drop}")
    assert card.title == "云帆科技"
    assert card.text == f"#{drop} 杭州云帆科技有限公司 was merged into #{keep} 云帆科技."
    by_name = testbot("alice", "customer 杭州云帆科技有限公司")
    assert by_name.title == "云帆科技" and "merged into" in by_name.text
    found = testbot("alice", "find 杭州云帆")
    assert [b.payload["text"] for b in found.buttons] == [f"customer #{keep}"]
    assert "merged into" in found.text
    # Logging by the old number writes to the survivor.
    assert testbot("alice", f"log call #{drop}: after the merge").status == "ok"
    assert testbot.query(
        select(Interaction.customer_id).where(Interaction.text == "after the merge")
    ) == [keep]
    # A third customer merged into the survivor, then the survivor into another: one hop.
    (third,) = add_customers(testbot, "alice", "Yunfan Tech")
    assert testbot("bob", f"merge #{keep} into #{third} confirm").status == "ok"
    assert testbot.query(select(Customer.merged_into).where(Customer.id == drop)) == [third]
    assert testbot("alice", f"customer #{drop}").title == "Yunfan Tech"


def test_merge_access_and_bad_input_write_nothing(testbot: TestBot) -> None:
    """Reps may not merge; another book answers as missing; self and tombstones are refused."""
    keep, drop = two_acmes(testbot)
    (west,) = add_customers(testbot, "dave", "Acme Logistics West")
    audited = testbot.count(AuditEntry)
    rep = testbot("alice", f"merge #{drop} into #{keep}")
    assert rep.status == "error" and "manager" in rep.text
    missing = testbot("bob", "merge #99999 into #1").text
    other_book = testbot("bob", f"merge #{west} into #{keep}")
    assert other_book.status == "error"
    assert other_book.text == missing.replace("99999", str(west))
    assert testbot("bob", f"merge #{keep} into #{west} confirm").status == "error"
    for line, expected in (
        (f"merge #{keep} into #{keep}", "cannot be merged into itself"),
        (f"merge #{drop}", "`merge #31 into #7`"),
        ("merge", "`merge #31 into #7`"),
        (f"merge #{drop} into", "`merge #31 into #7`"),
    ):
        reply = testbot("bob", line)
        assert reply.status == "error" and expected in reply.text, (line, reply.text)
    assert testbot.count(AuditEntry) == audited
    assert testbot("admin", f"merge #{drop} into #{keep} confirm").status == "ok"
    into_tombstone = testbot("admin", f"merge #{west} into #{drop}")
    assert into_tombstone.status == "error"
    assert f"already merged into #{keep}" in into_tombstone.text
    from_tombstone = testbot("admin", f"merge #{drop} into #{west} confirm")
    assert from_tombstone.status == "error" and "already merged" in from_tombstone.text
    # The merge's two entries and its moved deal's; the refusals wrote nothing.
    assert testbot.count(AuditEntry) == audited + 3
    # An admin merges across teams.
    assert testbot("admin", f"merge #{west} into #{keep} confirm").status == "ok"


def test_merge_in_chinese(testbot: TestBot) -> None:
    """合并 #31 到 #7 previews and confirms in Chinese (确认)."""
    testbot.add_user("wei", role="manager", locale="zh", timezone="Asia/Shanghai")
    keep, drop = add_customers(testbot, "wei", "华东物流", "華東物流股份有限公司")
    preview = testbot("wei", f"合并 #{drop} 到 #{keep}")
    assert preview.status == "info", preview.text
    assert preview.title is not None and preview.title.startswith("把 #")
    assert [b.label for b in preview.buttons] == ["确认", "取消"]
    done = testbot("wei", f"合并 #{drop} 到 #{keep} 确认")
    assert done.status == "ok" and done.text.startswith("已把")


def test_export_import_export_is_identical_after_a_merge(testbot: TestBot) -> None:
    """The tombstone's merged_into and an archived_at survive the exchange format byte for byte."""
    keep, drop = two_acmes(testbot)
    assert testbot("admin", f"merge #{drop} into #{keep} confirm").status == "ok"
    (other,) = add_customers(testbot, "alice", "Beta Freight")
    assert testbot("alice", f"archive #{other} confirm").status == "ok"
    first = run_export(testbot.session_factory)
    assert '"archived_at": "2026-11-23T15:00:00+00:00"' in first
    tombstone = next(
        json.loads(line)
        for line in first.splitlines()
        if '"type": "customer"' in line and "ACME logistics inc." in line
    )
    assert tombstone["merged_into"] == f"customer-{keep}"
    wipe(testbot.session_factory)
    run_import(testbot.session_factory, io.StringIO(first))
    assert run_export(testbot.session_factory) == first
    (merged,) = testbot.query(select(Customer.merged_into).where(Customer.merged_into.is_not(None)))
    assert testbot.query(select(Customer.name).where(Customer.id == merged)) == ["Acme Logistics"]


def test_import_refuses_a_merge_into_an_unknown_customer(testbot: TestBot) -> None:
    """merged_into names a customer of the file or the database, like every reference."""
    records = [
        {"type": "user", "external_id": "ann", "name": "Ann"},
        {"type": "customer", "external_id": "c1", "name": "Acme", "owner": "ann"},
        {
            "type": "customer",
            "external_id": "c2",
            "name": "Acme Inc",
            "owner": "ann",
            "merged_into": "nowhere",
        },
    ]
    with pytest.raises(ImportFailed, match="unknown merged_into 'nowhere'"):
        run_import(testbot.session_factory, [json.dumps(r) for r in records])


def test_ask_answers_from_the_merged_notes(testbot: TestBot) -> None:
    """After the merge the survivor's answers cite the duplicate's notes (the outbox drained)."""
    keep, drop = add_customers(testbot, "alice", "Acme Logistics", "ACME logistics inc.")
    assert testbot("alice", f"log call #{drop}: Dana wants 12% off the renewal").status == "ok"
    assert testbot("alice", f"log call #{keep}: Sam asked about fleet tracking").status == "ok"
    before = testbot("alice", f"ask #{keep}: what discount did Dana want?")
    assert "12% off" not in before.text
    assert testbot("bob", f"merge #{drop} into #{keep} confirm").status == "ok"
    after = testbot("alice", f"ask #{keep}: what discount did Dana want?")
    assert after.status == "ok", after.text
    assert "12% off" in after.text and "[1]" in after.text
    # Every row the merge owed the index was worked off before the answer.
    assert None not in testbot.query(select(IndexOutbox.indexed_at))


def test_merge_moves_the_duplicates_tickets_and_feedback(testbot: TestBot) -> None:
    """Tickets and satisfaction scores follow the customer, and the tickets are re-indexed."""
    keep, drop = two_acmes(testbot)
    opened = testbot("alice", f"ticket #{drop}: printer jams on every label, priority high")
    assert opened.status == "ok", opened.text
    (ticket_id,) = testbot.query(select(Ticket.id).where(Ticket.customer_id == drop))
    scored = testbot("alice", f"feedback #{ticket_id}: csat 5")
    assert scored.status == "ok", scored.text
    preview = testbot("bob", f"merge #{drop} into #{keep}")
    shown = {f.label: f.value for f in preview.fields}
    assert shown["Moves"] == (
        "1 contact(s), 1 deal(s), 2 note(s), 1 reminder(s), 1 ticket(s), 1 satisfaction score(s)"
    )
    owed = (
        select(func.count())
        .select_from(IndexOutbox)
        .where(IndexOutbox.interaction_id == -ticket_id)
    )
    (owed_before,) = testbot.query(owed)
    done = testbot.press("bob", preview.buttons[0])
    assert done.status == "ok", done.text
    assert testbot.query(select(Ticket.customer_id).where(Ticket.id == ticket_id)) == [keep]
    assert testbot.query(select(Feedback.customer_id)) == [keep]
    # The index files the ticket under its new customer.
    assert testbot.query(owed) == [owed_before + 1]
    card = testbot("alice", f"tickets #{keep}")
    assert card.items[0].startswith(f"#{ticket_id} printer jams"), card.items


def test_merge_puts_the_survivor_in_the_duplicates_snapshots(testbot: TestBot) -> None:
    """A snapshot that froze the duplicate keeps the customer: the survivor takes its place."""
    keep, drop = two_acmes(testbot)
    assert testbot("admin", 'save segment "Chicago" city Chicago snapshot').status == "ok"
    assert testbot("admin", 'save segment "Both" city Chicago,Boston snapshot').status == "ok"
    members = select(Segment.name, SegmentMember.customer_id).join(Segment).order_by(Segment.name)
    assert testbot.rows(members) == [("Both", keep), ("Both", drop), ("Chicago", drop)]
    done = testbot.press("bob", testbot("bob", f"merge #{drop} into #{keep}").buttons[0])
    assert done.status == "ok", done.text
    assert testbot.rows(members) == [("Both", keep), ("Chicago", keep)]
    shown = testbot("admin", 'segment "Chicago"')
    assert any("Acme Logistics" in i for i in shown.items), shown.items
    entry = testbot.query(select(AuditEntry).where(AuditEntry.action == "customer.merge"))[0]
    assert sorted(entry.changes["moved"][1]["segments"]) == sorted(
        testbot.query(select(Segment.id))
    )


def test_merge_hands_open_deals_and_reminders_to_the_kept_owner(testbot: TestBot) -> None:
    """carol's duplicate merged into alice's customer: carol cannot see it, so her open deal
    and reminder go to alice, as a reassign would; the preview and the reply say so."""
    keep, drop = two_acmes(testbot, owner="alice", other="carol")
    (carols_deal,) = testbot.query(select(Deal.id).where(Deal.customer_id == drop))
    preview = testbot("bob", f"merge #{drop} into #{keep}")
    shown = {f.label: f.value for f in preview.fields}
    assert shown["Owner changes"] == (
        "1 open deal(s) and 1 reminder(s) of @carol move to @alice, who owns the kept customer"
        " (@carol cannot see it)"
    ), preview.fields
    done = testbot("bob", f"merge #{drop} into #{keep} confirm")
    assert done.status == "ok", done.text
    assert "of @carol moved to @alice" in {f.label: f.value for f in done.fields}["Owner changes"]
    assert testbot.query(select(Deal.owner_id).where(Deal.id == carols_deal)) == [
        testbot.users["alice"]
    ]
    assert testbot.query(select(Reminder.owner_id)) == [testbot.users["alice"]]
    assert "no deal" in testbot("carol", f"deal #{carols_deal}").text.lower()
    assert testbot("alice", f"deal #{carols_deal}").status == "ok"
    # The deal's own history says who moved it, as a reassign's does.
    assert "reassigned" in " ".join(testbot("bob", f"history deal #{carols_deal}").items)


def test_merge_leaves_owners_who_still_see_the_kept_customer(testbot: TestBot) -> None:
    """Both customers alice's: nothing changes owner and the preview shows no such line."""
    keep, drop = two_acmes(testbot)
    preview = testbot("bob", f"merge #{drop} into #{keep}")
    assert "Owner changes" not in {f.label for f in preview.fields}


def _deactivate(testbot: TestBot, handle: str) -> None:
    """Make `handle` inactive the one way offered: their exported user line, `active` false."""
    line = next(
        json.loads(row)
        for row in run_export(testbot.session_factory).splitlines()
        if json.loads(row)["type"] == "user" and json.loads(row)["external_id"] == handle
    )
    run_import(testbot.session_factory, [json.dumps({**line, "active": False})])


def test_a_leaver_whose_duplicate_was_merged_away_can_be_deactivated(testbot: TestBot) -> None:
    """carol's only customer merged into alice's: the tombstone goes with it, so nothing is
    left that carol owns and her deactivation is accepted (rev14 F4)."""
    keep, drop = two_acmes(testbot, owner="alice", other="carol")
    assert testbot("bob", f"merge #{drop} into #{keep} confirm").status == "ok"
    assert testbot.query(select(Customer.owner_id).where(Customer.id == drop)) == [
        testbot.users["alice"]
    ]
    _deactivate(testbot, "carol")
    assert "not active" in testbot("carol", "customers").text


def test_deactivating_names_the_tickets_and_reminders_still_held(testbot: TestBot) -> None:
    """alice's book went to carol, but her assigned ticket and a reminder typed in chat did
    not: the deactivation is refused, naming them and what to type (rev14 F5)."""
    testbot("alice", "new customer Acme")
    assert testbot("alice", "ticket Acme: invoices wrong, assign @alice").status == "ok"
    assert testbot("alice", "remind me tomorrow 10am call Dana about the quote").status == "ok"
    assert testbot("bob", "reassign Acme to @carol").status == "ok"
    with pytest.raises(ImportFailed) as refused:
        _deactivate(testbot, "alice")
    (error,) = refused.value.errors
    assert "1 open ticket(s) assigned (#1: `assign #1 to @<name>`)" in error[1], error
    assert "1 pending reminder(s) (#1: `cancel #1`" in error[1], error
    assert "customer" not in error[1].split("holding", 1)[1].split(";")[0]
    assert testbot("bob", "assign #1 to @carol").status == "ok"
    assert testbot("alice", "cancel #1").status == "ok"
    _deactivate(testbot, "alice")


def test_a_deal_moved_by_a_merge_says_so_in_its_history(testbot: TestBot) -> None:
    """`history deal #n` names the merge that changed its customer (rev14 F6)."""
    keep, drop = two_acmes(testbot)
    (deal,) = testbot.query(select(Deal.id).where(Deal.customer_id == drop))
    assert testbot("bob", f"merge #{drop} into #{keep} confirm").status == "ok"
    items = testbot("bob", f"history deal #{deal}").items
    assert "moved to another customer by a merge: customer: " in items[0], items
    assert f"#{drop} ACME logistics inc. → #{keep} Acme Logistics" in items[0], items
    assert "Bob" in items[0] or "bob" in items[0], items
