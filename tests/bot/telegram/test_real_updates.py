"""Updates as Telegram really sends them (issue 13): Chinese /commands, forum topics, captions,
edited messages, anonymous admins, and updates the library cannot read."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import Interaction, InteractionKind
from tests.bot.telegram.conftest import (
    GROUP,
    STRANGER,
    TG,
    BotFactory,
    Chat,
    buttons,
    post_update,
)
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
    sent_before_help = len(fake_api.sent(ALICE))
    help_list = await _ask(tg, fake_api, "/帮助")
    assert help_list.startswith("What I can do") and "customer (客户)" in help_list
    # The list runs past one Telegram message: let its last part arrive before the next ask.
    await fake_api.quiet()
    parts = [str(c.params.get("text", "")) for c in fake_api.sent(ALICE)[sent_before_help:]]
    assert len(parts) > 1 and any("pipeline (" in p for p in parts), parts
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


FORUM = -100900
TOPIC = 42


def _thread(call: object) -> object:
    return getattr(call, "params", {}).get("message_thread_id")


async def test_forum_topics_get_every_group_send_in_their_topic(
    make_tg: BotFactory,
    fake_api: FakeBotApi,
    book: TestBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The private-answer notice, a shared card, an error, a button's answer and an apology all
    go to the topic the command came from (General is closed, as in many forums)."""
    fake_api.forums.add(FORUM)
    fake_api.closed_general.add(FORUM)
    bot, tg = await make_tg()
    await tg.say(ALICE, "/customer Acme", chat_id=FORUM, thread=TOPIC)
    (notice,) = await fake_api.wait_for("sendMessage", chat_id=FORUM)
    assert "private chat" in parse_html(notice.params["text"])[0] and _thread(notice) == TOPIC
    (card,) = await fake_api.wait_for("sendMessage", chat_id=ALICE)
    assert _thread(card) is None
    await tg.say(ALICE, "/customer Acme share", chat_id=FORUM, thread=TOPIC)
    await tg.say(ALICE, "/customer Nowhere Inc", chat_id=FORUM, thread=TOPIC)
    await tg.say(ALICE, "/cancel", chat_id=FORUM, thread=TOPIC)
    sent = await fake_api.wait_for("sendMessage", 4, chat_id=FORUM)
    assert parse_html(sent[1].params["text"])[0].startswith("Acme Logistics")
    assert "can't find" in parse_html(sent[2].params["text"])[0]
    assert [_thread(c) for c in sent] == [TOPIC] * 4
    # A button of the shared card, pressed in the topic: the notice goes back there.
    await tg.press(ALICE, buttons(sent[1])["Deals"], chat_id=FORUM, thread=TOPIC)
    fifth = (await fake_api.wait_for("sendMessage", 5, chat_id=FORUM))[4]
    assert "private chat" in parse_html(fifth.params["text"])[0] and _thread(fifth) == TOPIC

    def broken(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.core, "run", broken)
    await tg.say(ALICE, "/pipeline", chat_id=FORUM, thread=TOPIC)
    apology = (await fake_api.wait_for("sendMessage", 6, chat_id=FORUM))[5]
    assert "reference" in apology.params["text"] and _thread(apology) == TOPIC


async def test_a_reply_thread_in_an_ordinary_group_is_not_a_topic(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """A reply in a non-forum group carries message_thread_id too; answers go to the chat."""
    update = tg.message(ALICE, "/customer Nowhere Inc", chat_id=GROUP)
    update["message"]["message_thread_id"] = 7  # a reply thread, not a topic
    await tg.raw(update)
    (error,) = await fake_api.wait_for("sendMessage", chat_id=GROUP)
    assert "can't find" in parse_html(error.params["text"])[0] and _thread(error) is None


async def test_captions_are_commands_and_the_file_stays_on_the_note(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """A captioned photo, document or voice note runs its caption; the note keeps the file."""
    await tg.raw(tg.media(ALICE, "photo", "log visit Acme: met Michael at the dock"))
    logged = await _after(fake_api, ALICE, 0)
    assert logged.startswith("Logged the visit with Acme Logistics"), logged
    assert "with a photo (kept on Telegram)" in logged
    await tg.raw(tg.media(ALICE, "document", "/log call Acme: contract sent"))
    assert "document contract v2.pdf" in await _after(fake_api, ALICE, 1)
    await tg.raw(tg.media(ALICE, "voice", "记录 电话 华东物流：客户关心价格"))
    assert "voice note" in await _after(fake_api, ALICE, 2)
    notes = book.rows(select(Interaction.id, Interaction.kind, Interaction.text, Interaction.link))
    assert [(kind, text) for _, kind, text, _ in notes] == [
        (InteractionKind.visit, "met Michael at the dock"),
        (InteractionKind.call, "contract sent"),
        (InteractionKind.call, "客户关心价格"),
    ]
    links = [link for *_, link in notes]
    assert links[0].startswith("telegram-file:photo/ph") and links[0].endswith("-l")
    assert links[1].startswith("telegram-file:document/doc") and "contract%20v2.pdf" in links[1]
    assert links[2].startswith("telegram-file:voice/voice")
    shown = await _ask(tg, fake_api, f"note #{notes[1][0]}")
    assert "Attached: document contract v2.pdf (kept on Telegram)" in shown
    # Media without a caption still answer what works; nothing is saved.
    await tg.raw(tg.media(ALICE, "photo", None))
    assert "I can't use that here" in await _after(fake_api, ALICE, 4)
    assert book.count(Interaction) == 3


async def test_a_captioned_command_in_a_group(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """In a group a caption that is our command runs; any other caption is chatter."""
    await tg.raw(tg.media(ALICE, "photo", "look at this dock", chat_id=GROUP))
    await tg.raw(tg.media(ALICE, "photo", "/log@other_bot visit Acme: x", chat_id=GROUP))
    await fake_api.quiet()
    assert fake_api.sent() == []
    await tg.raw(tg.media(ALICE, "photo", "/log visit Acme: dock photo", chat_id=GROUP))
    assert "private chat" in await _after(fake_api, GROUP, 0)
    assert "with a photo" in await _after(fake_api, ALICE, 0)
    assert book.count(Interaction) == 1


async def test_an_edited_command_runs_once_and_never_writes_twice(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """Decision: an edit runs only if the original changed nothing (it failed, was unknown, or
    only read); an edit of a command that wrote is answered with why, and writes nothing."""
    typo = tg.message(ALICE, "log visit Nowhere: dock tour")
    await tg.raw(typo)
    assert "can't find" in await _after(fake_api, ALICE, 0)
    assert "edited_message" in fake_api.last_poll["allowed_updates"]
    fixed = tg.edited(typo, "log visit Acme: dock tour", at=1_900_000_000)
    await tg.raw(fixed)
    assert (await _after(fake_api, ALICE, 1)).startswith("Logged the visit with Acme")
    # The same edit delivered again (even under another update id) runs nothing.
    await tg.raw(dict(fixed))
    await tg.raw({"update_id": 77_001, **fixed})
    await fake_api.quiet()
    assert len(fake_api.sent(ALICE)) == 2
    again = tg.edited(typo, "log visit Acme: dock tour, 2 trucks", at=1_900_000_060)
    await tg.raw(again)
    assert "did not run it again" in await _after(fake_api, ALICE, 2)
    assert book.query(select(Interaction.text)) == ["dock tour"]
    # An edited read runs; a live location moving (an edit without text) is not a command.
    read = tg.message(ALICE, "/customer Nowhere")
    await tg.raw(read)
    assert "can't find" in await _after(fake_api, ALICE, 3)
    await tg.raw(tg.edited(read, "/customer Acme", at=1_900_000_100))
    assert (await _after(fake_api, ALICE, 4)).startswith("Acme Logistics")
    moving = tg.message(ALICE, "")
    del moving["message"]["text"]
    moving["message"]["location"] = {"latitude": 42.36, "longitude": -71.05, "live_period": 900}
    moving["message"]["edit_date"] = 1_900_000_200
    await tg.raw({"edited_message": moving["message"]})
    await fake_api.quiet()
    assert len(fake_api.sent(ALICE)) == 5 and book.count(Interaction) == 1


async def test_an_edited_group_command_runs_in_its_topic(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """In a group an edited command for us runs (answered privately); chatter edits do not."""
    first = tg.message(ALICE, "/customer Nowhere", chat_id=GROUP)
    await tg.raw(first)
    assert "can't find" in await _after(fake_api, GROUP, 0)
    await tg.raw(tg.edited(first, "/customer Acme", at=1_900_000_000))
    assert "private chat" in await _after(fake_api, GROUP, 1)
    assert (await _after(fake_api, ALICE, 0)).startswith("Acme Logistics")
    await tg.raw(tg.edited(first, "never mind", at=1_900_000_100))
    await fake_api.quiet()
    assert len(fake_api.sent()) == 3


async def test_anonymous_admins_and_unlinked_link_in_a_group_are_answered(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """Instead of silence: how to stop being anonymous; where to send /link (once each)."""
    anonymous = {"update_id": 88_001, **tg.anonymous("/customer Acme", chat_id=GROUP)}
    await tg.raw(anonymous)
    await tg.raw(anonymous)  # Telegram retrying the same update
    assert "anonymous" in await _after(fake_api, GROUP, 0)
    await tg.say(STRANGER, "/link@other_bot ABCD2345", chat_id=GROUP)
    await tg.say(STRANGER, "/customer Acme", chat_id=GROUP)
    await tg.say(STRANGER, "/link ABCD2345", chat_id=GROUP)
    told = await _after(fake_api, GROUP, 1)
    assert "private chat" in told and "@crm_test_bot" in told
    await fake_api.quiet()
    assert len(fake_api.sent()) == 2 and "Acme" not in told


def _unreadable(update_id: int) -> dict[str, object]:
    """What an older Bot API server sent: a chat without its type (PTB cannot parse it)."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 31,
            "date": 1_900_000_000,
            "chat": {"id": ALICE, "first_name": "Alice"},
            "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
            "text": "log visit Acme: secret customer words",
        },
    }


def _skips(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()]


async def test_polling_skips_an_unreadable_update_once_and_goes_on(
    tg: Chat, fake_api: FakeBotApi, book: TestBot, caplog: pytest.LogCaptureFixture
) -> None:
    """The offset moves past it, it is logged once without its text, the next one is answered."""
    bad = fake_api.push({k: v for k, v in _unreadable(0).items() if k != "update_id"})
    await tg.say(ALICE, "/whoami")
    assert "@alice" in await _after(fake_api, ALICE, 0)
    await fake_api.quiet(1.0)  # several polls: the bad update must not come back
    assert all(u["update_id"] != bad for u in fake_api.updates)
    assert fake_api.last_poll["offset"] > bad
    (skip,) = _skips(caplog)
    assert str(bad) in skip and "message(" in skip
    assert "secret customer words" not in caplog.text
    assert "Error while parsing updates" not in caplog.text
    assert book.count(Interaction) == 0


async def test_webhook_acknowledges_an_unreadable_update(
    served: tuple[str, str],
    fake_api: FakeBotApi,
    book: TestBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """200 (so Telegram does not send it again), logged once without its text; serving goes on."""
    url, secret = served
    assert await post_update(url, _unreadable(9_001), secret) == 200
    (skip,) = _skips(caplog)
    assert "9001" in skip and "secret customer words" not in caplog.text
    good = {"update_id": 9_002, **tg_message(fake_api, "/whoami")}
    assert await post_update(url, good, secret) == 200
    (reply,) = await fake_api.wait_for("sendMessage", chat_id=ALICE)
    assert "@alice" in reply.params["text"]


def tg_message(api: FakeBotApi, text: str) -> dict[str, object]:
    """A message from alice, built like the polling tests' (for a webhook post)."""

    async def nowhere(update: dict[str, object]) -> int:
        return 0

    return Chat(api, nowhere).message(ALICE, text)


async def test_edits_during_the_steps_and_of_link_say_what_to_do(
    tg: Chat, fake_api: FakeBotApi, book: TestBot
) -> None:
    """An edit during /log does not run as a command; an edited /link asks to send it again."""
    await tg.say(ALICE, "/log")
    assert "Which customer?" in await _after(fake_api, ALICE, 0)
    typed = tg.message(ALICE, "Acme")
    await tg.raw(typed)
    assert "what kind" in await _after(fake_api, ALICE, 1)
    await tg.raw(tg.edited(typed, "Acme Logistics", at=1_900_000_000))
    assert "step by step" in await _after(fake_api, ALICE, 2)
    link = tg.message(ALICE, "/link WRONG123")
    await tg.raw(tg.edited(link, "/link RIGHT234", at=1_900_000_000))
    assert "new message" in await _after(fake_api, ALICE, 3)
    assert book.count(Interaction) == 0
