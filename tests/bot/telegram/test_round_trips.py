"""Database connections a Telegram command takes: one, for the sender's look-up and the rest."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.bot.telegram.conftest import TG, Chat
from tests.bot.telegram.fake_api import FakeBotApi, parse_html
from tests.conftest import TestBot
from tests.handlers.test_round_trips import counting

ALICE = TG["alice"]


async def test_a_command_runs_renders_and_remembers_its_write_on_one_connection(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot, engine: Engine
) -> None:
    """The sender's look-up (the gate, before any handler), dispatch, its buttons' tokens and
    the marker of a written message share one checkout, as a Slack command's do."""
    assert testbot("alice", "new customer Acme Logistics").status == "ok"
    for text, expect in (
        ("log visit Acme: liked the demo", "Logged the visit"),  # Undo/Open tokens, the marker
        ("/customer Acme", "Acme Logistics"),  # the card's buttons
    ):
        before = len(fake_api.of("sendMessage"))
        with counting(engine) as seen:
            await tg.say(ALICE, text)
            calls = await fake_api.wait_for("sendMessage", before + 1, chat_id=ALICE)
        assert expect in parse_html(str(calls[-1].params["text"]))[0]
        assert seen["checkouts"] == 1, (text, seen)
