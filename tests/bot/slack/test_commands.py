"""`/crm` through the real HTTP endpoint: verbs, buttons, identity, signatures, retries."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.slack.app import SlackAdapter
from crm_core.models import AuditEntry, Customer, Deal, Identity, Interaction, ProcessedDelivery
from handlers.verbs import all_verbs
from tests.bot.slack.conftest import SlackHarness, blocks_text, buttons_of

APOLOGY = "Sorry, something went wrong"


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    """The button of a message whose label starts with `label`."""
    for b in buttons_of(message["blocks"]):
        if b["text"]["text"].startswith(label):
            return b
    raise AssertionError(f"no button {label!r} in {blocks_text(message['blocks'])}")


async def press(slack: SlackHarness, b: dict[str, Any], *, user: str = "alice") -> dict[str, Any]:
    """Press a button and return the message it answered with."""
    before = len(slack.fake.named("response"))
    status, _ = await slack.press(b, user=user)
    assert status == 200
    return (await slack.fake.wait("response", before + 1))[before].params


async def test_every_verb_of_the_language(slack: SlackHarness) -> None:
    """Each verb answers through response_url as Block Kit, ephemeral, with what it did."""
    ask = slack.ask
    assert "log" in blocks_text((await ask("help"))["blocks"])
    assert "Alice" in blocks_text((await ask("whoami"))["blocks"])
    created = await ask("new customer Acme Logistics industry logistics city Boston")
    assert created["response_type"] == "ephemeral"
    assert "Created Acme Logistics" in created["text"]
    added = await ask("contact add Acme: Dana Ruiz, VP Ops, dana@acme.example")
    assert "Dana Ruiz" in blocks_text(added["blocks"])
    deal = await ask("new deal Acme: Fleet renewal 48000 USD close 2026-12-15")
    assert "Fleet renewal" in blocks_text(deal["blocks"])
    logged = await ask("log call Acme, with Dana: wants 12% off & a <b>discount</b>")
    text = blocks_text(logged["blocks"])
    assert "Logged the call with Acme Logistics" in text
    # Customer text is escaped for mrkdwn, never interpreted.
    assert "&lt;b&gt;discount&lt;/b&gt;" in text and "&amp;" in text
    card = await ask("customer Acme")
    assert card["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Acme Logistics"},
    }
    card_text = blocks_text(card["blocks"])
    assert "*Owner*" in card_text and "Dana Ruiz" in card_text and "Fleet renewal" in card_text
    button(card, "Share in channel")
    assert "Acme Logistics" in blocks_text((await ask("find acme"))["blocks"])
    assert "Acme Logistics" in blocks_text((await ask("customers"))["blocks"])
    assert "Fleet renewal" in blocks_text((await ask("deals"))["blocks"])
    moved = await ask("move Fleet renewal to negotiation")
    assert "lead → negotiation" in blocks_text(moved["blocks"])
    pipeline = await ask("pipeline")
    assert "negotiation" in blocks_text(pipeline["blocks"])
    answer = await ask("ask Acme: what did Dana want?")
    assert "12% off" in blocks_text(answer["blocks"]) and "[1]" in blocks_text(answer["blocks"])
    full = await press(slack, button(answer, "Show note [1]"))
    assert "wants 12% off" in blocks_text(full["blocks"])
    note_id = slack.testbot.query(select(Interaction.id))[0]
    edited = await ask(f"edit #{note_id}: Dana wants 15% off, not 12%")
    assert f"Updated note #{note_id}" in edited["text"]
    assert "15% off" in blocks_text((await press(slack, button(edited, "Show note")))["blocks"])
    undone = await ask(f"undo #{note_id}")
    assert "Removed" in undone["text"] or "removed" in undone["text"].lower()
    assert slack.testbot.query(select(Interaction.deleted_at))[0] is not None


@pytest.mark.parametrize(
    "example",
    [e for v in all_verbs() for e in v.examples],
)
async def test_every_example_answers_without_a_crash(slack: SlackHarness, example: str) -> None:
    """Every declared example (other engineers' verbs too) takes the same path and answers."""
    message = await slack.ask(example, user="admin")
    assert message["blocks"]
    assert APOLOGY not in blocks_text(message["blocks"])


async def test_buttons_choose_move_undo_and_share(slack: SlackHarness) -> None:
    """Ambiguity buttons pick, stage buttons move, Undo undoes, Share posts in the channel."""
    await slack.ask("new customer Acme Logistics")
    await slack.ask("new customer Acme Labs --force")
    question = await slack.ask("log call Acme: asked for a quote")
    assert slack.testbot.count(Interaction) == 0
    logged = await press(slack, button(question, "Acme Labs"))
    assert "Acme Labs" in logged["text"]
    assert slack.testbot.count(Interaction) == 1
    undone = await press(slack, button(logged, "Undo"))
    assert APOLOGY not in undone["text"]
    assert slack.testbot.query(select(Interaction.deleted_at))[0] is not None

    deal = await slack.ask("new deal Acme Labs: Fleet 10k")
    moved = await press(slack, button(deal, "→ qualified"))
    assert "lead → qualified" in moved["text"]
    assert slack.testbot.query(select(Deal.stage)) == ["qualified"]

    card = await slack.ask("customer Acme Labs")
    shared = await press(slack, button(card, "Share in channel"))
    assert shared["response_type"] == "in_channel"
    assert shared["blocks"][0]["text"]["text"] == "Acme Labs"
    assert "Share in channel" not in blocks_text(shared["blocks"])
    # The card's own buttons keep working.
    deals = await press(slack, button(card, "Deals"))
    assert "Fleet" in blocks_text(deals["blocks"])


async def test_a_button_rechecks_permissions(slack: SlackHarness) -> None:
    """Dave (another team) pressing Alice's Undo gets a clear refusal and nothing changes."""
    await slack.ask("new customer Acme")
    logged = await slack.ask("log call Acme: hello")
    refused = await press(slack, button(logged, "Undo"), user="dave")
    assert refused["response_type"] == "ephemeral"
    assert "note" in refused["text"].lower() and APOLOGY not in refused["text"]
    assert slack.testbot.query(select(Interaction.deleted_at)) == [None]


async def test_link_verb_links_a_mention_admin_only(slack: SlackHarness) -> None:
    """`/crm link <@U9|erin> carol` links the Slack id; a rep is refused; both audited once."""
    refused = await slack.ask("link <@UNEW|erin> carol")
    assert "Only an admin" in refused["text"]
    done = await slack.ask("link <@UNEW|erin> carol", user="admin")
    assert "carol" in done["text"]
    rows = slack.testbot.rows(
        select(Identity.platform_user_id, Identity.user_id).where(
            Identity.platform_user_id == "UNEW"
        )
    )
    assert rows == [("UNEW", slack.testbot.users["carol"])]
    who = await slack.ask("whoami", user="UNEW")
    assert "Carol" in blocks_text(who["blocks"])
    audits = slack.testbot.query(
        select(AuditEntry.actor_id).where(AuditEntry.action == "identity.create")
    )
    assert slack.testbot.users["admin"] in audits


async def test_unknown_user_linked_by_unique_email(slack: SlackHarness) -> None:
    """A new Slack user whose users.info email matches one CRM user is linked, audited 'slack'."""
    slack.fake.users["UNEWBOB"] = {"id": "UNEWBOB", "profile": {"email": "BOB@example.com"}}
    who = await slack.ask("whoami", user="UNEWBOB")
    assert "Bob" in blocks_text(who["blocks"])
    labels = slack.testbot.query(
        select(AuditEntry.actor_label).where(AuditEntry.action == "identity.create")
    )
    assert "slack" in labels


async def test_unknown_user_without_a_match_is_told_to_ask_an_admin(slack: SlackHarness) -> None:
    """No email match: the one answer is 'ask an admin', and nothing is written."""
    slack.fake.users["UX"] = {"id": "UX", "profile": {"email": "nobody@example.com"}}
    before = slack.testbot.count(Identity)
    answer = await slack.ask("new customer Sneaky", user="UX")
    assert "Ask an admin" in answer["text"]
    unknown = await slack.ask("pipeline", user="UNOINFO")
    assert "Ask an admin" in unknown["text"]
    assert slack.testbot.count(Customer) == 0
    assert slack.testbot.count(Identity) == before


async def test_forged_signature_and_stale_timestamp_are_refused(slack: SlackHarness) -> None:
    """Bad signature or a timestamp over 5 minutes old: 401, nothing written, nothing sent."""
    body = urlencode(slack.command_body("new customer Forged"))
    headers = slack.signed(body, content_type="application/x-www-form-urlencoded")
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    status, _ = await slack.post(body, headers=headers)
    assert status == 401
    status, _ = await slack.post(body, timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    assert slack.testbot.count(Customer) == 0
    assert slack.testbot.count(ProcessedDelivery) == 0
    assert slack.fake.named("response") == []


async def test_retried_delivery_writes_once(slack: SlackHarness) -> None:
    """The same request again (X-Slack-Retry-Num: 1) writes nothing more and answers nothing."""
    body = urlencode(slack.command_body("new customer Retry Co"))
    assert (await slack.post(body))[0] == 200
    await slack.fake.wait("response", 1)
    status, _ = await slack.post(body, headers={"X-Slack-Retry-Num": "1"})
    assert status == 200
    status, _ = await slack.post(body, headers={"X-Slack-Retry-Num": "2"})
    await slack.ask("whoami")  # a later request's answer arrives after any stray one
    assert slack.testbot.count(Customer) == 1
    assert len(slack.fake.named("response")) == 2


async def test_ack_is_immediate_and_empty(slack: SlackHarness) -> None:
    """The HTTP answer is the bare ack; the reply comes later through response_url."""
    status, text = await slack.command("pipeline")
    assert status == 200 and text == ""
    await slack.fake.wait("response")


async def test_a_failing_handler_apologises_with_a_reference_and_keeps_serving(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception in a listener: traceback logged with a ref, the user gets that ref."""

    async def broken(self: SlackAdapter, slack_id: str, command: Any) -> Any:
        raise RuntimeError("boom")

    # Where a command runs (identified and dispatched in one unit of work).
    monkeypatch.setattr(SlackAdapter, "_run_as", broken)
    with caplog.at_level(logging.ERROR, logger="bot.slack.app"):
        answer = await slack.ask("log call Acme: secret customer words")
    record = next(r for r in caplog.records if "slack listener failed" in r.getMessage())
    assert record.exc_info is not None
    ref = record.getMessage().split("ref ")[1].split(",")[0]
    assert ref in answer["text"] and APOLOGY in answer["text"]
    assert "secret customer words" not in caplog.text
    monkeypatch.undo()
    assert "Alice" in blocks_text((await slack.ask("whoami"))["blocks"])


async def test_web_api_429_is_retried_after_retry_after(slack: SlackHarness) -> None:
    """views.publish answers 429 once: the client waits Retry-After and succeeds."""
    slack.fake.rate_limited["views.publish"] = 1
    slack.fake.retry_after = 1
    started = time.perf_counter()
    assert await slack.event({"type": "app_home_opened", "user": "UALICE", "tab": "home"}) == 200
    published = await slack.fake.wait("views.publish", timeout=10)
    limited = slack.fake.named("views.publish:429")
    assert len(limited) == 1
    assert published[0].at - limited[0].at >= 1.0
    assert published[0].at - started < 5


def test_button_values_are_json_the_dispatcher_understands() -> None:
    """A rendered RUN button carries its payload as JSON (a decoding check, no server)."""
    from bot.slack.blocks import decode_button, encode_button

    value = encode_button("run", {"text": "customer #1", "pick": {"customer": 3}})
    assert json.loads(value) == {"a": "run", "p": {"text": "customer #1", "pick": {"customer": 3}}}
    assert decode_button(value) == ("run", {"text": "customer #1", "pick": {"customer": 3}})


async def test_too_long_and_foreign_buttons_explain_and_do_nothing(slack: SlackHarness) -> None:
    """A command too long for a button, or a value that is not ours: a clear reply, no write."""
    from bot.slack.blocks import encode_button

    noise = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(3_000))
    value = encode_button("run", {"text": f"log call Acme: {noise}", "pick": {"customer": 7}})
    answer = await press(slack, {"action_id": "crm:0", "value": value})
    assert "too long" in answer["text"] and "customer #7" in answer["text"]
    foreign = await press(slack, {"action_id": "crm:0", "value": "garbage"})
    assert APOLOGY not in foreign["text"]
    assert slack.testbot.count(Interaction) == 0


async def test_history_pages_with_the_more_button(slack: SlackHarness) -> None:
    """`/crm history Acme` shows ten changes and a More button that shows the older ones."""
    await slack.ask("new customer Acme")
    for n in range(11):
        await slack.ask(f"edit customer Acme: city C{n}")
    first = await slack.ask("history Acme")
    assert "C9 → C10" in blocks_text(first["blocks"])
    older = await press(slack, button(first, "More"))
    assert "none → C0" in blocks_text(older["blocks"])
    assert "customer Acme created" in blocks_text(older["blocks"])
    assert [b for b in buttons_of(older["blocks"]) if b["text"]["text"] == "More"] == []
    zh = await slack.ask("历史 Acme")
    assert "C9 → C10" in blocks_text(zh["blocks"])  # the alias; alice reads English


async def test_reassign_by_a_manager_and_refused_to_a_rep(slack: SlackHarness) -> None:
    """`/crm reassign Acme to @carol with deals` as bob; alice (a rep) is told who may."""
    await slack.ask("new customer Acme")
    await slack.ask("new deal Acme: Fleet renewal 48k")
    refused = await slack.ask("reassign Acme to @carol")
    assert "Only a manager or an admin" in refused["text"]
    done = await slack.ask("reassign Acme to @carol with deals", user="bob")
    assert done["text"].startswith("Acme now belongs to Carol (was Alice)")
    assert "Alice → Carol" in blocks_text(done["blocks"])
    owners = slack.testbot.query(select(Deal.owner_id))
    assert owners == [slack.testbot.users["carol"]]
