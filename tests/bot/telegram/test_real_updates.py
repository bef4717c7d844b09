"""Updates as Telegram really sends them (issue 13): Chinese /commands, forum topics, captions,
edited messages, anonymous admins, and updates the library cannot read."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import Interaction, InteractionKind
from tests.bot.telegram.conftest import GROUP, TG, Chat
from tests.bot.telegram.fake_api import FakeBotApi, parse_html
from tests.conftest import TestBot

ALICE = TG["alice"]


@pytest.fixture
def book(testbot: TestBot) -> TestBot:
    """华东物流 and Acme Logistics, both alice's."""
    assert testbot("alice", "新客户 华东物流").status == "ok"
    assert testbot("alice", "new customer Acme Logistics").status == "ok"
    return testbot


async def _after(api: FakeBotApi, chat: int, before: int) -> str:
    """The plain text of the first message sent to `chat` after `before` earlier ones."""
    calls = await api.wait_for("sendMessage", before + 1, chat_id=chat)
    return parse_html(str(calls[before].params["text"]))[0]


async def _ask(tg: Chat, api: FakeBotApi, text: str, chat: int | None = None) -> str:
    where = chat if chat is not None else ALICE
    before = len(api.sent(where))
    await tg.say(ALICE, text, chat_id=chat)
    return await _after(api, where, before)


async def test_chinese_slash_commands_run_like_typed_ones(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """`/客户 华东物流` shows the card, `/记录 拜访 …` logs a visit, `/帮助` lists every verb."""
    assert (await _ask(tg, fake_api, "/客户 华东物流")).startswith("华东物流")
    assert (await _ask(tg, fake_api, "/客戶 華東物流")).startswith("华东物流")
    logged = await _ask(tg, fake_api, "/记录 拜访 华东物流：客户关心价格")
    assert logged.startswith("Logged the visit with 华东物流"), logged
    assert book.query(select(Interaction.kind)) == [InteractionKind.visit]
    assert book.query(select(Interaction.text)) == ["客户关心价格"]
    help_list = await _ask(tg, fake_api, "/帮助")
    assert help_list.startswith("What I can do") and "pipeline" in help_list
    # `/记录` alone starts the step-by-step log, like `/log`.
    assert "Which customer?" in await _ask(tg, fake_api, "/记录")


async def test_chinese_slash_commands_in_a_group(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """In a group `/客户 华东物流` is a command; one meant for another bot is left alone."""
    await tg.say(ALICE, "/客户@other_bot 华东物流", chat_id=GROUP)
    await fake_api.quiet()
    assert fake_api.sent() == []
    note = await _ask(tg, fake_api, "/客户 华东物流", chat=GROUP)
    assert "private chat" in note
    assert (await _after(fake_api, ALICE, 0)).startswith("华东物流")
    shared = await _ask(tg, fake_api, "/客户@crm_test_bot 华东物流 分享", chat=GROUP)
    assert shared.startswith("华东物流")
