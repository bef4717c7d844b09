"""Any declared form as a modal: edit customer, prefilled, with errors on their fields."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Customer
from tests.bot.slack.conftest import TEAM, SlackHarness, blocks_text


def texts(customer: int, **fields: str) -> dict[str, Any]:
    """view.state.values for a form whose other fields are plain text inputs."""
    values: dict[str, Any] = {
        "customer": {
            "customer": {"type": "external_select", "selected_option": {"value": str(customer)}}
        }
    }
    for name, value in fields.items():
        values[name] = {name: {"type": "plain_text_input", "value": value or None}}
    return values


async def submit(
    slack: SlackHarness, view: dict[str, Any], values: dict[str, Any], view_id: str
) -> tuple[int, str]:
    """Submit an opened modal with these values."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": "UALICE"},
        "view": {**view, "id": view_id, "state": {"values": values}},
    }
    return await slack.interact(payload)


async def test_edit_customer_modal_prefilled_checked_and_saved(slack: SlackHarness) -> None:
    """`/crm edit customer Acme` opens the form with current values; errors stay on fields."""
    await slack.ask("new customer Acme industry retail tags fleet")
    await slack.ask("new customer Beta")
    status, _ = await slack.command("edit customer Acme")
    assert status == 200
    view = (await slack.fake.wait("views.open"))[-1].params["view"]
    assert view["callback_id"] == "crm_edit_customer"
    assert view["title"]["text"] == "Edit customer"
    blocks = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    # The customer is settled: shown, not a field that could point the edit elsewhere.
    assert "customer" not in blocks
    assert blocks_text(view["blocks"]).startswith("*Customer*: Acme")
    assert blocks["name"]["initial_value"] == "Acme"
    assert blocks["industry"]["initial_value"] == "retail"
    assert blocks["tags"]["initial_value"] == "fleet"
    assert "initial_value" not in blocks["city"]

    bad = texts(1, name="Beta", industry="x" * 101, city="Boston", tags="fleet")
    status, body = await submit(slack, view, bad, "V1")
    errors = json.loads(body)["errors"]
    assert set(errors) == {"name", "industry"}
    assert "already exists" in errors["name"] and "100" in errors["industry"]
    assert slack.testbot.query(select(Customer.city)) == [None, None]

    answered = len(slack.fake.named("response"))
    # Beta's id in the state (a forged or stale selection) changes nothing: Acme is settled.
    good = texts(2, name="Acme", industry="logistics", city="Boston", tags="fleet, eu")
    status, body = await submit(slack, view, good, "V1")
    assert status == 200 and body == ""
    answer = (await slack.fake.wait("response", answered + 1))[-1].params
    assert answer["text"].startswith("Updated Acme.")
    rows = slack.testbot.rows(
        select(Customer.industry, Customer.city, Customer.tags).order_by(Customer.id)
    )
    assert rows[0] == ("logistics", "Boston", ["eu", "fleet"])
    (changes,) = slack.testbot.query(
        select(AuditEntry.changes).where(AuditEntry.action == "customer.update")
    )
    assert changes["city"] == [None, "Boston"] and changes["industry"] == ["retail", "logistics"]
    # The same submission again: nothing more is written.
    await submit(slack, view, good, "V1")
    await slack.ask("whoami")
    assert (
        len(
            slack.testbot.query(select(AuditEntry.id).where(AuditEntry.action == "customer.update"))
        )
        == 1
    )


async def test_edit_customer_typed_and_in_chinese(slack: SlackHarness) -> None:
    """Typed with fields it is done at once; the Chinese alias works the same."""
    await slack.ask("new customer Acme")
    done = await slack.ask("edit customer Acme: city Boston, industry logistics")
    assert done["text"].startswith("Updated Acme.")
    again = await slack.ask("修改客户 Acme：城市 Denver")
    assert again["text"].startswith("Updated Acme.")
    assert slack.testbot.rows(select(Customer.city, Customer.industry)) == [("Denver", "logistics")]


async def test_edit_contact_modal_prefilled_checked_and_saved(slack: SlackHarness) -> None:
    """`/crm edit contact Dana Ruiz` opens the form prefilled; a bad email stays on its field."""
    await slack.ask("new customer Acme")
    await slack.ask("contact add Acme: Dana Ruiz, VP Ops")
    status, _ = await slack.command("edit contact Dana Ruiz")
    assert status == 200
    view = (await slack.fake.wait("views.open"))[-1].params["view"]
    assert view["callback_id"] == "crm_edit_contact"
    assert view["title"]["text"] == "Edit contact"
    blocks = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert "contact" not in blocks
    assert blocks_text(view["blocks"]).startswith("*Contact*: Dana Ruiz · Acme")
    assert blocks["title"]["initial_value"] == "VP Ops"

    def state(**fields: str) -> dict[str, Any]:
        return {n: {n: {"type": "plain_text_input", "value": v or None}} for n, v in fields.items()}

    bad = state(name="Dana Ruiz", title="COO", email="dana-at-acme", phone="", birthday="")
    status, body = await submit(slack, view, bad, "V1")
    errors = json.loads(body)["errors"]
    assert set(errors) == {"email"} and "dana@acme.example" in errors["email"]
    answered = len(slack.fake.named("response"))
    good = state(name="Dana Ruiz", title="COO", email="dana@acme.example", phone="", birthday="")
    status, body = await submit(slack, view, good, "V1")
    assert status == 200 and body == ""
    answer = (await slack.fake.wait("response", answered + 1))[-1].params
    assert answer["text"].startswith("Updated Dana Ruiz (Acme).")
    assert slack.testbot.rows(select(Contact.title, Contact.email)) == [
        ("COO", "dana@acme.example")
    ]
    done = await slack.ask("修改联系人 Dana：电话 +1 617 555 0101")
    assert done["text"].startswith("Updated Dana Ruiz (Acme).")


async def test_edit_customer_modal_carries_custom_fields(slack: SlackHarness) -> None:
    """Declared custom fields are modal inputs (a choice as a select); errors on their blocks."""
    for line in (
        "field add customer region choice North, South, East",
        "field add customer employees number",
    ):
        assert slack.testbot("admin", line).status == "ok"
    await slack.ask("new customer Acme")
    await slack.ask("edit customer Acme: region East")
    status, _ = await slack.command("edit customer Acme")
    assert status == 200
    view = (await slack.fake.wait("views.open"))[-1].params["view"]
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    region = blocks["cf_region"]
    assert region["label"]["text"] == "region" and region["optional"] is True
    assert region["element"]["type"] == "static_select"
    assert [o["value"] for o in region["element"]["options"]] == ["-", "North", "South", "East"]
    assert region["element"]["initial_option"]["value"] == "East"
    assert blocks["cf_employees"]["element"]["type"] == "plain_text_input"
    assert blocks["cf_employees"]["element"]["placeholder"]["text"] == "a number, e.g. 12 or 3.5"

    def state(region: str, employees: str) -> dict[str, Any]:
        values = texts(1, name="Acme", industry="", city="", tags="", cf_employees=employees)
        values["cf_region"] = {
            "cf_region": {"type": "static_select", "selected_option": {"value": region}}
        }
        return values

    status, body = await submit(slack, view, state("South", "abc"), "V7")
    errors = json.loads(body)["errors"]
    assert set(errors) == {"cf_employees"} and "takes a number" in errors["cf_employees"]
    assert slack.testbot.query(select(Customer.custom)) == [{"region": "East"}]
    answered = len(slack.fake.named("response"))
    status, body = await submit(slack, view, state("South", "250"), "V7")
    assert status == 200 and body == ""
    answer = (await slack.fake.wait("response", answered + 1))[-1].params
    assert answer["text"].startswith("Updated Acme.")
    assert slack.testbot.query(select(Customer.custom)) == [{"employees": "250", "region": "South"}]
    (changes,) = slack.testbot.query(
        select(AuditEntry.changes)
        .where(AuditEntry.action == "customer.update")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    assert changes == {"custom.employees": [None, "250"], "custom.region": ["East", "South"]}
