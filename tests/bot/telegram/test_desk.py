"""The service desk in Telegram, against the fake Bot API: a customer group (the bot is an
admin there and sees every message), a member with no account, replies to a ticket's message,
a staff reaction, CSAT buttons pressed twice and by someone else."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from bot.notifier_hub import NotifierHub
from bot.scheduling import Delivery
from bot.telegram.notifier import TelegramNotifier
from crm_core.models import CsatRequest, Feedback, Ticket, TicketEvent, TicketStatus
from schedules.csat import CsatAsker
from tests.bot.telegram.conftest import TG, BotFactory, buttons
from tests.bot.telegram.fake_api import FakeBotApi
from tests.conftest import TestBot

GROUP = -100777
GUEST = 4242  # a customer's person in their support group: no crmbot account


def _in_group(update: dict[str, Any], *, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
    message = update["message"]
    message["chat"] = {"id": GROUP, "type": "supergroup", "title": "Acme support"}
    if message["from"]["id"] == GUEST:
        message["from"]["first_name"] = "Casey"
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return update


def _reaction(user_id: int, message_id: int, emoji: str) -> dict[str, Any]:
    return {
        "message_reaction": {
            "chat": {"id": GROUP, "type": "supergroup", "title": "Acme support"},
            "message_id": message_id,
            "user": {"id": user_id, "is_bot": False, "first_name": "Alice"},
            "date": int(time.time()),
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": emoji}],
        }
    }


async def _until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_customer_group_reply_reaction_and_csat(
    make_tg: BotFactory, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    bot, chat = await make_tg()
    testbot("alice", "new customer Acme")
    await chat.raw(_in_group(chat.message(TG["alice"], "/channel link Acme")))
    await chat.raw(_in_group(chat.message(TG["alice"], "/channel auto on")))
    await _until(lambda: _sent_to(fake_api, TG["alice"], "Auto tickets are on"))

    # The guest writes: a ticket, a line in reply to them, 👀 on their message.
    first = _in_group(chat.message(GUEST, "The label printer jams"))
    await chat.raw(first)
    root = first["message"]["message_id"]
    await _until(lambda: _sent_to(fake_api, GROUP, "ticket #1"))
    said = [c for c in fake_api.of("sendMessage") if "ticket #1" in str(c.params.get("text"))]
    assert said[0].params["reply_parameters"]["message_id"] == root
    # Telegram has no threads: the guest is told how to add to the ticket instead.
    assert "reply to your message above" in said[0].params["text"]
    assert "thread" not in said[0].params["text"]
    await _until(lambda: fake_api.of("setMessageReaction"))
    (ticket,) = testbot.query(select(Ticket))
    assert (ticket.requester_id, ticket.requester_name) == (str(GUEST), "Casey")
    assert ticket.requester_where == f"{GROUP}:{root}"

    # A reply to that message is logged on the ticket.
    await chat.raw(_in_group(chat.message(GUEST, "Still jams"), reply_to=first["message"]))

    def kinds() -> list[str]:
        return testbot.query(select(TicketEvent.kind).order_by(TicketEvent.id))

    await _until(lambda: kinds() == ["created", "customer"])

    # 👌 by alice resolves it; the guest's reaction does nothing.
    await chat.raw(_reaction(GUEST, root, "👌"))
    await chat.raw(_reaction(TG["alice"], root, "👌"))
    await _until(lambda: testbot.count(CsatRequest) == 1)
    assert testbot.query(select(Ticket.status)) == [TicketStatus.resolved]

    # The question goes to the group in reply to the guest, with 1-5 buttons anyone can press.
    crm = bot.app
    notifier = TelegramNotifier(bot.bot, crm.gateway("telegram"))
    delivery = Delivery(
        crm.session_factory,
        NotifierHub(crm.session_factory, [notifier]),
        crm.pipeline,
        context=crm.dispatcher.context,
        dispatcher=crm.dispatcher,
    )
    asker = CsatAsker(crm.session_factory, delivery.csat_question, clock=crm.dispatcher.clock)
    assert (await asker.run_once()).sent == 1
    (asked,) = [c for c in fake_api.of("sendMessage") if "How satisfied" in c.params["text"]]
    assert asked.params["reply_parameters"]["message_id"] == root
    keys = buttons(asked)
    assert list(keys) == ["1", "2", "3", "4", "5"]

    async def press(user: int, label: str) -> str:
        before = len(fake_api.of("answerCallbackQuery"))
        await chat.press(user, keys[label], chat_id=GROUP)
        await _until(lambda: len(fake_api.of("answerCallbackQuery")) > before)
        return str(fake_api.of("answerCallbackQuery")[before].params.get("text"))

    assert "only they can answer" in await press(TG["alice"], "2")
    assert "recorded 4 out of 5" in await press(GUEST, "4")
    assert "already answered" in await press(GUEST, "1")
    assert testbot.query(select(Feedback.score)) == [4]

    # A command from the guest answers only how to open a ticket, in the group.
    await chat.raw(_in_group(chat.message(GUEST, "/customer Acme")))
    await _until(lambda: _sent_to(fake_api, GROUP, "To open a ticket"))
    assert not any("Owner" in str(c.params.get("text")) for c in fake_api.sent(GROUP))


async def test_replies_to_staff_and_to_the_bot_join_the_ticket(
    make_tg: BotFactory, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """Telegram has no threads: a guest answering staff's reply, or the bot's acknowledgement,
    is on the same ticket (not dropped, not a new ticket), and staff answering that too."""
    _, chat = await make_tg()
    testbot("alice", "new customer Acme")
    await chat.raw(_in_group(chat.message(TG["alice"], "/channel link Acme")))
    await chat.raw(_in_group(chat.message(TG["alice"], "/channel auto on")))
    await _until(lambda: _sent_to(fake_api, TG["alice"], "Auto tickets are on"))
    first = _in_group(chat.message(GUEST, "The label printer jams"))
    await chat.raw(first)
    await _until(lambda: _sent_to(fake_api, GROUP, "ticket #1"))
    (ack,) = [c for c in fake_api.sent(GROUP) if "ticket #1" in str(c.params.get("text"))]

    def kinds() -> list[str]:
        return testbot.query(select(TicketEvent.kind).order_by(TicketEvent.id))

    await _until(lambda: testbot.query(select(TicketEvent.external_id)) != [None])
    staff = _in_group(chat.message(TG["alice"], "Which model is it?"), reply_to=first["message"])
    await chat.raw(staff)
    await _until(lambda: kinds() == ["created", "reply"])
    await chat.raw(_in_group(chat.message(GUEST, "The ZT230"), reply_to=staff["message"]))
    await _until(lambda: kinds() == ["created", "reply", "customer"])
    await chat.raw(_in_group(chat.message(GUEST, "Any news?"), reply_to=ack.result))
    await _until(lambda: len(kinds()) == 4)
    assert testbot.count(Ticket) == 1
    said = testbot.query(select(TicketEvent.text).where(TicketEvent.kind == "customer"))
    assert said == ["The ZT230", "Any news?"]


def _sent_to(api: FakeBotApi, chat_id: int, text: str) -> bool:
    return any(text in str(c.params.get("text", "")) for c in api.sent(chat_id))


async def test_ticket_in_reply_in_a_customer_group_is_theirs_with_the_requester(
    make_tg: BotFactory, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    _, chat = await make_tg()
    testbot("alice", "new customer Acme")
    await chat.raw(_in_group(chat.message(TG["alice"], "/channel link Acme")))
    await _until(lambda: _sent_to(fake_api, TG["alice"], "is now Acme's channel"))
    # Not auto: the guest's message stays a message until staff reply /ticket to it.
    asked = _in_group(chat.message(GUEST, "Invoices are missing since Monday"))
    await chat.raw(asked)
    await fake_api.quiet(0.2)
    assert testbot.count(Ticket) == 0
    await chat.raw(_in_group(chat.message(TG["alice"], "/ticket"), reply_to=asked["message"]))
    await _until(lambda: testbot.count(Ticket) == 1)
    (ticket,) = testbot.query(select(Ticket))
    assert ticket.subject == "Invoices are missing since Monday"
    assert (ticket.requester_id, ticket.requester_name) == (str(GUEST), "Casey")
    assert ticket.requester_where == f"{GROUP}:{asked['message']['message_id']}"
