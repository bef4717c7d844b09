"""The real PTB Application, polling the fake Bot API: commands, buttons, linking, groups."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.exchange import import_jsonl
from crm_core.models import Identity, Interaction, Reminder, Ticket, TicketPriority
from crm_core.stages import DEFAULT_STAGES
from tests.bot.telegram.conftest import GROUP, STRANGER, TG, BotFactory, Chat, buttons, texts
from tests.bot.telegram.fake_api import FakeBotApi, parse_html
from tests.conftest import FakeClock, TestBot

ALICE = TG["alice"]


@pytest.fixture
def book(testbot: TestBot) -> TestBot:
    """Acme (alice's, with a contact and a deal) and West Corp (dave's)."""
    assert testbot("alice", "new customer Acme Logistics city Boston").status == "ok"
    assert testbot("alice", "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example").status == "ok"
    assert testbot("alice", "new deal Acme: Fleet renewal 48000 USD").status == "ok"
    assert testbot("dave", "new customer West Corp").status == "ok"
    return testbot


async def _reply(api: FakeBotApi, chat: int, before: int) -> str:
    """The plain text of the first message sent to `chat` after `before` earlier ones."""
    calls = await api.wait_for("sendMessage", before + 1, chat_id=chat)
    return parse_html(str(calls[before].params["text"]))[0]


async def _ask(tg: Chat, api: FakeBotApi, who: int, text: str) -> str:
    before = _count(api, who)
    await tg.say(who, text)
    return await _reply(api, who, before)


def _count(api: FakeBotApi, chat: int) -> int:
    return len([c for c in api.of("sendMessage") if c.params.get("chat_id") == chat])


def _last_keyboard(api: FakeBotApi, chat: int) -> dict[str, str]:
    calls = [c for c in api.of("sendMessage") if c.params.get("chat_id") == chat]
    return buttons(calls[-1])


async def test_menu_in_english_and_chinese(tg: Chat, fake_api: FakeBotApi) -> None:
    """set_my_commands publishes every verb's menu name, /link and /cancel, in en and zh."""
    calls = fake_api.of("setMyCommands")
    assert len(calls) == 2
    en = {c["command"]: c["description"] for c in calls[0].params["commands"]}
    zh = {c["command"]: c["description"] for c in calls[1].params["commands"]}
    assert calls[1].params["language_code"] == "zh" and "language_code" not in calls[0].params
    for name in ("customer", "find", "log", "move", "pipeline", "help", "whoami", "deals"):
        assert name in en and name in zh
    assert {"link", "cancel", "new_customer", "contact", "new_deal", "link_code"} <= set(en)
    assert en["log"] != zh["log"] and all(re.fullmatch(r"[a-z0-9_]{1,32}", c) for c in en)


async def test_a_traditional_readers_chat_gets_the_zh_hant_menu(
    tg: Chat, fake_api: FakeBotApi
) -> None:
    """Telegram picks menus by two-letter language (`zh`: Simplified): once alice reads
    zh-Hant her private chat gets the zh-Hant menu; back in English it is taken away."""

    def chat_menus() -> list[dict[str, object]]:
        return [
            c.params
            for c in fake_api.calls
            if c.method in ("setMyCommands", "deleteMyCommands") and "scope" in c.params
        ]

    await _ask(tg, fake_api, ALICE, "whoami")
    assert chat_menus() == [], "an English reader keeps the language's menu"
    await _ask(tg, fake_api, ALICE, "語言 繁體")
    await _ask(tg, fake_api, ALICE, "提醒列表")
    ((hant,),) = [chat_menus()]
    assert hant["scope"] == {"type": "chat", "chat_id": ALICE}
    menu = {c["command"]: c["description"] for c in hant["commands"]}  # type: ignore[attr-defined]
    assert menu["customer"].startswith("客戶卡片"), menu["customer"]
    await _ask(tg, fake_api, ALICE, "客戶列表")
    assert len(chat_menus()) == 1, "set once, not on every update"
    await _ask(tg, fake_api, ALICE, "language en")
    await _ask(tg, fake_api, ALICE, "whoami")
    assert [c for c in fake_api.calls if c.method == "deleteMyCommands"], chat_menus()


async def test_every_verb_answers_by_command_and_by_plain_text(
    make_tg: BotFactory, fake_api: FakeBotApi, book: TestBot
) -> None:
    """Each verb's first example, as /menu_name and as plain text, gets a valid HTML reply."""
    bot, tg = await make_tg()
    admin = TG["admin"]
    for verb in bot.registry:
        example = verb.examples[0]
        found = bot.registry.match(example)
        assert found is not None and found[0] is verb
        slash = next((n for n, v in bot.verbs.items() if v is verb), verb.name.split()[0])
        for text in (f"/{slash} {found[1]}".strip(), example):
            before = _count(fake_api, admin)
            await tg.say(admin, text)
            reply = await _reply(fake_api, admin, before)
            assert reply.strip(), text


async def test_log_by_text_then_undo_by_button(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """Plain text logs a note; its Undo button (a token) removes it; the query is answered."""
    reply = await _ask(tg, fake_api, ALICE, "log visit Acme: Dana <b>liked</b> the demo & more")
    assert reply.startswith("Logged the visit with Acme Logistics")
    assert "Dana <b>liked</b> the demo & more" in reply
    keyboard = _last_keyboard(fake_api, ALICE)
    assert set(keyboard) == {"Undo", "Open"}
    assert all(len(d.encode()) <= 64 and d.startswith("b:") for d in keyboard.values())
    before = _count(fake_api, ALICE)
    await tg.press(ALICE, keyboard["Undo"])
    assert (await _reply(fake_api, ALICE, before)).startswith("Removed the visit with")
    assert len(fake_api.of("answerCallbackQuery")) == 1
    assert book.query(select(Interaction.deleted_at))[0] is not None


async def test_edit_in_chinese_then_show_the_note(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """修改 corrects a note; its keyboard opens the corrected note."""
    await _ask(tg, fake_api, ALICE, "log visit Acme: Dana liked the demo")
    (note_id,) = book.query(select(Interaction.id))
    reply = await _ask(tg, fake_api, ALICE, f"修改 #{note_id}：Dana <b>loved</b> the demo")
    assert reply.startswith(f"Updated note #{note_id}")
    keyboard = _last_keyboard(fake_api, ALICE)
    assert set(keyboard) == {"Show note", "Open"}
    before = _count(fake_api, ALICE)
    await tg.press(ALICE, keyboard["Show note"])
    assert "Dana <b>loved</b> the demo" in await _reply(fake_api, ALICE, before)
    assert book.query(select(Interaction.text)) == ["Dana <b>loved</b> the demo"]


async def test_expired_forged_and_foreign_buttons(
    tg: Chat, fake_api: FakeBotApi, book: TestBot, clock: FakeClock
) -> None:
    """A forged token, another user's token and an expired one all answer 'expired'."""
    await _ask(tg, fake_api, ALICE, "customer Acme")
    deals_button = _last_keyboard(fake_api, ALICE)["Deals"]
    sent = len(fake_api.sent())
    await tg.press(ALICE, "b:forged-token")
    await tg.press(ALICE, "zz")
    await tg.press(TG["carol"], deals_button, chat_id=None)
    clock.advance(days=8)
    await tg.press(ALICE, deals_button)
    answers = await fake_api.wait_for("answerCallbackQuery", 4)
    assert all(a.params.get("text", "").startswith("This button has expired") for a in answers)
    assert len(fake_api.sent()) == sent


async def test_unlinked_people_get_only_how_to_link(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """A stranger gets the linking instructions (in their language), and nothing runs."""
    reply = await _ask(tg, fake_api, STRANGER, "/customer Acme")
    assert "/link CODE" in reply and "Acme" not in reply
    assert "/link" in await _ask(tg, fake_api, STRANGER, "log visit Acme: hi")
    before = _count(fake_api, STRANGER)
    await tg.say(STRANGER, "你好", language="zh")
    assert "绑定码" in await _reply(fake_api, STRANGER, before)
    await tg.press(STRANGER, "b:whatever")
    (answer,) = await fake_api.wait_for("answerCallbackQuery")
    assert "/link" in answer.params["text"]
    assert book.count(Interaction) == 0


def _code(text: str) -> str:
    m = re.search(r": ([A-Z0-9]{8})\n", text)
    assert m, text
    return m.group(1)


async def test_linking_good_reused_and_expired_codes(
    tg: Chat, fake_api: FakeBotApi, book: TestBot, clock: FakeClock
) -> None:
    """`/link CODE` links once; the same code again, or after 15 minutes, is refused."""
    book.add_user("erin")
    code = _code(book("admin", "link code for erin").text)
    assert "/link" in await _ask(tg, fake_api, STRANGER, "/link")
    assert (await _ask(tg, fake_api, STRANGER, f"/link {code}")).startswith("Linked: you are Erin")
    assert "@erin" in await _ask(tg, fake_api, STRANGER, "/whoami")
    assert "does not work" in await _ask(tg, fake_api, 8888, f"/link {code}")
    late = _code(book("admin", "绑定码 erin").text)
    clock.advance(minutes=16)
    assert "does not work" in await _ask(tg, fake_api, 8888, f"/link {late}")
    assert book.rows(
        select(Identity.platform_user_id).where(Identity.user_id == book.users["erin"])
    ) == [(str(STRANGER),)]


async def test_repeated_wrong_codes_lock_linking(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """Five wrong codes lock the account out; even a good code is then refused."""
    book.add_user("erin")
    for _ in range(5):
        assert "does not work" in await _ask(tg, fake_api, 7777, "/link WRONG123")
    good = _code(book("admin", "link code for erin").text)
    assert "Too many wrong codes" in await _ask(tg, fake_api, 7777, f"/link {good}")
    assert book.count(Identity) == len(TG)


async def test_link_code_verb_is_for_admins(tg: Chat, fake_api: FakeBotApi) -> None:
    """A rep asking for a code is told only admins can; an admin gets the code and usage."""
    assert "Only an admin" in await _ask(tg, fake_api, ALICE, "/link_code for carol")
    reply = await _ask(tg, fake_api, TG["admin"], "/link_code for carol")
    assert "/link " in reply and "Carol" in reply
    assert "link code for" in await _ask(tg, fake_api, TG["admin"], "/link_code")


async def test_groups_answer_linked_commands_and_keep_cards_private(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """In a group: commands only, from linked people; a card goes privately unless `share`."""
    await tg.say(ALICE, "customer Acme", chat_id=GROUP)
    await tg.say(STRANGER, "/customer Acme", chat_id=GROUP)
    await fake_api.quiet()
    assert fake_api.sent() == []
    await tg.say(ALICE, "/customer Acme", chat_id=GROUP)
    note = await _reply(fake_api, GROUP, 0)
    assert "private chat" in note
    card = await _reply(fake_api, ALICE, 0)
    assert card.startswith("Acme Logistics")
    await tg.say(ALICE, "/customer@crm_test_bot Acme share", chat_id=GROUP)
    assert (await _reply(fake_api, GROUP, 1)).startswith("Acme Logistics")
    await tg.say(ALICE, "/customer Nowhere Inc", chat_id=GROUP)
    assert "can't find" in await _reply(fake_api, GROUP, 2)
    await tg.say(ALICE, "/link ABCD2345", chat_id=GROUP)
    assert "private chat" in await _reply(fake_api, GROUP, 3)


async def test_group_answer_when_the_bot_cannot_write_privately(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """If the asker never opened a private chat, the group is told how to."""
    fake_api.fail_next("sendMessage", 403)
    await tg.say(ALICE, "/pipeline", chat_id=GROUP)
    assert "@crm_test_bot" in await _reply(fake_api, GROUP, 0)


async def _step(tg: Chat, api: FakeBotApi, press: str | None = None, say: str | None = None) -> str:
    before = _count(api, ALICE)
    if press is not None:
        keyboard = _last_keyboard(api, ALICE)
        await tg.press(ALICE, keyboard[press])
    else:
        assert say is not None
        await tg.say(ALICE, say)
    return await _reply(api, ALICE, before)


async def test_step_by_step_log_with_follow_up(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """/log: customer button, kind, note, follow-up, confirmation card, saved once."""
    assert book("alice", "log call Acme: earlier").status == "ok"
    assert "Which customer?" in await _ask(tg, fake_api, ALICE, "/log")
    assert "Acme Logistics" in _last_keyboard(fake_api, ALICE)
    assert "what kind" in await _step(tg, fake_api, press="Acme Logistics")
    assert "What happened at the visit" in await _step(tg, fake_api, press="visit")
    assert "Follow up" in await _step(tg, fake_api, say="Dana <i>wants</i> a trial & a quote")
    assert "can't read" in await _step(tg, fake_api, say="flurbsday")
    assert "in the past" in await _step(tg, fake_api, say="2020-01-01")
    card = await _step(tg, fake_api, press="Tomorrow")
    assert card.startswith("Save this note?") and "2026-11-24" in card
    assert "Dana <i>wants</i> a trial & a quote" in card
    done = await _step(tg, fake_api, press="Save")
    assert done.startswith("Logged the visit with Acme Logistics")
    # The follow-up is set by the same submit, and said in the same answer.
    assert "Follow-up reminder set for 2026-11-24" in done
    notes = book.query(select(Interaction.text).order_by(Interaction.id))
    assert notes == ["earlier", "Dana <i>wants</i> a trial & a quote"]
    (due,) = book.query(select(Reminder.due_at))
    assert due.replace(tzinfo=UTC) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert len(fake_api.of("editMessageText")) >= 4
    # The card's Save again: the conversation is over, so the button has expired.
    saved = [c for c in fake_api.of("sendMessage") if "Save" in buttons(c)][-1]
    await tg.press(ALICE, buttons(saved)["Save"])
    answers = await fake_api.wait_for("answerCallbackQuery", 5)
    assert answers[-1].params.get("text", "").startswith("This button has expired")
    assert book.count(Interaction) == 2


async def test_log_search_by_typing_and_kind_by_typing(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """At the customer step a typed name searches; a typed kind works; no follow-up."""
    await _ask(tg, fake_api, ALICE, "/log")
    assert "No customer of yours matches" in await _step(tg, fake_api, say="West Corp")
    assert "what kind" in await _step(tg, fake_api, say="acme")
    assert "Tap one of the kinds" in await _step(tg, fake_api, say="lunch")
    assert "What happened at the call" in await _step(tg, fake_api, say="电话")
    await _step(tg, fake_api, say="short call")
    assert "Save this note?" in await _step(tg, fake_api, press="No follow-up")
    assert "Tap Save or Cancel" in await _step(tg, fake_api, say="what now")
    assert "Logged the call" in await _step(tg, fake_api, press="Save")
    assert book.count(Reminder) == 0


async def test_cancel_at_any_step(tg: Chat, fake_api: FakeBotApi, book: TestBot) -> None:
    """/cancel and the Cancel button end the conversation; nothing is saved."""
    await _ask(tg, fake_api, ALICE, "/log")
    prompt_buttons = _last_keyboard(fake_api, ALICE)
    await _step(tg, fake_api, press="Acme Logistics")
    assert "Cancelled" in await _step(tg, fake_api, say="/cancel")
    assert "nothing to cancel" in await _ask(tg, fake_api, ALICE, "/cancel")
    await tg.press(ALICE, prompt_buttons["Acme Logistics"])
    answer = (await fake_api.wait_for("answerCallbackQuery", 2))[-1]
    assert answer.params["text"].startswith("This button has expired")
    await _ask(tg, fake_api, ALICE, "/log")
    await _step(tg, fake_api, press="Acme Logistics")
    await _step(tg, fake_api, press="note")
    await _step(tg, fake_api, say="draft")
    await _step(tg, fake_api, press="No follow-up")
    assert "Cancelled" in await _step(tg, fake_api, press="Cancel")
    assert book.count(Interaction) == 0


async def test_conversation_times_out_politely(
    make_tg: BotFactory, fake_api: FakeBotApi, book: TestBot
) -> None:
    """A conversation left alone ends with a message saying nothing was saved."""
    _, tg = await make_tg(conversation_timeout=0.5)
    await _ask(tg, fake_api, ALICE, "/log")
    reply = await _reply(fake_api, ALICE, 1)
    assert "stopped waiting" in reply and "Nothing was saved" in reply
    assert "Logged" in await _ask(tg, fake_api, ALICE, "log Acme: after the timeout")


async def test_location_logs_a_visit_with_coordinates(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """A shared location offers a visit, asks the customer and stores the coordinates."""
    await tg.location(ALICE, 42.3601, -71.0589)
    assert "Log a visit here?" in await _reply(fake_api, ALICE, 0)
    assert "Which customer?" in await _step(tg, fake_api, press="Log a visit here")
    assert "What happened at the visit" in await _step(tg, fake_api, press="Acme Logistics")
    await _step(tg, fake_api, say="Checked the loading dock")
    card = await _step(tg, fake_api, press="No follow-up")
    assert "42.36010, -71.05890" in card
    assert "Logged the visit" in await _step(tg, fake_api, press="Save")
    rows = book.rows(select(Interaction.kind, Interaction.latitude, Interaction.longitude))
    assert [(k.value, lat, lon) for k, lat, lon in rows] == [("visit", 42.3601, -71.0589)]


async def test_stickers_get_a_hint(tg: Chat, fake_api: FakeBotApi, book: TestBot) -> None:
    """Something the bot cannot read gets a reply that says what works; in a step too."""
    await tg.sticker(ALICE)
    assert "Type a command" in await _reply(fake_api, ALICE, 0)
    await _ask(tg, fake_api, ALICE, "/log")
    await _step(tg, fake_api, press="Acme Logistics")
    await _step(tg, fake_api, press="call")
    before = _count(fake_api, ALICE)
    await tg.sticker(ALICE)
    assert "answer with text" in await _reply(fake_api, ALICE, before)


async def test_429_is_retried_after_retry_after(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """A 429 with retry_after is honoured by the rate limiter, then the reply goes out."""
    fake_api.fail_next("sendMessage", 429, retry_after=1)
    await tg.say(ALICE, "/whoami")
    first, second = await fake_api.wait_for("sendMessage", 2)
    assert second.at - first.at >= 1.0
    assert "@alice" in parse_html(second.params["text"])[0]


async def test_a_failing_handler_apologises_with_a_reference_and_keeps_serving(
    make_tg: BotFactory,
    fake_api: FakeBotApi,
    book: TestBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception in a handler is logged with a traceback; the user gets a reference."""
    bot, tg = await make_tg()
    real = bot.core.run

    def broken(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.core, "run", broken)
    reply = await _ask(tg, fake_api, ALICE, "log visit Acme: secret note text")
    ref = re.search(r"reference: ([0-9a-f]{8})", reply)
    assert ref, reply
    failed = [r for r in caplog.records if ref.group(1) in r.getMessage()]
    assert failed and failed[0].exc_info is not None
    assert "secret note text" not in caplog.text and "TEST-token" not in caplog.text
    monkeypatch.setattr(bot.core, "run", real)
    assert "@alice" in await _ask(tg, fake_api, ALICE, "/whoami")


async def test_replies_longer_than_a_message_are_split(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """A card with many contacts is split: every piece valid HTML within 4,096 characters."""
    lines = [
        {"type": "customer", "external_id": "big", "name": "Big <Co> & Sons", "owner": "alice"}
    ]
    lines += [
        {
            "type": "contact",
            "external_id": f"p{i}",
            "customer": "big",
            "name": f"Person <{i}> & {'x' * 80}",
        }
        for i in range(80)
    ]
    with unit_of_work(book.session_factory) as session:
        import_jsonl(session, (json.dumps(r) for r in lines), stages=DEFAULT_STAGES)
    before = _count(fake_api, ALICE)
    await tg.say(ALICE, "/customer Big")
    await fake_api.wait_for("sendMessage", before + 2, chat_id=ALICE)
    await fake_api.quiet()
    pieces = texts(fake_api, ALICE)[before:]
    assert all(len(p) <= 4096 for p in pieces)
    assert pieces[0].startswith("<b>Big &lt;Co&gt; &amp; Sons</b>")
    joined = "\n".join(parse_html(p)[0] for p in pieces)
    assert all(f"Person <{i}> & " in joined for i in range(80))
    assert buttons(fake_api.sent(ALICE)[-1]) and not buttons(fake_api.sent(ALICE)[before])


async def test_ask_cites_notes_and_opens_one_by_button(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """`ask` answers with a quote and [1]; its button shows the whole note."""
    await _ask(tg, fake_api, ALICE, "log call Acme: Dana wants 12% off the renewal")
    reply = await _ask(tg, fake_api, ALICE, "问 Acme：Dana 想要什么折扣？")
    assert "12% off" in reply and "[1]" in reply
    keyboard = _last_keyboard(fake_api, ALICE)
    before = _count(fake_api, ALICE)
    await tg.press(ALICE, keyboard["Show note [1]"])
    assert "Dana wants 12% off the renewal" in await _reply(fake_api, ALICE, before)


async def test_ticket_as_a_reply_to_a_customers_group_message(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """`/ticket Acme` replying to a message: that message's text and link make one ticket."""
    said = tg.message(STRANGER, "Our label printer jams on every label", chat_id=GROUP)
    await tg._deliver(said)
    await fake_api.quiet()
    assert fake_api.sent() == []  # a non-staff message is not a command
    for n in range(2):
        before = _count(fake_api, ALICE)
        command = tg.message(ALICE, "/ticket Acme, priority high", chat_id=GROUP)
        command["message"]["reply_to_message"] = said["message"]
        await tg._deliver(command)
        answer = await _reply(fake_api, ALICE, before)
        expected = "Opened ticket #1 for Acme Logistics (high)." if n == 0 else "already ticket #1"
        assert expected in answer
    rows = book.rows(
        select(
            Ticket.subject,
            Ticket.priority,
            Ticket.source_key,
            Ticket.source_link,
            Ticket.source_text,
        )
    )
    message_id = said["message"]["message_id"]
    assert rows == [
        (
            "Our label printer jams on every label",
            TicketPriority.high,
            f"telegram:{GROUP}:{message_id}",
            f"https://t.me/c/500/{message_id}",
            "Our label printer jams on every label",
        )
    ]
    # Without a customer the reply says how to name one.
    await fake_api.quiet()  # the group notes of the commands above have gone out
    before = _count(fake_api, GROUP)
    bare = tg.message(ALICE, "/ticket", chat_id=GROUP)
    bare["message"]["reply_to_message"] = said["message"]
    await tg._deliver(bare)
    assert "Reply to the customer's message with /ticket Acme" in await _reply(
        fake_api, GROUP, before
    )
    assert book.count(Ticket) == 1
