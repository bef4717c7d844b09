"""Several workers with Telegram long polling: exactly one polls; another takes over after it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.bootstrap import App
from bot.serve import make_runtime
from bot.telegram.component import TelegramComponent
from tests.bot.telegram.conftest import TG, Chat
from tests.bot.telegram.fake_api import FakeBotApi


def _polling(component: TelegramComponent) -> bool:
    updater = component.bot.application.updater
    return updater is not None and updater.running


def _push(api: FakeBotApi) -> Callable[[dict[str, Any]], Awaitable[int]]:
    async def push(update: dict[str, Any]) -> int:
        return api.push(update)

    return push


async def _until(check: object, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_one_worker_polls_and_another_takes_over(tg_app: App, fake_api: FakeBotApi) -> None:
    """Two workers' Telegram components: one polls (no 409 Conflict from two pollers), each
    update is answered once, and when the poller stops the other worker starts polling."""
    tg_app.settings.leader_retry_seconds = 0.05
    workers = [TelegramComponent(make_runtime(tg_app)) for _ in range(2)]
    for w in workers:
        w.bot.poll_timeout = 1
        await w.start()
    try:
        await _until(lambda: any(_polling(w) for w in workers))
        await _until(lambda: fake_api.polls >= 3)
        # Many election rounds later, still one poller.
        await asyncio.sleep(0.5)
        assert [_polling(w) for w in workers].count(True) == 1
        assert fake_api.conflicts == 0

        chat = Chat(fake_api, _push(fake_api))
        await chat.say(TG["alice"], "/help")
        await fake_api.wait_for("sendMessage", 1, chat_id=TG["alice"])
        await asyncio.sleep(0.3)
        # Help may take more than one message; the same command later takes as many again.
        per_help = len(fake_api.sent(TG["alice"]))
        leader = next(w for w in workers if _polling(w))
        standby = next(w for w in workers if w is not leader)
        await leader.stop()
        workers.remove(leader)
        await _until(lambda: _polling(standby))
        await chat.say(TG["alice"], "/help")
        await fake_api.wait_for("sendMessage", 2 * per_help, chat_id=TG["alice"])
        await asyncio.sleep(0.3)
        assert len(fake_api.sent(TG["alice"])) == 2 * per_help, "each update answered once"
    finally:
        for w in workers:
            await w.stop()
