"""Telegram under `crmbot serve`: the webhook route on the shared server, secrets, repeats,
the notifier, and the `link-code` CLI."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from bot.bootstrap import App
from bot.serve import plan
from bot.telegram.core import PLATFORM
from bot.telegram.notifier import TelegramNotifier
from bot.telegram.transport import FloodLimiter, make_bot, webhook_secret
from crm_core.models import Interaction, ProcessedDelivery
from crm_core.settings import Settings
from handlers.notify import Address, DeliveryFailed
from handlers.reply import Button, Reply
from tests.bot.telegram.conftest import HOOK, TG, Chat, post_update
from tests.bot.telegram.fake_api import FakeBotApi, parse_html
from tests.conftest import TestBot

ALICE = TG["alice"]


def _chat(api: FakeBotApi) -> Chat:
    async def nothing(update: dict[str, object]) -> int:
        return 0

    return Chat(api, nothing)


async def test_webhook_is_registered_with_its_secret(
    served: tuple[str, str], fake_api: FakeBotApi
) -> None:
    """setWebhook gets the public URL and the secret token; polling is not used."""
    (call,) = fake_api.of("setWebhook")
    assert call.params["url"] == HOOK and call.params["secret_token"] == served[1]
    assert fake_api.of("deleteWebhook") == []


async def test_wrong_or_missing_secret_gets_403_and_touches_nothing(
    served: tuple[str, str], fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """Without the matching header nothing is dispatched, recorded or sent."""
    url, _ = served
    update = {"update_id": 1, **_chat(fake_api).message(ALICE, "log visit Acme: hi")}
    assert await post_update(url, update, None) == 403
    assert await post_update(url, update, "wrong") == 403
    await fake_api.quiet()
    assert fake_api.sent() == []
    assert testbot.count(ProcessedDelivery) == 0


async def test_webhook_updates_are_answered_and_repeats_processed_once(
    served: tuple[str, str], fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """A repeated update_id (Telegram retrying) logs one note and sends one reply."""
    assert testbot("alice", "new customer Acme Logistics").status == "ok"
    url, secret = served
    update = {"update_id": 41, **_chat(fake_api).message(ALICE, "/log visit Acme: dock tour")}
    for _ in range(3):
        assert await post_update(url, update, secret) == 200
    (sent,) = await fake_api.wait_for("sendMessage")
    await fake_api.quiet()
    assert len(fake_api.sent()) == 1
    assert parse_html(sent.params["text"])[0].startswith("Logged the visit")
    assert testbot.count(Interaction) == 1
    step = {"update_id": 42, **_chat(fake_api).message(ALICE, "/log")}
    for _ in range(2):
        assert await post_update(url, step, secret) == 200
    await fake_api.wait_for("sendMessage", 2)
    await fake_api.quiet()
    assert len(fake_api.sent()) == 2


async def test_not_an_update_is_refused(served: tuple[str, str]) -> None:
    """A body that is not JSON gets 400."""
    url, secret = served
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http, http.post(url, data=b"{", headers=headers) as r:
        assert r.status == 400


def test_secret_is_derived_from_the_token_unless_set() -> None:
    """The derived secret is stable, token-specific and in Telegram's alphabet."""
    a = Settings(_env_file=None, telegram_bot_token=SecretStr("1:A"))
    b = Settings(_env_file=None, telegram_bot_token=SecretStr("1:B"))
    assert webhook_secret(a) == webhook_secret(a) != webhook_secret(b)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", webhook_secret(a))
    assert "1:A" not in webhook_secret(a)
    c = Settings(
        _env_file=None, telegram_bot_token=SecretStr("1:A"), telegram_webhook_secret="mine"
    )
    assert webhook_secret(c) == "mine"


def test_serve_plans_telegram_when_its_token_is_set(tg_app: App) -> None:
    """TELEGRAM_BOT_TOKEN turns the adapter on."""
    assert "telegram" in plan(tg_app)


async def test_notifier_sends_with_buttons_and_maps_failures(
    tg_app: App, fake_api: FakeBotApi
) -> None:
    """A private send has a keyboard; a group's buttons are written out; 403/429 fail."""
    bot = make_bot(tg_app.settings, limiter=FloodLimiter(max_retries=0))
    notifier = TelegramNotifier(bot, tg_app.gateway(PLATFORM))
    reply = Reply(text="Call <Dana> & co", buttons=[Button.run("Done", "done #1")])
    message_id = await notifier.send(Address("telegram", str(ALICE)), reply)
    assert message_id.isdigit()
    (private,) = fake_api.sent(ALICE)
    assert private.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Done"
    assert "&lt;Dana&gt; &amp; co" in private.params["text"]
    await notifier.send(Address("telegram", "-100", channel=True), reply)
    (group,) = fake_api.sent(-100)
    assert "reply_markup" not in group.params and "<code>done #1</code>" in group.params["text"]
    fake_api.fail_next("sendMessage", 403)
    with pytest.raises(DeliveryFailed) as blocked:
        await notifier.send(Address("telegram", str(ALICE)), reply)
    assert not blocked.value.retryable
    fake_api.fail_next("sendMessage", 429, retry_after=5)
    with pytest.raises(DeliveryFailed) as limited:
        await notifier.send(Address("telegram", str(ALICE)), reply)
    assert limited.value.retryable
    await bot.shutdown()


def test_link_code_cli_prints_the_code_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`crmbot link-code alice`: the code alone on the first line, then how to use it."""
    from bot.cli import main

    for name in Settings.model_fields:
        monkeypatch.delenv(f"CRMBOT_{name.upper()}", raising=False)
    monkeypatch.setenv("CRMBOT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    assert cli.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert cli.invoke(main, ["user", "add", "alice", "--name", "Alice Ng"]).exit_code == 0
    refused = cli.invoke(main, ["link-code", "alice"])
    assert refused.exit_code == 2 and "admin" in refused.output
    cli.invoke(main, ["user", "add", "root", "--name", "Root", "--role", "admin"])
    result = cli.invoke(main, ["link-code", "alice"])
    assert result.exit_code == 0, result.output
    first, rest = result.output.split("\n", 1)
    assert re.fullmatch(r"[A-Z2-9]{8}", first)
    assert f"/link {first}" in rest


async def test_one_chat_is_paced_and_others_are_not(tg_app: App, fake_api: FakeBotApi) -> None:
    """Past a burst of 2 a private chat gets about one message a second; other chats never wait."""
    bot = make_bot(tg_app.settings, limiter=FloodLimiter(chat_burst=2))
    notifier = TelegramNotifier(bot, tg_app.gateway(PLATFORM))
    loop = asyncio.get_running_loop()
    async with bot:
        started = loop.time()
        for n in range(4):
            await notifier.send(Address("telegram", str(ALICE)), Reply(text=f"ping {n}"))
        paced = loop.time() - started
        started = loop.time()
        await notifier.send(Address("telegram", "4242"), Reply(text="other chat"))
        other = loop.time() - started
    assert len(fake_api.sent(ALICE)) == 4
    # Two sends over the burst at one a second: at least about a second of waiting.
    assert paced >= 0.9
    assert other < paced
