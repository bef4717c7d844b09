"""The service desk in Slack, against the fake Slack: a customer channel (a Slack Connect guest
with no account), 🎫 and status reactions, thread replies, auto tickets, CSAT buttons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.notifier_hub import NotifierHub
from bot.scheduling import Delivery
from bot.slack.notifier import SlackNotifier
from bot.slack.sending import web_client
from crm_core.models import CsatRequest, Feedback, Ticket, TicketEvent, TicketStatus
from schedules.csat import CsatAsker
from schedules.mirror import MirrorJob
from tests.bot.slack.conftest import SlackHarness, blocks_text, buttons_of

C = "C0ACME"
GUEST = "UEXT1"  # a Slack Connect member of the customer's org: no crmbot account
ROOT = "1700000000.000100"


def _guest(slack: SlackHarness) -> None:
    slack.fake.users[GUEST] = {"id": GUEST, "profile": {"real_name": "Casey Customer"}}
    slack.fake.messages[C] = [{"ts": ROOT, "user": GUEST, "text": "The label printer jams"}]


async def _linked(slack: SlackHarness) -> None:
    _guest(slack)
    assert "Acme" in (await slack.ask("new customer Acme"))["text"]
    linked = await slack.ask(f"channel link <#{C}|acme-support> Acme")
    assert "is now Acme's channel" in linked["text"]


def _reaction(name: str, *, user: str = "UALICE", ts: str = ROOT) -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item": {"type": "message", "channel": C, "ts": ts},
        "item_user": GUEST,
        "event_ts": "1700000001.000000",
    }


def _message(text: str, ts: str, *, user: str = GUEST, thread: str | None = None) -> dict[str, Any]:
    event = {"type": "message", "channel": C, "user": user, "text": text, "ts": ts}
    if thread:
        event["thread_ts"] = thread
    return event | {"channel_type": "channel"}


async def test_ticket_reaction_thread_replies_status_and_csat(slack: SlackHarness) -> None:
    await _linked(slack)
    fake = slack.fake
    assert await slack.event(_reaction("ticket"), event_id="Ev1") == 200
    said = await fake.wait("chat.postMessage", where=lambda c: c.params.get("thread_ts") == ROOT)
    assert "ticket #1" in said[0].params["text"]
    await fake.wait("reactions.add", where=lambda c: c.params.get("name") == "eyes")
    note = await fake.wait("chat.postMessage", where=lambda c: c.params.get("channel") == "UALICE")
    assert "Ticket #1 opened for Acme" in note[0].params["text"]
    # Another staff member's 🎫 on the same message makes no second ticket.
    await slack.event(_reaction("ticket", user="UBOB"), event_id="Ev2")
    await fake.wait("chat.postMessage", where=lambda c: c.params.get("channel") == "UBOB")
    (ticket,) = slack.testbot.query(select(Ticket))
    assert (ticket.requester_id, ticket.requester_name) == (GUEST, "Casey Customer")
    assert ticket.source_text == "The label printer jams" and ticket.created_by_id is not None
    assert ticket.source_link and ticket.source_link.endswith("/p1700000000000100")

    # Replies in the thread: staff's is the first response; the guest's is logged too, once.
    def kinds() -> list[str]:
        return slack.testbot.query(select(TicketEvent.kind).order_by(TicketEvent.id))

    staff = _message("Try the roller", "1700000000.000200", user="UALICE", thread=ROOT)
    await slack.event(staff, event_id="Ev3")
    await _until(lambda: kinds() == ["created", "reply"])
    reply = _message("Still jams", "1700000000.000300", thread=ROOT)
    await slack.event(reply, event_id="Ev4")
    await slack.event(reply, event_id="Ev4", retry=1)
    # A message in no ticket's thread is not the desk's.
    await slack.event(_message("hello", "1700000000.000400", thread="1699.1"), event_id="Ev6")
    await _until(lambda: kinds() == ["created", "reply", "customer"])

    # ✅ by staff resolves it: the mirror swaps 👀 for ✅ and a CSAT question is owed.
    await slack.event(_reaction("white_check_mark"), event_id="Ev5")
    await fake.wait("reactions.remove", where=lambda c: c.params.get("name") == "eyes")
    await _until(lambda: slack.testbot.count(CsatRequest) == 1)
    assert slack.testbot.query(select(Ticket.status)) == [TicketStatus.resolved]

    # The question goes to the guest's thread with five buttons; a second run sends nothing.
    crm = slack.runtime.app
    notifier = SlackNotifier(web_client("xoxb-test-token", fake.api_url))
    delivery = Delivery(
        crm.session_factory,
        NotifierHub(crm.session_factory, [notifier]),
        crm.pipeline,
        context=crm.dispatcher.context,
        dispatcher=crm.dispatcher,
    )
    asker = CsatAsker(crm.session_factory, delivery.csat_question, clock=crm.dispatcher.clock)
    assert (await asker.run_once()).sent == 1
    assert (await asker.run_once()).sent == 0
    (asked,) = [c for c in fake.named("chat.postMessage") if "How satisfied" in c.params["text"]]
    assert asked.params["channel"] == C and asked.params["thread_ts"] == ROOT
    buttons = buttons_of(asked.params["blocks"])
    assert [b["text"]["text"] for b in buttons] == ["1", "2", "3", "4", "5"]

    async def press(button: dict[str, Any], user: str) -> str:
        before = len(fake.named("response"))
        await slack.press(button, user=user)
        answer = (await fake.wait("response", before + 1))[before].params
        return blocks_text(answer["blocks"]) or str(answer["text"])

    assert "only they can answer" in await press(buttons[1], "UALICE")
    assert "recorded 5 out of 5" in await press(buttons[4], GUEST)
    assert "already answered" in await press(buttons[0], GUEST)
    assert slack.testbot.query(select(Feedback.score)) == [5]
    # The retried delivery of the guest's reply was logged once.
    assert kinds() == ["created", "reply", "customer", "resolve"]

    # Reopened by a typed command: the scheduler's mirror job puts 👀 back on the message.
    assert "open again" in (await slack.ask("reopen #1"))["text"]
    mirrors = MirrorJob(crm.session_factory, delivery.mirror, clock=crm.dispatcher.clock)
    added = len(fake.named("reactions.add"))
    assert await mirrors.run_once() == 1
    assert await mirrors.run_once() == 0
    last = fake.named("reactions.add")[added:]
    assert [(c.params["channel"], c.params["timestamp"], c.params["name"]) for c in last] == [
        (C, ROOT, "eyes")
    ]
    assert fake.named("reactions.remove")[-1].params["name"] == "white_check_mark"


async def test_auto_channel_and_a_guest_command_gets_only_how_to_open_a_ticket(
    slack: SlackHarness,
) -> None:
    await _linked(slack)
    assert "Auto tickets are on" in (await slack.ask(f"channel auto <#{C}> on"))["text"]
    await slack.event(_message("Invoices are missing", "1700000000.000500"), event_id="Ev9")
    said = await slack.fake.wait(
        "chat.postMessage", where=lambda c: c.params.get("thread_ts") == "1700000000.000500"
    )
    assert "ticket #1" in said[0].params["text"]
    assert slack.testbot.query(select(Ticket.requester_name)) == ["Casey Customer"]
    # The guest typing a command in the channel sees no CRM data, only how to open a ticket.
    before = len(slack.fake.named("response"))
    status, _ = await slack.command("customer Acme", user=GUEST, channel_id=C)
    assert status == 200
    answered = (await slack.fake.wait("response", before + 1))[before].params
    assert "To open a ticket" in (blocks_text(answered["blocks"]) or answered["text"])
    assert "Acme" not in blocks_text(answered["blocks"])


async def _until(check: Any, timeout: float = 5.0) -> None:
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
