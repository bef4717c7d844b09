"""Custom fields through the real dispatcher: declare, list, set by edit, cards, remove, access."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Customer, CustomField, Deal
from handlers.gateway import Gateway
from handlers.reply import Reply
from tests.conftest import TestBot


def _declare(testbot: TestBot) -> None:
    for line in (
        "field add customer region choice North, South, East",
        "field add customer employees number",
        "field add customer key_account yesno",
        "field add contact wechat text",
        "field add deal renewal_date date",
    ):
        reply = testbot("admin", line)
        assert reply.status == "ok", (line, reply.text)


def _button(reply: Reply, label: str) -> object:
    return next(b for b in reply.buttons if b.label == label)


def test_admin_declares_fields_lists_them_and_each_is_audited(testbot: TestBot) -> None:
    """`field add …` for each kind and record; `fields` lists them by record with choices."""
    added = testbot("admin", "field add customer region choice North, South , East")
    assert added.text == "Added the customer field region (choice: North, South, East)."
    assert added.items == [
        "Set it with `edit customer Acme: region North`; it shows on the card and in the edit form."
    ]
    for line in (
        "field add customer Employees number",
        "field add customer key_account yes/no",
        "field add contact wechat text",
        "field add deal renewal_date date",
    ):
        assert testbot("admin", line).status == "ok", line
    listed = testbot("alice", "fields")
    assert listed.title == "Custom fields"
    assert [(s.title, s.lines) for s in listed.sections] == [
        (
            "Customer fields",
            ["region · choice: North, South, East", "employees · number", "key_account · yes/no"],
        ),
        ("Contact fields", ["wechat · text"]),
        ("Deal fields", ["renewal_date · date"]),
    ]
    only = testbot("alice", "fields deal")
    assert [s.title for s in only.sections] == ["Deal fields"]
    created = testbot.query(
        select(AuditEntry.changes).where(AuditEntry.action == "custom_field.create")
    )
    assert len(created) == 5
    assert created[0]["choices"] == [None, ["North", "South", "East"]]
    assert testbot.rows(select(CustomField.record, CustomField.name, CustomField.kind)) == [
        ("customer", "region", "choice"),
        ("customer", "employees", "number"),
        ("customer", "key_account", "yesno"),
        ("contact", "wechat", "text"),
        ("deal", "renewal_date", "date"),
    ]


def test_fields_in_chinese(testbot: TestBot) -> None:
    """添加字段 / 修改客户 / 字段 / 删除字段, answered in Chinese."""
    testbot.add_user("wei", role="admin", team=None, locale="zh", timezone="Asia/Shanghai")
    added = testbot("wei", "添加字段 客户 区域 选项 华北，华东、华南")
    assert added.status == "ok", added.text
    assert added.text == "已添加客户字段 区域（选项：华北, 华东, 华南）。"
    assert testbot("wei", "字段 添加 商机 续约日期 日期").status == "ok"
    testbot("wei", "新客户 华东物流")
    edited = testbot("wei", "修改客户 华东物流：区域 华东，城市 上海")
    assert edited.status == "ok", edited.text
    assert {f.label: f.value for f in edited.fields} == {"城市": "无 → 上海", "区域": "无 → 华东"}
    card = testbot("wei", "客户 华东物流")
    assert {f.label: f.value for f in card.fields}["区域"] == "华东"
    wrong = testbot("wei", "修改客户 华东物流：区域 西北")
    assert wrong.status == "error" and "华北, 华东, 华南" in wrong.text
    listed = testbot("wei", "字段")
    assert [s.title for s in listed.sections] == ["客户字段", "商机字段"]
    preview = testbot("wei", "删除字段 客户 区域")
    assert preview.title == "删除字段？" and "1 条记录" in preview.text
    done = testbot("wei", "删除字段 客户 区域 确认")
    assert done.status == "ok" and "删除了 1 个值" in done.text
    assert testbot.query(select(Customer.custom)) == [{}]


def test_only_admins_declare_or_remove_and_a_refusal_writes_nothing(testbot: TestBot) -> None:
    """A rep's or manager's `field add` / `field remove` is refused plainly; nothing changes."""
    testbot("admin", "field add customer region choice North, South")
    before = testbot.count(AuditEntry), testbot.count(CustomField)
    for who in ("alice", "bob"):
        for line in (
            "field add customer tier choice Gold, Silver",
            "field remove customer region",
            "field remove customer region confirm",
        ):
            reply = testbot(who, line)
            assert reply.status == "error", (who, line)
            assert reply.text.startswith("Only an admin can add or remove fields."), reply.text
    assert (testbot.count(AuditEntry), testbot.count(CustomField)) == before
    # Reading them is for everyone.
    assert testbot("alice", "fields").sections


def test_values_are_checked_by_kind_and_bad_ones_write_nothing(testbot: TestBot) -> None:
    """A number refuses "abc", a choice names its choices, a date reads phrases, yes/no."""
    _declare(testbot)
    testbot("alice", "new customer Acme")
    before = testbot.count(AuditEntry)
    for line, hint in (
        ("edit customer Acme: employees abc", 'employees takes a number: "abc" isn\'t one'),
        ("edit customer Acme: region West", "region is one of: North, South, East"),
        ("edit customer Acme: key_account maybe", "key_account takes yes or no"),
        ("edit customer Acme: employees 12, region West", "North, South, East"),
        ("edit customer Acme: region", "`region` needs a value"),
    ):
        reply = testbot("alice", line)
        assert reply.status == "error", (line, reply.text)
        assert hint in reply.text, (line, reply.text)
    assert testbot.count(AuditEntry) == before
    assert testbot.query(select(Customer.custom)) == [{}]
    ok = testbot("alice", "edit customer Acme: employees 1,200.50, region south, key_account yes")
    assert ok.status == "ok", ok.text
    assert {f.label: f.value for f in ok.fields} == {
        "employees": "none → 1200.5",
        "region": "none → South",
        "key_account": "none → yes",
    }
    assert testbot.query(select(Customer.custom)) == [
        {"employees": "1200.5", "key_account": True, "region": "South"}
    ]
    # A date field takes the time phrases: the clock is Monday 2026-11-23.
    testbot("alice", "new deal Acme: Fleet 100")
    bad = testbot("alice", "edit deal Fleet: renewal_date someday")
    assert bad.status == "error" and "2027-01-15" in bad.text
    good = testbot("alice", "edit deal Fleet: renewal_date next friday")
    assert good.status == "ok", good.text
    assert testbot.query(select(Deal.custom)) == [{"renewal_date": "2026-11-27"}]


def test_edit_sets_values_audited_before_after_and_undo_puts_them_back(testbot: TestBot) -> None:
    """Customer, contact and deal edits set custom values with Undo, like their other fields."""
    _declare(testbot)
    testbot("alice", "new customer Acme")
    testbot("alice", "contact add Acme: Dana Ruiz, dana@acme.example")
    testbot("alice", "new deal Acme: Fleet 100")

    first = testbot("alice", "edit customer Acme: region North")
    second = testbot("alice", "edit customer Acme: region East, city Boston")
    assert {f.label: f.value for f in second.fields} == {
        "City": "none → Boston",
        "region": "North → East",
    }
    changes = testbot.query(
        select(AuditEntry.changes).where(AuditEntry.action == "customer.update")
    )
    assert changes == [
        {"custom.region": [None, "North"]},
        {"city": [None, "Boston"], "custom.region": ["North", "East"]},
    ]
    undone = testbot.press("alice", _button(second, "Undo"))  # type: ignore[arg-type]
    assert undone.status == "ok", undone.text
    assert testbot.rows(select(Customer.city, Customer.custom)) == [(None, {"region": "North"})]
    again = testbot.press("alice", _button(first, "Undo"))  # type: ignore[arg-type]
    assert again.status == "ok", again.text
    assert testbot.query(select(Customer.custom)) == [{}]

    contact = testbot("alice", "edit contact Dana Ruiz: wechat dana_r, title COO")
    assert {f.label: f.value for f in contact.fields} == {
        "Title": "none → COO",
        "wechat": "none → dana_r",
    }
    assert testbot.query(select(Contact.custom)) == [{"wechat": "dana_r"}]
    unknown = testbot("alice", "edit contact Dana Ruiz: skype dana")
    assert unknown.status == "error"
    assert (
        'I can\'t change "skype dana": a contact has name, title, email, phone, birthday '
        "and wechat." in unknown.text
    )
    deal = testbot("alice", "edit deal Fleet: renewal_date 2027-01-15, amount 120")
    assert {f.label: f.value for f in deal.fields}["renewal_date"] == "none → 2027-01-15"
    assert testbot.query(select(Deal.custom)) == [{"renewal_date": "2027-01-15"}]
    # The cards show the values that are set.
    testbot("alice", "edit customer Acme: region South, key_account no")
    card = testbot("alice", "customer Acme")
    shown = {f.label: f.value for f in card.fields}
    assert shown["region"] == "South" and shown["key_account"] == "no"
    assert "employees" not in shown
    assert card.sections[0].lines == ["Dana Ruiz · COO · dana@acme.example · wechat: dana_r"]
    deal_card = testbot("alice", "deal Fleet")
    assert {f.label: f.value for f in deal_card.fields}["renewal_date"] == "2027-01-15"
    undo_deal = testbot.press("alice", _button(deal, "Undo"))  # type: ignore[arg-type]
    assert undo_deal.status == "ok", undo_deal.text
    assert testbot.query(select(Deal.custom)) == [{}]
    history = testbot("alice", "history Acme")
    assert any("region: North → East" in line for line in history.items), history.items


def test_values_follow_the_records_access_rules(testbot: TestBot) -> None:
    """Another rep's customer answers like a missing one; its manager and an admin may edit."""
    _declare(testbot)
    testbot("alice", "new customer Acme")
    before = testbot.count(AuditEntry)
    for who in ("carol", "dave"):
        reply = testbot(who, "edit customer Acme: region North")
        missing = testbot(who, "edit customer Nowhere Ltd: region North")
        assert reply.status == "error" and reply.text == missing.text.replace("Nowhere Ltd", "Acme")
    assert testbot.count(AuditEntry) == before
    assert testbot("bob", "edit customer Acme: region North").status == "ok"
    assert testbot("admin", "edit customer Acme: region South").status == "ok"
    assert testbot.query(select(Customer.custom)) == [{"region": "South"}]


def test_remove_asks_first_then_removes_values_kept_in_history(testbot: TestBot) -> None:
    """`field remove` previews with Confirm / Cancel; Confirm removes; the log keeps the values."""
    _declare(testbot)
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Beta")
    testbot("alice", "edit customer Acme: region North")
    preview = testbot("admin", "field remove customer region")
    assert preview.status == "info" and preview.title == "Remove a field?"
    assert "1 record(s) hold a value" in preview.text
    assert [b.label for b in preview.buttons] == ["Confirm", "Cancel"]
    assert testbot.count(CustomField) == 5
    assert testbot.query(select(Customer.custom).order_by(Customer.id))[0] == {"region": "North"}
    done = testbot.press("admin", preview.buttons[0])
    assert done.text.startswith("Removed the customer field region: 1 value(s) removed")
    assert testbot.count(CustomField) == 4
    assert testbot.query(select(Customer.custom)) == [{}, {}]
    removed = testbot.query(
        select(AuditEntry.changes).where(AuditEntry.action == "customer.field_removed")
    )
    assert removed == [{"custom.region": ["North", None]}]
    (entry,) = testbot.query(
        select(AuditEntry.changes).where(AuditEntry.action == "custom_field.remove")
    )
    assert entry["name"] == ["region", None] and entry["values_removed"] == 1
    history = testbot("alice", "history Acme")
    assert any("Acme field removed: region: North → none" in line for line in history.items), (
        history.items
    )
    # Gone from the card and from the grammar; the same name can be declared afresh, empty.
    assert "region" not in {f.label for f in testbot("alice", "customer Acme").fields}
    assert testbot("alice", "edit customer Acme: region North").status == "error"
    assert testbot("admin", "field remove customer region").status == "error"
    assert testbot("admin", "field add customer region text").status == "ok"
    assert "region" not in {f.label for f in testbot("alice", "customer Acme").fields}


def test_bad_declarations_say_what_to_type_and_write_nothing(testbot: TestBot) -> None:
    """Unknown record or kind, missing choices, a taken or malformed name, a repeat."""
    testbot("admin", "field add customer region choice North, South")
    before = testbot.count(AuditEntry), testbot.count(CustomField)
    for line, hint in (
        ("field add", "Type `field add customer region choice"),
        ("field add customer", "Type `field add customer region choice"),
        ("field add company region text", '"company" is not a record'),
        ("field add customer tier colour", '"colour" is not a kind of field'),
        ("field add customer tier choice", "Name the choices of tier"),
        ("field add customer tier number 1, 2", "Only a choice field takes choices"),
        ("field add customer tier choice Gold, gold", 'Choice "gold" is given twice'),
        ("field add customer city text", "city is already a customer field"),
        ("field add deal 金额 number", "金额 is already a deal field"),
        ("field add customer 2nd_region text", "can't be a field name"),
        ("field add customer region text", "already exists"),
        ("field remove customer", "Type `field remove customer region`"),
        ("field remove customer tier", 'There is no customer field "tier" (fields: region)'),
        ("fields colour", '"colour" is not a record'),
    ):
        reply = testbot("admin", line)
        assert reply.status in ("error", "info"), (line, reply.text)
        assert hint in reply.text, (line, reply.text)
    assert (testbot.count(AuditEntry), testbot.count(CustomField)) == before


def test_edit_forms_carry_the_custom_fields(testbot: TestBot) -> None:
    """The edit forms get a field per custom field (a choice as a select), prefilled."""
    _declare(testbot)
    testbot("alice", "new customer Acme")
    testbot("alice", "edit customer Acme: region East, key_account yes, employees 40")
    opened = testbot("alice", "edit customer Acme").form
    assert opened is not None
    assert {k: v for k, v in opened.values.items() if k.startswith("cf_")} == {
        "cf_region": "East",
        "cf_employees": "40",
        "cf_key_account": "yes",
    }
    gateway = Gateway(testbot.dispatcher, "console")
    form = gateway.form("edit_customer")
    assert form is not None
    extra = form.fields[-3:]
    assert [(f.name, f.kind.value) for f in extra] == [
        ("cf_region", "choice"),
        ("cf_employees", "text"),
        ("cf_key_account", "choice"),
    ]
    t = gateway.translator(testbot.users["alice"])
    assert extra[0].choices is not None
    assert extra[0].choices(t) == [
        ("-", "none"),
        ("North", "North"),
        ("South", "South"),
        ("East", "East"),
    ]
    deal_form = gateway.form("edit_deal")
    assert deal_form is not None and deal_form.fields[-1].name == "cf_renewal_date"
    # The registry's declaration stays as written: the fields come from the database.
    assert testbot.dispatcher.registry.form("edit_customer") is not form


def test_merge_keeps_the_survivors_values_and_fills_gaps(testbot: TestBot) -> None:
    """A merge treats custom values like the other fields: the kept one wins, gaps are filled."""
    _declare(testbot)
    testbot("alice", "new customer Acme Logistics")
    testbot("alice", "new customer Zenith Freight")
    testbot("alice", "edit customer Acme: region North")
    testbot("alice", "edit customer Zenith: region South, employees 40, key_account yes")
    preview = testbot("bob", "merge Zenith into Acme")
    shown = {f.label: f.value for f in preview.fields}
    assert shown["region"] == "North (kept) · South (dropped)"
    assert shown["employees"].startswith("40 (from #2")
    assert shown["key_account"].startswith("yes (from #2")
    assert testbot("bob", "merge Zenith into Acme confirm").status == "ok"
    rows = testbot.rows(select(Customer.name, Customer.custom).order_by(Customer.id))
    assert rows[0] == (
        "Acme Logistics",
        {"employees": "40", "key_account": True, "region": "North"},
    )
    (merge,) = testbot.query(
        select(AuditEntry.changes).where(AuditEntry.action == "customer.merge")
    )
    assert merge["custom.employees"] == [None, "40"]
