"""Care dates through the real dispatcher: declare, list, change, remove; admins only; audited."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, CareDate
from tests.conftest import TestBot


def test_admin_declares_lists_changes_and_removes_care_dates(testbot: TestBot) -> None:
    """`care renewal_date 15d`, `care customer contract_end 30d`, `cares`, `care remove …`."""
    assert testbot("admin", "field add deal renewal_date date").status == "ok"
    assert testbot("admin", "field add customer contract_end date").status == "ok"
    assert testbot("alice", "cares").text.startswith("No care dates.")
    added = testbot("admin", "care renewal_date 15d")
    assert added.text == (
        "Care date set: the owner of each deal is told 15 days before its renewal_date, "
        "and the digest lists it."
    )
    assert testbot("admin", "care customer contract_end 4w").status == "ok"
    assert testbot("admin", "关怀 birthday 3天").status == "ok"
    assert testbot("admin", "care close 7d").status == "ok"
    listed = testbot("alice", "cares")
    assert listed.sections[0].lines == [
        "customer contract_end · 28 days before",
        "contact birthday · 3 days before",
        "deal close · 7 days before",
        "deal renewal_date · 15 days before",
    ]
    changed = testbot("admin", "care deal renewal_date 20d")
    assert changed.text == "The deal renewal_date care date now comes 20 days before."
    same = testbot("admin", "care renewal_date 20d")
    assert same.status == "error" and "already comes 20 days" in same.text
    assert testbot("admin", "删除关怀 renewal_date").status == "ok"
    assert testbot.rows(select(CareDate.record, CareDate.field).order_by(CareDate.id)) == [
        ("customer", "contract_end"),
        ("contact", "birthday"),
        ("deal", "close"),
    ]
    actions = testbot.query(
        select(AuditEntry.action).where(AuditEntry.action.like("care.%")).order_by(AuditEntry.id)
    )
    assert actions == ["care.create"] * 4 + ["care.change", "care.remove"]


def test_care_input_errors_say_what_to_type(testbot: TestBot) -> None:
    """Unknown fields, non-date fields, a name two records share, a bad lead: nothing written."""
    testbot("admin", "field add deal renewal_date date")
    testbot("admin", "field add customer renewal_date date")
    testbot("admin", "field add customer region text")
    before = testbot.count(AuditEntry)
    for line, hint in (
        ("care renewal_date 15d", "`care deal renewal_date …`, `care customer renewal_date …`"),
        ("care region 15d", "region is a text field, not a date"),
        ("care colour 15d", 'There is no date field "colour"'),
        ("care renewal_date fortnight", "`15d`"),
        ("care renewal_date 400d", "0 to 365 days"),
        ("care planet renewal_date 5d", "say customer, contact or deal"),
        ("care remove birthday", '"birthday" is not a care date'),
    ):
        reply = testbot("admin", line)
        assert reply.status == "error", line
        assert hint in reply.text, (line, reply.text)
    refused = testbot("alice", "care deal renewal_date 15d")
    assert "Only an admin" in refused.text
    assert testbot.count(AuditEntry) == before
    assert testbot.count(CareDate) == 0
