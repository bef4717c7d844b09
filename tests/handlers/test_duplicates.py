"""`duplicates` (查重) through the real dispatcher: what counts as a duplicate, and who sees it."""

from __future__ import annotations

import pytest

from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, Customer
from crm_core.text import name_key
from tests.conftest import TestBot


def add_customers(testbot: TestBot, owner: str, *names: str) -> list[int]:
    """Store customers directly: `new customer` rightly refuses most of these names."""
    ids = []
    with unit_of_work(testbot.session_factory) as session:
        for name in names:
            row = Customer(name=name, name_key=name_key(name), owner_id=testbot.users[owner])
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def test_duplicates_pairs_each_form_of_the_same_name_with_its_reason(testbot: TestBot) -> None:
    """Legal forms, spacing, punctuation, width, script, a city prefix and a typo are paired."""
    ids = add_customers(
        testbot,
        "alice",
        "Acme Logistics",
        "ACME logistics inc.",
        "Northwind",
        "North Wind GmbH",
        "杭州云帆科技有限公司",
        "云帆科技",
        "華東物流股份有限公司",
        "华东物流",
        "Ｂｅｔａ　Ｃｏｒｐ",
        "Beta",
        "Gamma-Ray Labs",
        "Gamma Ray Labs Ltd",
        "Hillside Supplies",
        "Hillside Suplies",
        "Zeta Partners",
        "北京云帆",
    )
    audited = testbot.count(AuditEntry)
    reply = testbot("alice", "duplicates")
    assert reply.status == "ok", reply.text
    assert reply.title is not None and "7 pair" in reply.title
    lines = "\n".join(reply.items)
    expected = [
        (ids[0], ids[1], "legal form"),
        (ids[2], ids[3], "spacing"),
        (ids[4], ids[5], "place 杭州"),
        (ids[6], ids[7], "Traditional characters"),
        (ids[8], ids[9], "full-width characters"),
        (ids[10], ids[11], "punctuation"),
        (ids[12], ids[13], "spelled almost the same"),
    ]
    for keep, drop, why in expected:
        line = next(x for x in reply.items if x.startswith(f"#{keep} "))
        assert f"↔ #{drop} " in line and why in line, line
    assert f"#{ids[14]} " not in lines and f"#{ids[15]} " not in lines
    merge = {b.payload["text"] for b in reply.buttons}
    assert f"merge #{ids[1]} into #{ids[0]}" in merge
    assert f"merge #{ids[5]} into #{ids[4]}" in merge
    assert testbot.count(AuditEntry) == audited


def test_duplicates_in_chinese(testbot: TestBot) -> None:
    """查重 answers in Chinese; 查重 in Traditional (查重 is the same) with a place reason."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    add_customers(testbot, "wei", "杭州云帆科技有限公司", "云帆科技")
    reply = testbot("wei", "查重")
    assert reply.status == "ok", reply.text
    assert reply.title is not None and "1 对" in reply.title
    assert "杭州" in reply.items[0] and "合并" in reply.buttons[0].label


def test_duplicates_stay_inside_the_book(testbot: TestBot) -> None:
    """A rep sees only pairs of their own; another book's twin is never revealed."""
    add_customers(testbot, "alice", "Acme Logistics")
    add_customers(testbot, "carol", "Acme Logistics Inc")
    add_customers(testbot, "dave", "ACME Logistics LLC")
    for rep in ("alice", "carol", "dave"):
        reply = testbot(rep, "duplicates")
        assert reply.status == "info" and "No likely duplicates" in reply.text
    manager = testbot("bob", "duplicates")
    assert manager.title is not None and "1 pair" in manager.title
    assert "LLC" not in "\n".join(manager.items)
    admin = testbot("admin", "duplicates")
    assert admin.title is not None and "2 pair" in admin.title


def test_duplicates_takes_no_arguments(testbot: TestBot) -> None:
    """Anything after the verb is refused with what to type."""
    reply = testbot("alice", "duplicates Acme")
    assert reply.status == "error" and "`duplicates`" in reply.text


# (existing, typed): pairs `duplicates` lists; `new customer` shows each instead of creating it.
PAIRS = [
    ("华东物流", "上海华东物流有限公司"),
    ("云帆科技", "杭州云帆科技有限公司"),
    ("杭州云帆科技有限公司", "云帆科技"),
    ("Hillside Supplies", "Hillside Suplies"),
    ("Gamma-Ray Labs", "Gamma Ray Labs Ltd"),
    ("Northwind", "North Wind GmbH"),
    ("华东物流", "華東物流股份有限公司"),
]


@pytest.mark.parametrize(("existing", "typed"), PAIRS)
def test_new_customer_shows_what_duplicates_would_pair(
    testbot: TestBot, existing: str, typed: str
) -> None:
    """rev10 fault 6: the create check and `duplicates` agree; nothing is created until
    "create anyway", which then makes the pair `duplicates` lists."""
    (first,) = add_customers(testbot, "alice", existing)
    reply = testbot("alice", f"new customer {typed}")
    assert reply.status == "info", reply.text
    assert reply.items[0].startswith(f"#{first} {existing}"), reply.items
    assert testbot.count(Customer) == 1
    anyway = [b for b in reply.buttons if b.label == "Create a new one anyway"]
    if anyway:
        assert testbot.press("alice", anyway[0]).status == "ok"
        pairs = testbot("alice", "duplicates")
        assert pairs.title is not None and "1 pair" in pairs.title, pairs.text
