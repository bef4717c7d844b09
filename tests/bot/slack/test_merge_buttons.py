"""`duplicates` → Merge → Confirm through the real Slack endpoint, pressed as a manager."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Customer
from tests.bot.slack.conftest import SlackHarness, blocks_text
from tests.bot.slack.test_commands import button, press
from tests.handlers.test_duplicates import add_customers


async def test_merge_button_previews_and_confirm_merges_once(slack: SlackHarness) -> None:
    """The pair's Merge button shows the preview; Cancel writes nothing; Confirm merges once."""
    keep, drop = add_customers(slack.testbot, "alice", "Acme Logistics", "ACME logistics inc.")
    listed = await slack.ask("duplicates", user="bob")
    assert f"#{keep} Acme Logistics ↔ #{drop} ACME logistics inc." in blocks_text(listed["blocks"])
    preview = await press(slack, button(listed, f"Merge #{drop} into #{keep}"), user="bob")
    assert "Merge #" in blocks_text(preview["blocks"]) and "Moves" in blocks_text(preview["blocks"])
    cancelled = await press(slack, button(preview, "Cancel"), user="bob")
    assert "nothing was merged" in cancelled["text"]
    assert slack.testbot.query(select(Customer.merged_into).where(Customer.id == drop)) == [None]
    # A rep pressing the manager's Confirm is re-checked as the presser and refused.
    refused = await press(slack, button(preview, "Confirm"), user="alice")
    assert "manager" in refused["text"]
    done = await press(slack, button(preview, "Confirm"), user="bob")
    assert "Merged #" in done["text"]
    assert slack.testbot.query(select(Customer.merged_into).where(Customer.id == drop)) == [keep]
    again = await press(slack, button(preview, "Confirm"), user="bob")
    assert "already merged" in again["text"]
