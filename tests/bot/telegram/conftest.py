"""Fixtures: the fake Bot API server, linked Telegram accounts, and the real bot polling it."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from itertools import count
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.bootstrap import App
from bot.runtime import Runtime
from bot.serve import run_until
from bot.telegram.app import TelegramBot
from bot.telegram.transport import FloodLimiter, make_bot, webhook_secret
from crm_core.db import unit_of_work
from crm_core.models import User
from crm_core.services.identities import link_identity
from tests.bot.telegram.fake_api import FakeBotApi
from tests.conftest import TestBot, freeze_test_heap

TOKEN = "123456:TEST-token"
# Telegram user ids of the testbot staff; STRANGER is linked to nobody.
TG = {"alice": 1001, "carol": 1002, "bob": 1003, "dave": 1004, "admin": 1005}
STRANGER = 9999
HOOK = "https://crm.example.com/tg/hook"
GROUP = -100500
# Telegram's GroupAnonymousBot: the `from` of an anonymous group admin's messages.
ANONYMOUS_ADMIN = 1087968824
# What Telegram marks as a bot_command entity at the start of a message.
BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """A fake Bot API server on 127.0.0.1."""
    api = FakeBotApi(TOKEN)
    await api.start()
    yield api
    await api.stop()


def link_all(testbot: TestBot) -> None:
    """Link every testbot user to their Telegram id."""
    with unit_of_work(testbot.session_factory) as session:
        for handle, tg_id in TG.items():
            user = session.get(User, testbot.users[handle])
            assert user is not None
            link_identity(session, "telegram", str(tg_id), user)


@pytest.fixture
def tg_app(crm_app: App, fake_api: FakeBotApi, testbot: TestBot) -> App:
    """The App configured for the fake server, with the staff linked."""
    crm_app.settings.telegram_bot_token = SecretStr(TOKEN)
    crm_app.settings.telegram_api_url = fake_api.url
    link_all(testbot)
    return crm_app


class Chat:
    """Builds Telegram updates and hands them to the bot (by polling or by webhook)."""

    def __init__(self, api: FakeBotApi, deliver: Callable[[dict[str, Any]], Awaitable[int]]):
        self.api = api
        self._deliver = deliver
        self._ids = count(5000)

    def _user(self, user_id: int, language: str = "en") -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"U{user_id}",
            "language_code": language,
        }

    def _chat(self, user_id: int, chat_id: int | None) -> dict[str, Any]:
        if chat_id is None or chat_id > 0:
            return {"id": chat_id or user_id, "type": "private", "first_name": f"U{user_id}"}
        chat = {"id": chat_id, "type": "supergroup", "title": "Field team"}
        if chat_id in self.api.forums:
            chat["is_forum"] = True
        return chat

    def message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        language: str = "en",
        thread: int | None = None,
    ) -> dict[str, Any]:
        """A text message update (a leading /command gets its bot_command entity).

        `thread`: the forum topic it was written in.
        """
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self._chat(user_id, chat_id),
            "from": self._user(user_id, language),
            "text": text,
        }
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        command = BOT_COMMAND.match(text)
        if command:
            # Like Telegram: only a Latin /command gets an entity; `/客户` gets none.
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        return {"message": message}

    async def say(self, user_id: int, text: str, **kwargs: Any) -> int:
        """Send a text message as `user_id`; returns the update id."""
        return await self._deliver(self.message(user_id, text, **kwargs))

    async def location(self, user_id: int, lat: float, lon: float) -> int:
        """Share a location in the private chat."""
        update = self.message(user_id, "")
        del update["message"]["text"]
        update["message"]["location"] = {"latitude": lat, "longitude": lon}
        return await self._deliver(update)

    async def sticker(self, user_id: int) -> int:
        """Send a sticker (something the bot cannot read)."""
        update = self.message(user_id, "")
        del update["message"]["text"]
        update["message"]["sticker"] = {
            "file_id": "s1",
            "file_unique_id": "s1u",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._deliver(update)

    def edited(self, update: dict[str, Any], text: str, *, at: int) -> dict[str, Any]:
        """The same message edited to `text` at unix time `at` (Telegram's edited_message)."""
        message = {k: v for k, v in update["message"].items() if k != "entities"}
        message["text"] = text
        message["edit_date"] = at
        command = BOT_COMMAND.match(text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        return {"edited_message": message}

    def anonymous(self, text: str, *, chat_id: int) -> dict[str, Any]:
        """A group message from an anonymous admin: sender_chat is the group itself."""
        update = self.message(ANONYMOUS_ADMIN, text, chat_id=chat_id)
        update["message"]["from"] = {
            "id": ANONYMOUS_ADMIN,
            "is_bot": True,
            "first_name": "Group",
            "username": "GroupAnonymousBot",
        }
        update["message"]["sender_chat"] = update["message"]["chat"]
        return update

    def media(
        self, user_id: int, kind: str, caption: str | None, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """A photo, document or voice message (as Telegram sends them), with a caption."""
        update = self.message(user_id, caption or "", chat_id=chat_id)
        message = update["message"]
        del message["text"]
        entities = message.pop("entities", None)
        if caption is not None:
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
        n = message["message_id"]
        if kind == "photo":
            message["photo"] = [
                {"file_id": f"ph{n}-s", "file_unique_id": f"u{n}s", "width": 90, "height": 60},
                {"file_id": f"ph{n}-l", "file_unique_id": f"u{n}l", "width": 1280, "height": 853},
            ]
        elif kind == "document":
            message["document"] = {
                "file_id": f"doc{n}",
                "file_unique_id": f"u{n}",
                "file_name": "contract v2.pdf",
                "mime_type": "application/pdf",
                "file_size": 48213,
            }
        else:
            message["voice"] = {
                "file_id": f"voice{n}",
                "file_unique_id": f"u{n}",
                "duration": 7,
                "mime_type": "audio/ogg",
                "file_size": 11200,
            }
        return update

    async def press(
        self,
        user_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        message_id: int = 1,
        thread: int | None = None,
    ) -> int:
        """Press an inline button carrying `data` (on a message in forum topic `thread`)."""
        chat = self._chat(user_id, chat_id)
        update: dict[str, Any] = {
            "callback_query": {
                "id": f"cq{next(self._ids)}",
                "from": self._user(user_id),
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": chat,
                    "from": {"id": 777, "is_bot": True, "first_name": "CRM"},
                    "text": "prompt",
                },
            }
        }
        if thread is not None:
            update["callback_query"]["message"]["message_thread_id"] = thread
            update["callback_query"]["message"]["is_topic_message"] = True
        return await self._deliver(update)

    async def raw(self, update: dict[str, Any]) -> int:
        """Deliver a prepared update (for repeats)."""
        return await self._deliver(update)


def buttons(call: Any) -> dict[str, str]:
    """The inline keyboard of a recorded send: label -> callback data."""
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


def texts(api: FakeBotApi, chat_id: int) -> list[str]:
    """HTML texts sent to a chat, in order."""
    return [str(c.params.get("text", "")) for c in api.sent(chat_id)]


BotFactory = Callable[..., Awaitable[tuple[TelegramBot, Chat]]]


@pytest.fixture
async def make_tg(tg_app: App, fake_api: FakeBotApi) -> AsyncIterator[BotFactory]:
    """Start the real Application polling the fake server (options passed to TelegramBot)."""
    started: list[TelegramBot] = []

    async def factory(**options: Any) -> tuple[TelegramBot, Chat]:
        options.setdefault("poll_timeout", 1)
        # The ~1/s pacing per chat is tested on its own; here it would only slow every step.
        limiter = FloodLimiter(chat_burst=0)
        bot = TelegramBot(tg_app, make_bot(tg_app.settings, limiter=limiter), **options)
        await bot.start()
        started.append(bot)

        async def push(update: dict[str, Any]) -> int:
            if "update_id" in update:
                return fake_api.push(
                    {k: v for k, v in update.items() if k != "update_id"}, update["update_id"]
                )
            return fake_api.push(update)

        return bot, Chat(fake_api, push)

    yield factory
    for bot in started:
        await bot.stop()


@pytest.fixture
async def tg(make_tg: BotFactory) -> Chat:
    """The bot polling the fake server; returns the chat driver."""
    _, chat = await make_tg()
    return chat


@pytest.fixture
async def served(tg_app: App, fake_api: FakeBotApi) -> AsyncIterator[tuple[str, str]]:
    """`serve --only telegram` in webhook mode; yields the local webhook URL and the secret."""
    tg_app.settings.telegram_webhook_url = HOOK
    freeze_test_heap()
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_until(tg_app, ("telegram",), stop, on_ready=ready.set_result))
    runtime = await asyncio.wait_for(ready, 10)
    yield f"http://127.0.0.1:{runtime.port}/tg/hook", webhook_secret(tg_app.settings)
    stop.set()
    await asyncio.wait_for(task, 10)


async def post_update(url: str, update: dict[str, object], secret: str | None) -> int:
    """POST one update to the webhook as Telegram does; the HTTP status."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as r:
        return r.status
