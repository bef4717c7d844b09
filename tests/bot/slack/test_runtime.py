"""Running Slack under `crmbot serve`: Socket Mode, HTTP mode's refusal, and the notifier."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from pydantic import SecretStr

from bot.bootstrap import App
from bot.runtime import Runtime, ServeError
from bot.serve import make_runtime, plan, run_until
from bot.slack.component import SlackComponent, make_notifier
from bot.slack.notifier import SlackNotifier
from bot.slack.sending import web_client
from crm_core.models import Customer
from handlers.notify import Address, DeliveryFailed
from handlers.reply import Button, Reply
from tests.bot.slack.conftest import (
    FakeSlack,
    SlackHarness,
    blocks_text,
    configure,
    link_slack_ids,
)
from tests.conftest import TestBot


async def test_socket_mode_handles_a_command_over_the_websocket(
    crm_app: App, fake_slack: FakeSlack, testbot: TestBot
) -> None:
    """With an app token: apps.connections.open, a ws:// connection, an envelope acked and run."""
    configure(crm_app, fake_slack, app_token="xapp-test")
    crm_app.settings.slack_signing_secret = None  # Socket Mode needs no signing secret
    link_slack_ids(testbot)
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_until(crm_app, ("slack",), stop, on_ready=ready.set_result))
    runtime = await asyncio.wait_for(ready, 10)
    await asyncio.wait_for(fake_slack.connected.wait(), 10)
    assert fake_slack.named("apps.connections.open")
    await fake_slack.push(
        {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "team_id": "T1",
                "user_id": "UALICE",
                "channel_id": "C1",
                "command": "/crm",
                "text": "new customer Socket Co",
                "response_url": fake_slack.response_url(),
                "trigger_id": "sock-1",
            },
        }
    )
    answer = (await fake_slack.wait("response"))[0].params
    assert "Created Socket Co" in answer["text"]
    # Bolt sends the ack after dispatch returns, so it may arrive after the answer itself.
    for _ in range(500):
        if any(m.get("envelope_id") == "env-1" for m in fake_slack.socket_messages):
            break
        await asyncio.sleep(0.01)
    assert any(m.get("envelope_id") == "env-1" for m in fake_slack.socket_messages)
    assert testbot.count(Customer) == 1
    # /slack/events is not served in Socket Mode; the health check still is.
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{runtime.port}/healthz") as resp:
            assert resp.status == 200
        async with http.post(f"http://127.0.0.1:{runtime.port}/slack/events") as resp:
            assert resp.status in (404, 405)
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_http_mode_refuses_to_start_without_a_signing_secret(
    crm_app: App, fake_slack: FakeSlack
) -> None:
    """No SLACK_SIGNING_SECRET and no app token: a clear error naming the variable."""
    configure(crm_app, fake_slack)
    crm_app.settings.slack_signing_secret = None
    with pytest.raises(ServeError, match="SLACK_SIGNING_SECRET"):
        SlackComponent(make_runtime(crm_app))
    with pytest.raises(ServeError, match="SLACK_SIGNING_SECRET"):
        await run_until(crm_app, ("slack",), asyncio.Event())


def test_slack_is_planned_only_when_its_token_is_set(crm_app: App) -> None:
    """`serve` runs slack when SLACK_BOT_TOKEN is set; --only slack without it is refused."""
    with pytest.raises(ServeError, match="slack is not configured"):
        plan(crm_app, ("slack",))
    crm_app.settings.slack_bot_token = SecretStr("xoxb-x")
    assert "slack" in plan(crm_app)
    assert make_notifier(crm_app) is not None


async def test_health_check_next_to_the_events_endpoint(slack: SlackHarness) -> None:
    """HTTP mode serves /slack/events and /healthz on the same server."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{slack.port}/healthz") as resp,
    ):
        assert resp.status == 200
    assert slack.runtime.notifiers and slack.runtime.notifiers[0].platform == "slack"


async def test_notifier_sends_dms_and_channel_posts(fake_slack: FakeSlack) -> None:
    """A person gets a DM (conversations.open first); a channel gets a post; ids come back."""
    notifier = SlackNotifier(web_client("xoxb-t", fake_slack.api_url))
    reply = Reply(title="Reminder", text="Call Acme", buttons=[Button.run("Done", "help")])
    ts = await notifier.send(Address("slack", "UALICE"), reply)
    assert ts
    opened = fake_slack.named("conversations.open")[0].params
    assert opened["users"] == "UALICE"
    posted = fake_slack.named("chat.postMessage")[0].params
    assert posted["channel"] == "DUALICE"
    assert "Call Acme" in blocks_text(posted["blocks"])
    await notifier.send(Address("slack", "C9", channel=True), Reply(text="Digest"))
    assert fake_slack.named("chat.postMessage")[1].params["channel"] == "C9"
    assert len(fake_slack.named("conversations.open")) == 1


async def test_notifier_uploads_images(fake_slack: FakeSlack) -> None:
    """A chart is uploaded through the files.uploadV2 steps and shown as an image block."""
    notifier = SlackNotifier(web_client("xoxb-t", fake_slack.api_url))
    await notifier.send(Address("slack", "C9", channel=True), Reply(title="Chart", image=b"png"))
    assert fake_slack.named("files.getUploadURLExternal")
    assert fake_slack.named("upload")[0].params == {"bytes": 3}
    assert fake_slack.named("files.completeUploadExternal")
    blocks = fake_slack.named("chat.postMessage")[0].params["blocks"]
    assert any(b["type"] == "image" and b["slack_file"]["id"].startswith("F") for b in blocks)


async def test_notifier_failures_say_whether_to_retry(fake_slack: FakeSlack) -> None:
    """Another platform's address or a missing channel is permanent; a dead server is not."""
    notifier = SlackNotifier(web_client("xoxb-t", fake_slack.api_url))
    with pytest.raises(DeliveryFailed) as wrong:
        await notifier.send(Address("telegram", "1"), Reply(text="x"))
    assert wrong.value.retryable is False
    dead = SlackNotifier(web_client("xoxb-t", "http://127.0.0.1:9/api/"))
    with pytest.raises(DeliveryFailed) as down:
        await dead.send(Address("slack", "C1", channel=True), Reply(text="x"))
    assert down.value.retryable is True
    fake_slack.rate_limited["chat.postMessage"] = 1
    fake_slack.retry_after = 0
    assert await notifier.send(Address("slack", "C1", channel=True), Reply(text="x"))


def test_manifest_declares_what_the_adapter_listens_to() -> None:
    """The manifest's command, shortcuts, events and scopes match the code."""
    from pathlib import Path

    from bot.slack import app as slack_app

    text = (Path(slack_app.__file__).parent / "manifest.yml").read_text("utf-8")
    for needed in (
        f"command: {slack_app.COMMAND}",
        f"callback_id: {slack_app.GLOBAL_SHORTCUT}",
        f"callback_id: {slack_app.MESSAGE_SHORTCUT}",
        "app_home_opened",
        "home_tab_enabled: true",
        "users:read.email",
        "chat:write",
        "commands",
        "/slack/events",
        "message_menu_options_url",
    ):
        assert needed in text, needed


async def test_a_socket_mode_start_given_up_closes_its_http_sessions(
    crm_app: App, fake_slack: FakeSlack
) -> None:
    """Slack refusing the app token keeps Socket Mode retrying; a start given up (serve stopped
    while it retries) closes the sessions it opened, which nothing else would close."""
    configure(crm_app, fake_slack, app_token="xapp-test")
    fake_slack.failing["apps.connections.open"] = "invalid_auth"
    component = SlackComponent(make_runtime(crm_app))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(component.start(), 1.5)
    assert fake_slack.named("apps.connections.open")
    assert component.adapter.client.session is None
    assert component.adapter.sender.session is None
    assert component.socket is None
