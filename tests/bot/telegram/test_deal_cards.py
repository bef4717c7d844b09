"""The deal card, the edit deal steps and delete's confirm card on the fake Telegram API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Deal
from tests.bot.telegram.conftest import TG, Chat, buttons
from tests.bot.telegram.fake_api import FakeBotApi, parse_html
from tests.conftest import TestBot

ALICE, BOB = TG["alice"], TG["bob"]


def _sent(api: FakeBotApi, chat: int) -> list[object]:
    return [c for c in api.of("sendMessage") if c.params.get("chat_id") == chat]


async def _next(api: FakeBotApi, chat: int, before: int) -> str:
    calls = await api.wait_for("sendMessage", before + 1, chat_id=chat)
    return parse_html(str(calls[before].params["text"]))[0]


async def _say(tg: Chat, api: FakeBotApi, text: str, chat: int = ALICE) -> str:
    before = len(_sent(api, chat))
    await tg.say(chat, text)
    return await _next(api, chat, before)


async def _press(tg: Chat, api: FakeBotApi, label: str, chat: int = ALICE) -> str:
    keyboard = buttons(_sent(api, chat)[-1])
    before = len(_sent(api, chat))
    await tg.press(chat, keyboard[label])
    return await _next(api, chat, before)


async def test_deal_card_edit_steps_and_undo(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """`deal #1` → Edit: each field with Keep, bad amount and date refused, saved, Undo."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal 48000 close 2026-12-15")
    card = await _say(tg, fake_api, "deal #1")
    assert "#1 Fleet renewal" in card and "Stage history" in card
    assert set(buttons(_sent(fake_api, ALICE)[-1])) >= {"Move", "Edit", "Log", "Remind"}
    assert "Title?" in await _press(tg, fake_api, "Edit")
    assert "Amount?" in await _press(tg, fake_api, "Keep: Fleet renewal")
    assert '"abc" is not an amount' in await _say(tg, fake_api, "abc")
    assert "Expected close?" in await _say(tg, fake_api, "52k")
    assert '"someday"' in await _say(tg, fake_api, "someday")
    assert "Owner?" in await _say(tg, fake_api, "2027-01-15")
    summary = await _press(tg, fake_api, "Keep: @alice")
    assert summary.startswith("Save these changes?") and "52k" in summary
    done = await _press(tg, fake_api, "Save")
    assert done.startswith("Updated #1 Fleet renewal.")
    assert "48,000 USD → 52,000 USD" in done
    assert testbot.rows(select(Deal.amount, Deal.expected_close)) == [
        (Decimal("52000.00"), date(2027, 1, 15))
    ]
    undone = await _press(tg, fake_api, "Undo")
    assert undone.startswith("Undid the edit of #1 Fleet renewal.")
    assert testbot.query(select(Deal.amount)) == [Decimal("48000.00")]


async def test_edit_contact_undo_button_on_telegram(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """`edit contact` answers before → after with Undo; pressing it puts the old values back."""
    testbot("alice", "new customer Acme")
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example, +1 617 555 0101")
    done = await _say(tg, fake_api, "edit contact Dana: title COO, phone +1 617 555 0199")
    assert done.startswith("Updated Dana Ruiz (Acme)."), done
    assert "VP Ops → COO" in done
    undone = await _press(tg, fake_api, "Undo")
    assert undone.startswith("Undid the edit of Dana Ruiz (Acme)."), undone
    assert testbot.rows(select(Contact.title, Contact.phone)) == [("VP Ops", "+1 617 555 0101")]
    (back,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "contact.undo_edit"))
    assert back.actor_id == testbot.users["alice"]


async def test_edit_deal_typed_in_chinese(tg: Chat, fake_api: FakeBotApi, testbot: TestBot) -> None:
    """修改商机 with fields is done at once."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal")
    done = await _say(tg, fake_api, "修改商机 #1：金额 6万 元，预计成交 2027-01-15")
    assert done.startswith("Updated #1 Fleet renewal."), done
    assert testbot.rows(select(Deal.amount, Deal.currency)) == [(Decimal("60000.00"), "CNY")]


async def test_delete_deal_confirm_card_on_telegram(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """A manager's delete: Cancel changes nothing, Confirm deletes once, twice says it is gone."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal")
    assert "Only a manager" in await _say(tg, fake_api, "delete deal #1")
    preview = await _say(tg, fake_api, "delete deal #1", chat=BOB)
    assert "Delete #1 Fleet renewal · Acme" in preview
    keyboard = buttons(_sent(fake_api, BOB)[-1])
    assert set(keyboard) == {"Confirm", "Cancel"}
    assert "Cancelled; nothing was changed." in await _press(tg, fake_api, "Cancel", chat=BOB)
    assert testbot.count(Deal) == 1
    before = len(_sent(fake_api, BOB))
    await tg.press(BOB, keyboard["Confirm"])
    assert (await _next(fake_api, BOB, before)).startswith("Deleted #1 Fleet renewal")
    before = len(_sent(fake_api, BOB))
    await tg.press(BOB, keyboard["Confirm"])
    assert "no deal #1" in await _next(fake_api, BOB, before)
    assert testbot.count(Deal) == 0
    deletes = testbot.query(select(AuditEntry.id).where(AuditEntry.action == "deal.delete"))
    assert len(deletes) == 1


async def test_customer_card_edit_button_starts_the_edit_customer_steps(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """The customer card's Edit button starts the edit customer steps (it was dropped before)."""
    testbot("alice", "new customer Acme city Boston")
    assert "Acme" in await _say(tg, fake_api, "customer Acme")
    assert "Name?" in await _press(tg, fake_api, "Edit")
    assert "Industry?" in await _press(tg, fake_api, "Keep: Acme")
