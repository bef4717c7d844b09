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
        "deal expected close · 7 days before",
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


def test_built_in_care_dates_in_chinese_and_a_birthday_listed_once(testbot: TestBot) -> None:
    """rev10 fault 10: `birthday` and `close` are crmbot's own names, said in the reader's
    language (生日, 预计成交日期 / 預計成交日期); the digest lists a birthday once."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot.add_user("mei", locale="zh-Hant", timezone="Asia/Taipei")
    assert testbot("admin", "care close 7d").status == "ok"
    assert testbot("admin", "care birthday 3d").status == "ok"
    assert testbot("wei", "新客户 华东物流").status == "ok"
    assert testbot("wei", "新商机 华东物流：续约 5万 成交 2026-11-27").status == "ok"
    assert testbot("wei", "添加联系人 华东物流：王芳，生日 11月25日").status == "ok"
    listed = testbot("wei", "关怀列表")
    lines = "\n".join(listed.sections[0].lines)
    assert "生日" in lines and "预计成交日期" in lines, lines
    assert "birthday" not in lines and "close" not in lines
    assert "預計成交日期" in "\n".join(testbot("mei", "關懷列表").sections[0].lines)
    digest = testbot("wei", "摘要")
    text = "\n".join(line for s in digest.sections for line in s.lines)
    assert text.count("王芳") == 1, text
    assert "birthday" not in text and "close" not in text, text
    assert "续约（华东物流）的预计成交日期" in text.replace(" ", ""), text
