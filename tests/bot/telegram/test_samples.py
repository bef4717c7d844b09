"""Real-shaped Telegram updates (tests/fixtures/payloads/telegram, adapted from teloxide's,
aiogram's and python-telegram-bot's own tests) posted to the real `crmbot serve` webhook."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from tests.bot.telegram.conftest import post_update
from tests.bot.telegram.fake_api import Call, FakeBotApi, parse_html
from tests.conftest import TestBot

SAMPLES = sorted((Path(__file__).parents[2] / "fixtures/payloads/telegram").glob("*.json"))
FORUM = -100900
SENDS = ("sendMessage", "sendPhoto")


@pytest.fixture
def book(testbot: TestBot) -> TestBot:
    """The customers the samples name: Acme Logistics and 华东物流 (alice's)."""
    assert testbot("alice", "new customer Acme Logistics").status == "ok"
    assert testbot("alice", "新客户 华东物流").status == "ok"
    return testbot


async def _settle(api: FakeBotApi, before: int, expect: dict[str, Any]) -> list[Call]:
    """Wait for the expected sends and callback answer, then a little more; the new calls."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        new = api.calls[before:]
        chats = {c.params.get("chat_id") for c in new if c.method in SENDS}
        answered = any(c.method == "answerCallbackQuery" for c in new)
        # A long answer (help) comes in parts paced ~1/s a chat: wait for its last part, or
        # it would be taken for the next sample's answer.
        texts = [str(c.params.get("text", "")) for c in new if c.method in SENDS]
        whole = "until" not in expect or any(expect["until"] in t for t in texts)
        if (
            set(expect.get("sent_to", [])) <= chats
            and answered >= expect.get("callback", False)
            and whole
        ):
            break
        await asyncio.sleep(0.05)
    # A reply longer than one Telegram message (the help list) goes out in parts, the later
    # ones after the first is seen: such a sample ("long") waits longer, so no part is counted
    # as the next sample's answer.
    await api.quiet(1.5 if expect.get("long") else 0.3)
    return api.calls[before:]


def test_there_are_enough_samples_of_every_kind() -> None:
    """At least 25, each with its source, what it should get, and an update."""
    assert len(SAMPLES) >= 25
    kinds = set()
    for path in SAMPLES:
        sample = json.loads(path.read_text())
        assert sample["source"] and isinstance(sample["expect"], dict), path.name
        kinds |= set(sample["update"]) - {"update_id"}
    assert {"message", "edited_message", "callback_query", "my_chat_member"} <= kinds
    assert {"message_reaction", "poll", "poll_answer", "chat_join_request"} <= kinds


async def test_every_sample_is_acknowledged_and_answered_as_it_should_be(
    served: tuple[str, str],
    fake_api: FakeBotApi,
    book: TestBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each gets 200; none crashes (no error logged, no apology); those that should be are
    answered, in the right chat and topic, and nothing else is sent."""
    fake_api.forums.add(FORUM)
    url, secret = served
    caplog.set_level(logging.WARNING)
    for path in SAMPLES:
        sample = json.loads(path.read_text())
        expect = sample["expect"]
        before = len(fake_api.calls)
        assert await post_update(url, sample["update"], secret) == 200, path.name
        new = await _settle(fake_api, before, expect)
        sends = [c for c in new if c.method in SENDS]
        assert {c.params.get("chat_id") for c in sends} == set(expect["sent_to"]), path.name
        if expect.get("callback"):
            assert any(c.method == "answerCallbackQuery" for c in new), path.name
        texts = [parse_html(str(c.params.get("text", "")))[0] for c in sends]
        assert not any("something went wrong" in text for text in texts), (path.name, texts)
        if "contains" in expect:
            assert any(expect["contains"] in text for text in texts), (path.name, texts)
        if "thread" in expect:
            group = [c for c in sends if int(c.params["chat_id"]) < 0]
            assert [c.params.get("message_thread_id") for c in group] == [expect["thread"]] * len(
                group
            ), path.name
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    # Only the unreadable samples are skipped, each logged once, their text never.
    unreadable = [p for p in SAMPLES if json.loads(p.read_text())["expect"].get("unreadable")]
    skipped = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(skipped) == len(unreadable) == 2
    assert "never logged" not in caplog.text and "Visit Acme on Friday" not in caplog.text
