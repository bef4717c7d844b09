"""The deal card, its Edit modal and Undo, and delete's confirm card through the Slack endpoint."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crm_core.models import AuditEntry, Customer, Deal
from tests.bot.slack.conftest import SLACK_IDS, TEAM, SlackHarness, blocks_text
from tests.bot.slack.test_commands import button, press


def _values(title: str, amount: str, close: str | None, owner: str) -> dict[str, Any]:
    """view.state.values of the edit deal modal (its deal is settled, not a field)."""
    return {
        "title": {"title": {"type": "plain_text_input", "value": title}},
        "amount": {"amount": {"type": "plain_text_input", "value": amount or None}},
        "close": {"close": {"type": "datepicker", "selected_date": close}},
        "owner": {"owner": {"type": "plain_text_input", "value": owner}},
    }


async def _submit(
    slack: SlackHarness, view: dict[str, Any], values: dict[str, Any], user: str = "alice"
) -> tuple[int, str]:
    return await slack.interact(
        {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": SLACK_IDS[user]},
            "view": {**view, "id": "V9", "state": {"values": values}},
        }
    )


async def test_deal_card_edit_button_opens_the_modal_and_undo_puts_it_back(
    slack: SlackHarness,
) -> None:
    """`/crm deal #1` → Edit → a prefilled modal; errors on fields; saved; Undo restores."""
    await slack.ask("new customer Acme")
    await slack.ask("new deal Acme: Fleet renewal 48000 close 2026-12-15")
    card = await slack.ask("deal #1")
    text = blocks_text(card["blocks"])
    assert "#1 Fleet renewal" in text and "48,000 USD" in text and "Stage history" in text
    await slack.press(button(card, "Edit"))
    view = (await slack.fake.wait("views.open"))[-1].params["view"]
    assert view["callback_id"] == "crm_edit_deal"
    assert view["title"]["text"] == "Edit deal"
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert "deal" not in inputs
    assert inputs["title"]["initial_value"] == "Fleet renewal"
    assert inputs["amount"]["initial_value"] == "48,000 USD"
    assert inputs["close"]["initial_date"] == "2026-12-15"
    assert inputs["owner"]["initial_value"] == "@alice"

    status, body = await _submit(slack, view, _values("Fleet renewal", "abc", None, "@bob"))
    errors = json.loads(body)["errors"]
    assert set(errors) == {"amount", "owner"}
    assert "abc" in errors["amount"] and "cannot make Bob the owner" in errors["owner"]
    assert slack.testbot.query(select(Deal.amount)) == [Decimal("48000.00")]

    answered = len(slack.fake.named("response"))
    status, body = await _submit(
        slack, view, _values("Fleet renewal", "52k", "2027-01-15", "@alice")
    )
    assert status == 200 and body == ""
    done = (await slack.fake.wait("response", answered + 1))[-1].params
    assert done["text"].startswith("Updated #1 Fleet renewal.")
    assert "48,000 USD → 52,000 USD" in blocks_text(done["blocks"])
    undone = await press(slack, button(done, "Undo"))
    assert undone["text"].startswith("Undid the edit of #1 Fleet renewal.")
    assert slack.testbot.query(select(Deal.amount)) == [Decimal("48000.00")]
    actions = slack.testbot.query(
        select(AuditEntry.action).where(AuditEntry.entity_type == "deals")
    )
    assert actions == ["deal.create", "deal.update", "deal.undo_edit"]


async def test_customer_card_edit_button_opens_the_edit_customer_modal(
    slack: SlackHarness,
) -> None:
    """The customer card's Edit button opens the edit customer modal."""
    await slack.ask("new customer Acme city Boston")
    card = await slack.ask("customer Acme")
    await slack.press(button(card, "Edit"))
    view = (await slack.fake.wait("views.open"))[-1].params["view"]
    assert view["callback_id"] == "crm_edit_customer"


async def test_delete_deal_confirm_card_cancel_and_confirm(slack: SlackHarness) -> None:
    """A manager's `删除商机 #1`: Cancel says nothing changed; Confirm deletes once."""
    await slack.ask("new customer Acme")
    await slack.ask("new deal Acme: Fleet renewal")
    refused = await slack.ask("delete deal #1")
    assert "Only a manager" in refused["text"]
    preview = await slack.ask("delete deal #1", user="bob")
    assert "Delete #1 Fleet renewal · Acme · lead" in blocks_text(preview["blocks"])
    cancelled = await press(slack, button(preview, "Cancel"), user="bob")
    assert cancelled["text"].startswith("Cancelled; nothing was changed.")
    assert slack.testbot.count(Deal) == 1
    done = await press(slack, button(preview, "Confirm"), user="bob")
    assert done["text"].startswith("Deleted #1 Fleet renewal · Acme")
    again = await press(slack, button(preview, "Confirm"), user="bob")
    assert "no deal #1" in again["text"]
    assert slack.testbot.count(Deal) == 0
    deletes = slack.testbot.query(select(AuditEntry.id).where(AuditEntry.action == "deal.delete"))
    assert len(deletes) == 1


async def test_edit_customer_undo_button_puts_the_tags_back(slack: SlackHarness) -> None:
    """`/crm edit customer …` answers before → after with Undo; pressing it restores the tags."""
    await slack.ask("new customer Acme city Chicago tags fleet, west")
    done = await slack.ask("edit customer Acme: city Boston, tags eu")
    assert done["text"].startswith("Updated Acme.")
    assert "fleet, west → eu" in blocks_text(done["blocks"])
    undone = await press(slack, button(done, "Undo"))
    assert undone["text"].startswith("Undid the edit of Acme.")
    assert slack.testbot.rows(select(Customer.city, Customer.tags)) == [
        ("Chicago", ["fleet", "west"])
    ]
    again = await press(slack, button(done, "Undo"))
    assert "already undone" in again["text"]
    actions = slack.testbot.query(
        select(AuditEntry.action).where(AuditEntry.entity_type == "customers")
    )
    assert actions == ["customer.create", "customer.update", "customer.undo_edit"]
