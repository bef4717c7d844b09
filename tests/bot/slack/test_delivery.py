"""Answers that cannot go where they came from: expired response_urls, resubmitted forms."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.slack.sending import BACKSTOP_TIMES, http_session, web_client
from crm_core.models import Interaction
from tests.bot.slack.conftest import FakeSlack, SlackHarness, blocks_text, buttons_of
from tests.bot.slack.test_modals import state, submit


async def dm_text(slack: SlackHarness, count: int = 1) -> str:
    """The text and blocks of the `count`th direct message posted through conversations.open."""
    posts = await slack.fake.wait(
        "chat.postMessage", count, where=lambda c: str(c.params["channel"]).startswith("D")
    )
    message = posts[count - 1].params
    return str(message["text"]) + "\n" + blocks_text(message.get("blocks") or [])


def no_failures(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing was logged as a failed listener or a lost apology."""
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


async def test_button_on_an_old_message_answers_by_dm(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """A response_url that answers 404: the answer arrives as a DM, nothing fails."""
    await slack.ask("new customer Acme")
    card = await slack.ask("customer Acme")
    with caplog.at_level(logging.WARNING, logger="bot.slack.app"):
        status, _ = await slack.press(buttons_of(card["blocks"])[0], expired=True)
        assert status == 200
        await slack.fake.wait("response:404")
        text = await dm_text(slack)
    assert slack.fake.named("conversations.open")[0].params["users"] == "UALICE"
    assert "Sorry" not in text and text.strip()
    no_failures(caplog)
    # Why it went by DM is logged, without the message.
    assert any("response_url" in r.getMessage() for r in caplog.records)


async def test_late_modal_submission_answers_by_dm_and_logs_once(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """`/crm log`, submitted after its response_url expired: logged once, told so by DM."""
    await slack.ask("new customer Acme")
    with caplog.at_level(logging.WARNING, logger="bot.slack.app"):
        await slack.command("log", response_url=slack.fake.response_url(expired=True))
        view: dict[str, Any] = (await slack.fake.wait("views.open"))[-1].params["view"]
        status, body = await submit(slack, view, state(1, "Pricing call"), view_id="VLATE")
        assert (status, body) == (200, "")
        assert "Logged the call with Acme" in await dm_text(slack)
        # The same view submitted again (a retry, a double click): nothing new, and it says so.
        await submit(slack, view, state(1, "Pricing call"), view_id="VLATE")
        again = await dm_text(slack, 2)
    assert "Already logged as note #1" in again
    assert slack.testbot.rows(select(Interaction.id, Interaction.text)) == [(1, "Pricing call")]
    no_failures(caplog)


async def test_resubmitted_view_answers_already_logged_where_it_can(slack: SlackHarness) -> None:
    """With a live response_url, a second submission of the same view names the note."""
    await slack.ask("new customer Acme")
    await slack.command("log")
    view: dict[str, Any] = (await slack.fake.wait("views.open"))[-1].params["view"]
    answered = len(slack.fake.named("response"))
    await submit(slack, view, state(1, "Demo booked"), view_id="VTWICE")
    await slack.fake.wait("response", answered + 1)
    await submit(slack, view, state(1, "Demo booked"), view_id="VTWICE")
    again = (await slack.fake.wait("response", answered + 2))[-1].params
    assert "Already logged as note #1 on Acme" in again["text"]
    assert "The message" not in again["text"]  # a note from the modal has no message link
    assert slack.testbot.count(Interaction) == 1


async def test_apology_goes_by_dm_when_the_response_url_is_dead(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """A listener fails (an expired trigger) and its response_url is dead: the apology is a DM."""
    slack.fake.failing["views.open"] = "expired_trigger_id"
    with caplog.at_level(logging.ERROR, logger="bot.slack.app"):
        await slack.command("log", response_url=slack.fake.response_url(expired=True))
        text = await dm_text(slack)
    record = next(r for r in caplog.records if "slack listener failed" in r.getMessage())
    ref = record.getMessage().split("ref ")[1].split(",")[0]
    assert "Sorry, something went wrong" in text and ref in text
    assert not any("could not apologise" in r.getMessage() for r in caplog.records)


BURST = 12
CAP = 4


@pytest.fixture
def capped(crm_app: App) -> int:
    """CRMBOT_SLACK_HTTP_CONNECTIONS set low, before the `slack` fixture starts serving."""
    crm_app.settings.slack_http_connections = CAP
    return CAP


async def test_reply_burst_past_the_connection_cap_all_arrive(
    capped: int, slack: SlackHarness
) -> None:
    """More replies at once than the sessions may open connections: every one arrives at its
    response_url (none given up for a DM), on at most the configured connections."""
    await slack.ask("new customer Acme")
    slack.fake.delays["response"] = 0.3  # a slow Slack: the burst overlaps
    slack.fake.most_responding = 0
    slack.fake.response_ports.clear()
    before = len(slack.fake.named("response"))
    acks = await asyncio.gather(*(slack.command("customer Acme") for _ in range(BURST)))
    assert [status for status, _ in acks] == [200] * BURST
    answers = await slack.fake.wait("response", before + BURST, timeout=15)
    assert all("Acme" in str(c.params.get("text")) for c in answers[before:])
    assert slack.fake.named("chat.postMessage") == []
    # The cap was reached and held: the rest of the burst waited for a connection.
    assert slack.fake.most_responding == capped
    assert len(slack.fake.response_ports) <= capped


async def test_an_upload_to_a_peer_that_stopped_reading_is_given_up(fake_slack: FakeSlack) -> None:
    """A chart upload Slack stops reading fails after BACKSTOP_TIMES the deadline instead of
    holding its connection (the deadline between bytes starts only once the body is written)."""
    fake_slack.stall_uploads = True
    seconds = 0.2
    client = web_client("xoxb-test-token", fake_slack.api_url)
    client.session = http_session(seconds, 2)
    # More than the loopback socket's buffers on both ends take.
    image = b"\x89PNG" + bytes(48 * 1024 * 1024)
    started = time.perf_counter()
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                client.files_upload_v2(file=image, filename="crmbot.png"), seconds * 25
            )
        took = time.perf_counter() - started
    finally:
        await client.session.close()
    assert seconds * BACKSTOP_TIMES <= took < seconds * 15
    assert fake_slack.named("upload") == []
