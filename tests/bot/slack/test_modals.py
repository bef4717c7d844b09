"""The log modal, type-ahead, the message shortcut and its dedupe, and the App Home tab."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

from sqlalchemy import select

from bot.slack.blocks import ACTION_PREFIX, encode_button
from crm_core.models import Interaction, Reminder, Ticket, TicketPriority
from handlers.reply import RUN
from tests.bot.slack.conftest import TEAM, SlackHarness, blocks_text, buttons_of
from tests.conftest import START


def state(
    customer: int | None,
    notes: str,
    *,
    kind: str = "call",
    when: int | None = None,
    contact: str = "",
    deal: str = "",
    follow_up: str | None = None,
) -> dict[str, Any]:
    """view.state.values as Slack sends them for the log modal."""

    def one(block: str, value: dict[str, Any]) -> dict[str, Any]:
        return {block: {block: value}}

    values: dict[str, Any] = {}
    values |= one(
        "customer",
        {
            "type": "external_select",
            "selected_option": {"value": str(customer)} if customer else None,
        },
    )
    values |= one("kind", {"type": "static_select", "selected_option": {"value": kind}})
    values |= one("when", {"type": "datetimepicker", "selected_date_time": when})
    values |= one("contact", {"type": "plain_text_input", "value": contact or None})
    values |= one("deal", {"type": "plain_text_input", "value": deal or None})
    values |= one("notes", {"type": "plain_text_input", "value": notes})
    values |= one("follow_up", {"type": "datepicker", "selected_date": follow_up})
    return values


async def submit(
    slack: SlackHarness, view: dict[str, Any], values: dict[str, Any], *, view_id: str = "V1"
) -> tuple[int, str]:
    """Submit an opened modal with these values."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": "UALICE"},
        "view": {**view, "id": view_id, "state": {"values": values}},
    }
    return await slack.interact(payload)


async def open_modal(slack: SlackHarness) -> dict[str, Any]:
    """`/crm log` with nothing else, and the view it opened."""
    status, _ = await slack.command("log")
    assert status == 200
    call = (await slack.fake.wait("views.open"))[-1]
    assert call.params["trigger_id"].startswith("trigger-")
    view: dict[str, Any] = call.params["view"]
    return view


async def test_log_with_no_text_opens_the_modal(slack: SlackHarness) -> None:
    """Every field: customer type-ahead, kind, when, contact, deal, notes, follow-up."""
    view = await open_modal(slack)
    assert view["callback_id"] == "crm_log"
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(blocks) == ["customer", "kind", "when", "contact", "deal", "notes", "follow_up"]
    assert blocks["customer"]["element"]["type"] == "external_select"
    assert blocks["follow_up"]["optional"] is True


async def test_global_shortcut_and_home_button_open_it_too(slack: SlackHarness) -> None:
    """The global shortcut "Log interaction" opens the same modal."""
    await slack.interact(
        {
            "type": "shortcut",
            "callback_id": "log_interaction",
            "trigger_id": "trig-g",
            "team": {"id": TEAM},
            "user": {"id": "UALICE"},
        }
    )
    opened = await slack.fake.wait("views.open")
    assert opened[0].params["view"]["callback_id"] == "crm_log"


async def test_customer_type_ahead_lists_only_visible_customers(slack: SlackHarness) -> None:
    """External select options: Alice's customers match; Dave's never show."""
    await slack.ask("new customer Acme Logistics")
    await slack.ask("new customer Acme West", user="dave")
    payload = {
        "type": "block_suggestion",
        "action_id": "customer",
        "block_id": "customer",
        "value": "acme",
        "team": {"id": TEAM},
        "user": {"id": "UALICE"},
        "view": {"id": "V1", "callback_id": "crm_log"},
    }
    status, body = await slack.interact(payload)
    assert status == 200
    options = json.loads(body)["options"]
    assert [o["text"]["text"] for o in options] == ["Acme Logistics"]
    assert options[0]["value"].isdigit()
    empty = await slack.interact({**payload, "value": ""})
    assert [o["text"]["text"] for o in json.loads(empty[1])["options"]] == ["Acme Logistics"]


async def test_submit_shows_errors_on_their_fields_and_writes_nothing(
    slack: SlackHarness,
) -> None:
    """Missing customer, empty notes, future time, unknown deal: each error on its field."""
    await slack.ask("new customer Acme")
    acme = slack.testbot.query(select(Interaction.id))  # none yet
    assert acme == []
    view = await open_modal(slack)
    status, body = await submit(slack, view, state(None, ""))
    assert status == 200
    errors = json.loads(body)["errors"]
    assert set(errors) == {"customer", "notes"}
    future = int(START.timestamp()) + 3 * 3600
    status, body = await submit(
        slack, view, state(1, "hello", when=future, deal="Nope", contact="Nobody")
    )
    errors = json.loads(body)["errors"]
    assert set(errors) == {"when", "deal", "contact"}
    assert "future" in errors["when"]
    status, body = await submit(slack, view, state(1, "x", follow_up="2020-01-01"))
    assert "past" in json.loads(body)["errors"]["follow_up"]
    assert slack.testbot.count(Interaction) == 0


async def test_submit_logs_with_deal_contact_time_and_follow_up(slack: SlackHarness) -> None:
    """A valid submit closes the modal, logs once, sets the follow-up and refreshes Home."""
    await slack.ask("new customer Acme")
    await slack.ask("contact add Acme: Dana Ruiz, dana@acme.example")
    await slack.ask("new deal Acme: Fleet renewal 10k")
    view = await open_modal(slack)
    when = int(START.timestamp()) - 3600
    published = len(slack.fake.named("views.publish"))
    answered = len(slack.fake.named("response"))
    values = state(
        1,
        "Pricing call",
        kind="meeting",
        when=when,
        contact="Dana",
        deal="Fleet",
        follow_up="2026-11-30",
    )
    status, body = await submit(slack, view, values)
    assert status == 200 and body == ""
    answer = (await slack.fake.wait("response", answered + 1))[-1].params
    assert "Logged the meeting with Acme" in answer["text"]
    assert "Follow-up reminder set" in blocks_text(answer["blocks"])
    row = slack.testbot.rows(
        select(Interaction.kind, Interaction.deal_id, Interaction.contact_id, Interaction.text)
    )
    assert row == [("meeting", 1, 1, "Pricing call")]
    due = slack.testbot.query(select(Reminder.due_at))
    assert [d.date() for d in due] == [date(2026, 11, 30)]
    await slack.fake.wait("views.publish", published + 1)
    # The same submission delivered again writes nothing.
    await submit(slack, view, values)
    await slack.ask("whoami")
    assert slack.testbot.count(Interaction) == 1


def shortcut(message_ts: str, text: str, response_url: str) -> dict[str, Any]:
    """A message shortcut "Log to CRM" payload."""
    return {
        "type": "message_action",
        "callback_id": "log_message",
        "trigger_id": f"trig-{message_ts}",
        "team": {"id": TEAM, "domain": "test"},
        "user": {"id": "UALICE"},
        "channel": {"id": "C7"},
        "message": {"type": "message", "ts": message_ts, "text": text, "user": "UDANA"},
        "response_url": response_url,
    }


async def test_message_shortcut_prefills_keeps_permalink_and_dedupes(slack: SlackHarness) -> None:
    """The modal is prefilled; the note keeps the permalink; a second time says already logged."""
    await slack.ask("new customer Acme")
    await slack.interact(
        shortcut("1700000000.000100", "Dana &amp; Co want a demo", slack.fake.response_url())
    )
    opened = (await slack.fake.wait("views.open"))[-1].params["view"]
    notes = next(b for b in opened["blocks"] if b.get("block_id") == "notes")
    assert notes["element"]["initial_value"] == "Dana & Co want a demo"
    values = state(1, notes["element"]["initial_value"], kind="chat")
    await submit(slack, opened, values, view_id="V9")
    await slack.fake.wait("response", 2)
    links = slack.testbot.query(select(Interaction.link))
    assert links == ["https://test.slack.com/archives/C7/p1700000000000100"]

    before = len(slack.fake.named("views.open"))
    await slack.interact(
        shortcut("1700000000.000100", "Dana & Co want a demo", slack.fake.response_url())
    )
    again = (await slack.fake.wait("response", 3))[-1].params
    assert "Already logged as note #1" in again["text"]
    assert "https://test.slack.com/archives/C7/p1700000000000100" in again["text"]
    assert buttons_of(again["blocks"])[0]["text"]["text"] == "Open"
    assert len(slack.fake.named("views.open")) == before
    # Even a second modal opened before the first was saved cannot log it twice.
    await submit(slack, opened, values, view_id="V10")
    await slack.ask("whoami")
    assert slack.testbot.count(Interaction) == 1


async def test_long_message_is_prefilled_with_a_visible_notice(slack: SlackHarness) -> None:
    """A message over 3,000 characters: the field holds 3,000 and the modal says so."""
    await slack.interact(shortcut("1.2", "x" * 3500, slack.fake.response_url()))
    view = (await slack.fake.wait("views.open"))[-1].params["view"]
    notes = next(b for b in view["blocks"] if b.get("block_id") == "notes")
    assert len(notes["element"]["initial_value"]) == 3000
    assert "3500" in blocks_text(view["blocks"])


async def test_app_home_publishes_reminders_deals_and_customers(slack: SlackHarness) -> None:
    """Opening the Home tab publishes my open deals by stage, recent customers and buttons."""
    await slack.ask("new customer Acme")
    await slack.ask("new deal Acme: Fleet renewal 10k stage proposal")
    before = len(slack.fake.named("views.publish"))
    assert await slack.event({"type": "app_home_opened", "user": "UALICE", "tab": "home"}) == 200
    view = (await slack.fake.wait("views.publish", before + 1))[-1].params
    assert view["user_id"] == "UALICE"
    text = blocks_text(view["view"]["blocks"])
    assert "Fleet renewal" in text and "proposal" in text and "Acme" in text
    assert "Nothing due today" in text
    labels = [b["text"]["text"] for b in buttons_of(view["view"]["blocks"])]
    assert labels[:2] == ["Log interaction", "Pipeline"]
    # Home buttons answer by direct message (no response_url on the Home tab).
    pipeline = next(
        b for b in buttons_of(view["view"]["blocks"]) if b["text"]["text"] == "Pipeline"
    )
    await slack.press(pipeline, response_url=False)
    dm = (await slack.fake.wait("chat.postMessage"))[-1].params
    assert dm["channel"] == "UALICE"
    log_button = buttons_of(view["view"]["blocks"])[0]
    await slack.press(log_button)
    assert (await slack.fake.wait("views.open"))[-1].params["view"]["callback_id"] == "crm_log"


async def test_home_refreshes_after_each_change(slack: SlackHarness) -> None:
    """Once Home was opened, a write (a new customer) republishes it; a read does not."""
    assert await slack.event({"type": "app_home_opened", "user": "UALICE", "tab": "home"}) == 200
    await slack.fake.wait("views.publish")
    await slack.ask("new customer Acme")
    published = await slack.fake.wait("views.publish", 2)
    assert "Acme" in blocks_text(published[-1].params["view"]["blocks"])
    count = len(slack.fake.named("views.publish"))
    await slack.ask("pipeline")
    await slack.ask("whoami")
    assert len(slack.fake.named("views.publish")) == count


async def test_no_home_rebuild_after_a_write_for_someone_who_never_opened_it(
    slack: SlackHarness,
) -> None:
    """Without app_home_opened, writes publish no Home: opening the tab publishes it fresh."""
    await slack.ask("new customer Acme")
    await slack.ask("note Acme: called about renewal")
    await slack.ask("whoami")
    assert slack.fake.named("views.publish") == []
    assert await slack.event({"type": "app_home_opened", "user": "UALICE", "tab": "home"}) == 200
    view = (await slack.fake.wait("views.publish"))[-1].params["view"]
    assert "Acme" in blocks_text(view["blocks"])


async def test_a_write_from_a_home_button_refreshes_home(slack: SlackHarness) -> None:
    """A button on the Home tab writes: Home is republished even if another worker saw it open."""
    button = {
        "action_id": f"{ACTION_PREFIX}home9",
        "value": encode_button(RUN, {"text": "new customer Beta"}),
    }
    assert (await slack.press(button, response_url=False, home=True))[0] == 200
    view = (await slack.fake.wait("views.publish"))[-1].params
    assert view["user_id"] == "UALICE" and "Beta" in blocks_text(view["view"]["blocks"])


async def test_unknown_user_gets_only_the_ask_an_admin_home(slack: SlackHarness) -> None:
    """An unlinked person opening Home sees the ask-an-admin text and no data."""
    await slack.event({"type": "app_home_opened", "user": "UNOBODY", "tab": "home"})
    view = (await slack.fake.wait("views.publish"))[-1].params["view"]
    assert "Ask an admin" in blocks_text(view["blocks"])
    assert buttons_of(view["blocks"]) == []


async def test_retried_event_is_answered_again_harmlessly(slack: SlackHarness) -> None:
    """Events API retries of app_home_opened publish the same view: nothing is written."""
    event = {"type": "app_home_opened", "user": "UALICE", "tab": "home"}
    assert await slack.event(event, event_id="Ev9") == 200
    assert await slack.event(event, event_id="Ev9", retry=1) == 200
    await slack.fake.wait("views.publish", 2)
    assert slack.testbot.count(Interaction) == 0


async def test_slow_permalink_does_not_keep_the_modal_from_opening(slack: SlackHarness) -> None:
    """getPermalink takes 3.2 s: the modal opens inside the trigger's 3 s, then gets the link."""
    slack.fake.delays["chat.getPermalink"] = 3.2
    payload = shortcut("1700000000.000200", "Dana wants a demo", slack.fake.response_url())
    payload["team"]["domain"] = "acme-corp"
    sent = time.perf_counter()
    status, _ = await slack.interact(payload)
    assert status == 200
    opened = (await slack.fake.wait("views.open"))[-1]
    assert opened.at - sent < 2.5
    built = "https://acme-corp.slack.com/archives/C7/p1700000000000200"
    assert json.loads(opened.params["view"]["private_metadata"])["link"] == built
    updated = (await slack.fake.wait("views.update", timeout=8))[-1]
    assert updated.params["view_id"].startswith("V")
    real = "https://test.slack.com/archives/C7/p1700000000000200"
    assert json.loads(updated.params["view"]["private_metadata"])["link"] == real
    notes = next(b for b in updated.params["view"]["blocks"] if b.get("block_id") == "notes")
    assert notes["element"]["initial_value"] == "Dana wants a demo"
    # Submitted after the update: the note keeps Slack's own permalink.
    await slack.ask("new customer Acme")
    await submit(slack, updated.params["view"], state(1, "Dana wants a demo", kind="chat"))
    await slack.fake.wait("response", 2)
    assert slack.testbot.query(select(Interaction.link)) == [real]


def ticket_shortcut(message_ts: str, text: str, response_url: str) -> dict[str, Any]:
    """A message shortcut "Create ticket" payload."""
    return {**shortcut(message_ts, text, response_url), "callback_id": "create_ticket"}


def ticket_state(customer: int, subject: str, description: str, priority: str) -> dict[str, Any]:
    """view.state.values as Slack sends them for the ticket modal."""
    return {
        "customer": {
            "customer": {
                "type": "external_select",
                "selected_option": {"value": str(customer)},
            }
        },
        "subject": {"subject": {"type": "plain_text_input", "value": subject}},
        "description": {"description": {"type": "plain_text_input", "value": description}},
        "priority": {"priority": {"type": "static_select", "selected_option": {"value": priority}}},
        "assignee": {"assignee": {"type": "plain_text_input", "value": None}},
    }


async def test_create_ticket_shortcut_keeps_the_message_and_makes_one_ticket(
    slack: SlackHarness,
) -> None:
    """ "Create ticket" on a message: the form prefilled, the link and text kept, once."""
    await slack.ask("new customer Acme")
    message = "The label printer jams on every label\nsince this morning"
    await slack.interact(ticket_shortcut("1700000000.000200", message, slack.fake.response_url()))
    opened = (await slack.fake.wait("views.open"))[-1].params["view"]
    assert opened["callback_id"] == "crm_ticket"
    blocks = {b["block_id"]: b for b in opened["blocks"] if b["type"] == "input"}
    assert blocks["subject"]["element"]["initial_value"] == (
        "The label printer jams on every label since this morning"
    )
    assert blocks["description"]["element"]["initial_value"] == message
    values = ticket_state(1, "Label printer jams", message, "high")
    await submit(slack, opened, values, view_id="V21")
    await slack.fake.wait("response", 2)
    assert slack.testbot.rows(
        select(Ticket.subject, Ticket.priority, Ticket.source_link, Ticket.source_text)
    ) == [
        (
            "Label printer jams",
            TicketPriority.high,
            "https://test.slack.com/archives/C7/p1700000000000200",
            message,
        )
    ]
    before = len(slack.fake.named("views.open"))
    await slack.interact(ticket_shortcut("1700000000.000200", message, slack.fake.response_url()))
    again = (await slack.fake.wait("response", 3))[-1].params
    assert "That message is already ticket #1" in again["text"]
    assert len(slack.fake.named("views.open")) == before
    # A second modal opened before the first was saved cannot make a second ticket either.
    await submit(slack, opened, values, view_id="V22")
    await slack.ask("whoami")
    assert slack.testbot.count(Ticket) == 1
