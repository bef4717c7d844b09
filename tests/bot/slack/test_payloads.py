"""Real-shaped Slack payloads (tests/fixtures/payloads/slack) sent to a running `crmbot serve`.

Each sample is a JSON file: `kind` (form, payload or json: how Slack encodes the body), the
`body`, optional `headers` (X-Slack-Retry-Num) and `slack_users` (users.info answers), and what
should happen: `answer` (response, dm, views.open, views.publish, ack or none), `ack_contains`,
`answer_contains`, `prefill` (the log modal's notes) and `writes` (a note that exists once).
"{response_url}" in a body is replaced by a fresh response_url of the fake. Samples run in name
order, so a retry or resubmission sorts after the request it repeats.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from crm_core.models import Customer, Interaction
from tests.bot.slack.conftest import SlackHarness, blocks_text

SAMPLES = sorted((Path(__file__).parents[2] / "fixtures" / "payloads" / "slack").glob("*.json"))
# What counts as an answer: a message, a modal, a Home tab.
ANSWERS = ("response", "chat.postMessage", "views.open", "views.publish")
ACK_LIMIT = 3.0  # Slack's timeout for every request


def fill(node: Any, response_url: str) -> Any:
    """The body with every "{response_url}" (also inside JSON strings) replaced."""
    if isinstance(node, str):
        return node.replace("{response_url}", response_url)
    if isinstance(node, list):
        return [fill(v, response_url) for v in node]
    if isinstance(node, dict):
        return {k: fill(v, response_url) for k, v in node.items()}
    return node


def encode(sample: dict[str, Any], body: Any) -> tuple[str, str]:
    """The raw body and content type Slack sends for this kind of request."""
    if sample["kind"] == "json":
        return json.dumps(body, ensure_ascii=False), "application/json"
    form = body
    if sample["kind"] == "payload":
        form = {"payload": json.dumps(body, ensure_ascii=False)}
    return urlencode(form), "application/x-www-form-urlencoded"


async def settle(slack: SlackHarness, quiet: float = 0.2) -> None:
    """Wait until the fake has received nothing new for `quiet` seconds."""
    seen = -1
    while seen != len(slack.fake.calls):
        seen = len(slack.fake.calls)
        await asyncio.sleep(quiet)


def answer_text(call: Any) -> str:
    """What a person sees of one answer."""
    params = call.params
    view = params.get("view") or {}
    blocks = params.get("blocks") or view.get("blocks") or []
    return str(params.get("text") or "") + "\n" + blocks_text(blocks)


async def test_every_sample_is_acked_in_time_answered_and_never_crashes(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Signed and posted to /slack/events: 2xx within 3 s, answered, no error, writes once."""
    assert len(SAMPLES) >= 25
    for name in ("Acme", "华东物流", "Ortiz & Co"):
        assert slack.testbot("alice", f"new customer {name}").status == "ok"
    caplog.set_level(logging.WARNING)
    slowest = 0.0
    for path in SAMPLES:
        sample = json.loads(path.read_text("utf-8"))
        slack.fake.users.update(sample.get("slack_users") or {})
        raw, content_type = encode(sample, fill(sample["body"], slack.fake.response_url()))
        before = {m: len(slack.fake.named(m)) for m in ANSWERS}
        started = time.perf_counter()
        headers = sample.get("headers")
        status, ack = await slack.post(raw, content_type=content_type, headers=headers)
        took = time.perf_counter() - started
        slowest = max(slowest, took)
        assert 200 <= status < 300, (path.name, status, ack)
        assert took < ACK_LIMIT, (path.name, took)
        expected = sample["answer"]
        if expected == "ack":
            readable = json.dumps(json.loads(ack), ensure_ascii=False) if ack[:1] == "{" else ack
            assert sample["ack_contains"] in readable, (path.name, readable)
        elif expected == "dm":
            await slack.fake.wait("chat.postMessage", before["chat.postMessage"] + 1)
        elif expected != "none":
            await slack.fake.wait(expected, before[expected] + 1)
        await settle(slack)
        new = [c for m in ANSWERS for c in slack.fake.named(m)[before[m] :]]
        if expected in ("none", "ack"):
            assert new == [], (path.name, [c.method for c in new])
        if "answer_contains" in sample:
            assert any(sample["answer_contains"] in answer_text(c) for c in new), path.name
        if "prefill" in sample:
            view = slack.fake.named("views.open")[-1].params["view"]
            notes = next(b for b in view["blocks"] if b.get("block_id") == "notes")
            assert notes["element"].get("initial_value", "") == sample["prefill"], path.name
    every = [answer_text(c) for m in ANSWERS for c in slack.fake.named(m)]
    assert not [t for t in every if "Sorry, something went wrong" in t]
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == []
    # Retries and resubmissions wrote once.
    for path in SAMPLES:
        note = (json.loads(path.read_text("utf-8")).get("writes") or {}).get("note")
        if note:
            ids = slack.testbot.query(select(Interaction.id).where(Interaction.text == note))
            assert len(ids) == 1, (path.name, ids)
    assert slack.testbot.query(select(Customer.name).where(Customer.name == "Smith & Sons")) == [
        "Smith & Sons"
    ]
    print(f"slowest ack {slowest:.3f} s over {len(SAMPLES)} samples")
