"""Any declared form as a Telegram conversation: edit customer, step by step, on the fake API."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Customer
from tests.bot.telegram.conftest import GROUP, TG, Chat, buttons
from tests.bot.telegram.fake_api import FakeBotApi, parse_html
from tests.conftest import TestBot

ALICE = TG["alice"]


def _sent(api: FakeBotApi) -> list[dict[str, object]]:
    return [c.params for c in api.of("sendMessage") if c.params.get("chat_id") == ALICE]


async def _next(api: FakeBotApi, before: int) -> str:
    calls = await api.wait_for("sendMessage", before + 1, chat_id=ALICE)
    return parse_html(str(calls[before].params["text"]))[0]


async def _say(tg: Chat, api: FakeBotApi, text: str) -> str:
    before = len(_sent(api))
    await tg.say(ALICE, text)
    return await _next(api, before)


async def _press(tg: Chat, api: FakeBotApi, label: str) -> str:
    calls = [c for c in api.of("sendMessage") if c.params.get("chat_id") == ALICE]
    keyboard = buttons(calls[-1])
    before = len(_sent(api))
    await tg.press(ALICE, keyboard[label])
    return await _next(api, before)


async def test_edit_customer_step_by_step(tg: Chat, fake_api: FakeBotApi, testbot: TestBot) -> None:
    """/edit_customer Acme: each field with a Keep button, typed values checked, a card, saved."""
    testbot("alice", "new customer Acme industry retail")
    assert "Name? Type it." in await _say(tg, fake_api, "/edit_customer Acme")
    assert "Keep: Acme" in buttons(fake_api.of("sendMessage")[-1])
    assert "Industry?" in await _press(tg, fake_api, "Keep: Acme")
    assert "City?" in await _say(tg, fake_api, "logistics")
    assert "100" in await _say(tg, fake_api, "x" * 101)
    assert "Tags?" in await _say(tg, fake_api, "Boston")
    card = await _press(tg, fake_api, "Skip")
    assert card.startswith("Save these changes?")
    assert "logistics" in card and "Boston" in card
    done = await _press(tg, fake_api, "Save")
    assert done.startswith("Updated Acme.")
    assert testbot.rows(select(Customer.industry, Customer.city)) == [("logistics", "Boston")]
    updates = testbot.query(select(AuditEntry.id).where(AuditEntry.action == "customer.update"))
    assert len(updates) == 1


async def test_edit_customer_in_chinese_typed_and_cancelled(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """修改客户 typed with fields is done at once; the form alone can be cancelled."""
    testbot("alice", "new customer Acme")
    assert (await _say(tg, fake_api, "修改客户 Acme：城市 上海")).startswith("Updated Acme.")
    assert "Name?" in await _say(tg, fake_api, "修改客户 Acme")
    assert "Cancelled" in await _say(tg, fake_api, "/cancel")
    assert testbot.rows(select(Customer.city)) == [("上海",)]


async def test_a_form_in_a_group_is_sent_to_the_private_chat(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """/edit_customer Acme in a group: the steps happen privately; nothing starts there."""
    testbot("alice", "new customer Acme")
    await tg.say(ALICE, "/edit_customer Acme", chat_id=GROUP)
    calls = await fake_api.wait_for("sendMessage", 1, chat_id=GROUP)
    assert "private chat" in parse_html(str(calls[0].params["text"]))[0]
    assert "Logged" in await _say(tg, fake_api, "log Acme: in private, no form pending")


async def test_edit_contact_step_by_step(tg: Chat, fake_api: FakeBotApi, testbot: TestBot) -> None:
    """/edit_contact Dana: each field with a Keep button, a bad phone refused, saved once."""
    testbot("alice", "new customer Acme")
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops")
    assert "Name? Type it." in await _say(tg, fake_api, "/edit_contact Dana")
    assert "Title?" in await _press(tg, fake_api, "Keep: Dana Ruiz")
    assert "Email?" in await _say(tg, fake_api, "COO")
    assert "Phone?" in await _press(tg, fake_api, "Skip")
    assert "does not look like a phone" in await _say(tg, fake_api, "12")
    assert "Birthday?" in await _say(tg, fake_api, "+1 617 555 0101")
    card = await _say(tg, fake_api, "1984-05-03")
    assert card.startswith("Save these changes?") and "COO" in card
    done = await _press(tg, fake_api, "Save")
    assert done.startswith("Updated Dana Ruiz (Acme).")
    assert testbot.rows(select(Contact.title, Contact.phone)) == [("COO", "+1 617 555 0101")]
    updates = testbot.query(select(AuditEntry.id).where(AuditEntry.action == "contact.update"))
    assert len(updates) == 1


async def test_history_more_button(tg: Chat, fake_api: FakeBotApi, testbot: TestBot) -> None:
    """/history Acme answers ten changes; More shows the older ones; 历史 is the same verb."""
    testbot("alice", "new customer Acme")
    for n in range(11):
        testbot("alice", f"edit customer Acme: city C{n}")
    first = await _say(tg, fake_api, "/history Acme")
    assert "C9 → C10" in first and "created" not in first
    older = await _press(tg, fake_api, "More")
    assert "none → C0" in older and "customer Acme created" in older
    # The Chinese alias; the answer is in the reader's language (alice reads English).
    assert "C9 → C10" in await _say(tg, fake_api, "历史 Acme")


async def test_reassign_refused_to_a_rep_then_done_by_the_manager(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """/reassign as alice says who may; bob's /reassign answers with before → after."""
    testbot("alice", "new customer Acme")
    assert "Only a manager or an admin" in await _say(tg, fake_api, "/reassign Acme to @carol")
    before = len([c for c in fake_api.of("sendMessage") if c.params.get("chat_id") == TG["bob"]])
    await tg.say(TG["bob"], "/reassign Acme to @carol")
    calls = await fake_api.wait_for("sendMessage", before + 1, chat_id=TG["bob"])
    assert "Acme now belongs to Carol" in parse_html(str(calls[before].params["text"]))[0]
    assert testbot.rows(select(Customer.owner_id)) == [(testbot.users["carol"],)]


async def test_edit_customer_steps_ask_the_custom_fields(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """A declared choice field is a step with its choices as buttons; a number step checks."""
    for line in (
        "field add customer region choice North, South, East",
        "field add customer employees number",
    ):
        assert testbot("admin", line).status == "ok"
    testbot("alice", "new customer Acme")
    await _say(tg, fake_api, "/edit_customer Acme")
    await _press(tg, fake_api, "Keep: Acme")
    for _ in range(3):  # industry, city, tags
        step = await _press(tg, fake_api, "Skip")
    assert "region" in step
    assert {"none", "North", "South", "East"} <= set(buttons(fake_api.of("sendMessage")[-1]))
    assert "employees" in await _press(tg, fake_api, "South")
    assert "takes a number" in await _say(tg, fake_api, "lots")
    card = await _say(tg, fake_api, "75")
    assert card.startswith("Save these changes?") and "South" in card and "75" in card
    done = await _press(tg, fake_api, "Save")
    assert done.startswith("Updated Acme.")
    assert testbot.query(select(Customer.custom)) == [{"employees": "75", "region": "South"}]
