"""`/duplicates` → Merge → Confirm through the real PTB Application and the fake Bot API."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Customer
from tests.bot.telegram.conftest import TG, Chat
from tests.bot.telegram.fake_api import FakeBotApi
from tests.bot.telegram.test_bot import _ask, _count, _last_keyboard, _reply
from tests.conftest import TestBot
from tests.handlers.test_duplicates import add_customers

BOB = TG["bob"]


async def test_merge_button_previews_and_confirm_merges_once(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """The pair's Merge button previews; Cancel writes nothing; Confirm merges, then says done."""
    keep, drop = add_customers(testbot, "alice", "华东物流", "華東物流股份有限公司")
    listed = await _ask(tg, fake_api, BOB, "/duplicates")
    assert f"#{keep} 华东物流 ↔ #{drop} 華東物流股份有限公司" in listed
    before = _count(fake_api, BOB)
    await tg.press(BOB, _last_keyboard(fake_api, BOB)[f"Merge #{drop} into #{keep}"])
    assert "Merge #" in await _reply(fake_api, BOB, before)
    preview = _last_keyboard(fake_api, BOB)
    assert set(preview) == {"Confirm", "Cancel"}
    before = _count(fake_api, BOB)
    await tg.press(BOB, preview["Cancel"])
    assert "nothing was merged" in await _reply(fake_api, BOB, before)
    assert testbot.query(select(Customer.merged_into).where(Customer.id == drop)) == [None]
    before = _count(fake_api, BOB)
    await tg.press(BOB, preview["Confirm"])
    assert (await _reply(fake_api, BOB, before)).startswith("Merged #")
    assert testbot.query(select(Customer.merged_into).where(Customer.id == drop)) == [keep]
    before = _count(fake_api, BOB)
    await tg.press(BOB, preview["Confirm"])
    assert "already merged" in await _reply(fake_api, BOB, before)
