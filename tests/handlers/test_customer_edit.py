"""edit customer through the real dispatcher: typed fields, Chinese, access, bad input, the form."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Customer
from tests.conftest import TestBot


def test_edit_customer_typed_changes_fields_and_audits_each(testbot: TestBot) -> None:
    """`edit customer Acme: city Boston, industry logistics`: both change, audited before→after."""
    testbot("alice", "new customer Acme Logistics city Chicago tags fleet")
    reply = testbot("alice", "edit customer Acme: city Boston, industry logistics, tags eu, Fleet")
    assert reply.status == "ok", reply.text
    assert reply.text == "Updated Acme Logistics."
    shown = {f.label: f.value for f in reply.fields}
    assert shown == {
        "City": "Chicago → Boston",
        "Industry": "none → logistics",
        "Tags": "fleet → eu, fleet",
    }
    (row,) = testbot.rows(select(Customer.city, Customer.industry, Customer.tags))
    assert row == ("Boston", "logistics", ["eu", "fleet"])
    (changes,) = testbot.query(
        select(AuditEntry.changes).where(AuditEntry.action == "customer.update")
    )
    assert changes["city"] == ["Chicago", "Boston"]
    assert changes["industry"] == [None, "logistics"]
    assert changes["tags"] == [["fleet"], ["eu", "fleet"]]
    again = testbot("alice", "edit customer Acme: city Boston")
    assert again.status == "info" and "nothing changed" in again.text
    actions = testbot.query(select(AuditEntry.action).where(AuditEntry.entity_type == "customers"))
    assert actions == ["customer.create", "customer.update"]


def test_edit_customer_in_chinese(testbot: TestBot) -> None:
    """修改客户 with Chinese field words, answered in Chinese."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 华东物流 城市 杭州")
    reply = testbot("wei", "修改客户 华东物流：城市 上海，行业 物流")
    assert reply.status == "ok", reply.text
    assert reply.text == "已更新 华东物流。"
    assert {f.label for f in reply.fields} == {"城市", "行业"}
    assert testbot.rows(select(Customer.city, Customer.industry)) == [("上海", "物流")]


def test_edit_customer_access_by_role(testbot: TestBot) -> None:
    """A rep edits their own customers, a manager the team's, an admin everyone's."""
    testbot("alice", "new customer Acme")
    testbot("dave", "new customer West Corp")
    assert testbot("carol", "edit customer Acme: city Boston").status == "error"
    assert testbot("dave", "edit customer Acme: city Boston").status == "error"
    assert testbot("bob", "edit customer Acme: city Boston").status == "ok"
    assert testbot("bob", "edit customer West Corp: city Denver").status == "error"
    assert testbot("admin", "edit customer West Corp: city Denver").status == "ok"
    assert sorted(testbot.query(select(Customer.city))) == ["Boston", "Denver"]


def test_edit_customer_bad_input_writes_nothing(testbot: TestBot) -> None:
    """Unknown fields, an empty or duplicate name, a long city: clear errors, no change."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Beta")
    before = testbot.count(AuditEntry)
    for line, hint in (
        ("edit customer Acme: colour red", "edit customer Acme: city Boston"),
        ("edit customer Acme: name", "name"),
        ("edit customer Acme: name Beta", "already exists"),
        ("edit customer Acme: city " + "x" * 101, "100"),
        ("edit customer Nobody: city Boston", "Nobody"),
    ):
        reply = testbot("alice", line)
        assert reply.status == "error", (line, reply.text)
        assert hint in reply.text, (line, reply.text)
    assert testbot.count(AuditEntry) == before
    assert sorted(testbot.query(select(Customer.name))) == ["Acme", "Beta"]


def test_edit_customer_by_name_alone_opens_the_form_with_current_values(testbot: TestBot) -> None:
    """`edit customer Acme` answers with the form, prefilled, its customer settled."""
    testbot("alice", "new customer Acme industry logistics tags fleet")
    reply = testbot("alice", "edit customer Acme")
    assert reply.form is not None and reply.form.name == "edit_customer"
    assert reply.form.values["name"] == "Acme"
    assert reply.form.values["industry"] == "logistics"
    assert reply.form.values["tags"] == "fleet"
    assert reply.form.labels == {"customer": "Acme"} and reply.form.settled == ("customer",)
    assert "edit customer Acme: city Boston" in reply.text
    # The form starts from a customer's values: without one it says what to type.
    empty = testbot("alice", "edit customer")
    assert empty.form is None and "edit customer Acme" in empty.text
