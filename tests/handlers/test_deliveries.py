"""A repeated platform delivery does nothing the second time, on every backend."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from crm_core.models import Customer, Interaction, ProcessedDelivery
from handlers.registry import Verb
from handlers.reply import RUN, Command, Reply
from tests.conftest import START, TestBot


def test_repeated_delivery_writes_once(testbot: TestBot) -> None:
    """The same delivery id twice: one note, and the repeat answers 'duplicate'."""
    testbot("alice", "new customer Acme")
    first = testbot("alice", "log call Acme: asked for a quote", delivery_id="Ev1")
    again = testbot("alice", "log call Acme: asked for a quote", delivery_id="Ev1")
    assert first.status == "ok"
    assert again.status == "duplicate"
    assert testbot.count(Interaction) == 1
    # Another delivery of the same words is a new note: only the platform's id dedupes.
    assert testbot("alice", "log call Acme: asked for a quote", delivery_id="Ev2").status == "ok"
    assert testbot.count(Interaction) == 2


def test_pressed_button_delivered_twice_runs_once(testbot: TestBot) -> None:
    """A button press is a delivery too: its retry creates nothing more."""
    testbot("alice", "new customer Acme Logistics")
    near = testbot("alice", "new customer Acme Logistic")
    anyway = next(b for b in near.buttons if b.style == "primary" or "anyway" in b.label)
    press = Command(
        testbot.users["alice"],
        "slack",
        action=anyway.action,
        payload=anyway.payload,
        delivery_id="trigger-7",
    )
    assert testbot.dispatcher.dispatch(press).status == "ok"
    assert testbot.dispatcher.dispatch(press).status == "duplicate"
    assert testbot.count(Customer) == 2


def test_deliveries_are_per_platform(testbot: TestBot) -> None:
    """Slack's and Telegram's ids live in separate spaces."""
    testbot("alice", "new customer Acme")
    testbot.platform = "slack"
    assert testbot("alice", "log Acme: one", delivery_id="42").status == "ok"
    testbot.platform = "telegram"
    assert testbot("alice", "log Acme: two", delivery_id="42").status == "ok"
    assert testbot.count(Interaction) == 2


def _flaky_log(testbot: TestBot, failures: int) -> list[int]:
    """A verb `flakylog` that logs a note as `log` does and then raises, `failures` times."""
    log_verb = testbot.dispatcher.registry.get("log")
    assert log_verb is not None
    calls: list[int] = []

    def flaky(req: Any) -> Reply:
        reply = log_verb.handler(req)
        calls.append(len(calls) + 1)
        if len(calls) <= failures:
            # After the claim and after a write: a bug, a lost connection, a deadlock.
            raise RuntimeError("crashed after the claim")
        return reply

    testbot.dispatcher.registry.add(
        Verb("flakylog", flaky, "flakylog Acme: text", (), writes=True)  # type: ignore[arg-type]
    )
    return calls


def test_command_that_crashes_after_its_claim_runs_on_the_retry(testbot: TestBot) -> None:
    """A crash after the claim leaves no claim (SQLite as PostgreSQL): the platform's retry
    runs the command, once; a retry after that success is a duplicate."""
    testbot("alice", "new customer Acme")
    calls = _flaky_log(testbot, failures=1)
    first = testbot("alice", "flakylog Acme: asked for a quote", delivery_id="Ev9")
    assert first.status == "error" and "reference" in first.text
    assert testbot.count(ProcessedDelivery) == 0
    assert testbot.count(Interaction) == 0
    retry = testbot("alice", "flakylog Acme: asked for a quote", delivery_id="Ev9")
    assert retry.status == "ok"
    assert testbot.count(ProcessedDelivery) == 1
    assert testbot("alice", "flakylog Acme: asked for a quote", delivery_id="Ev9").status == (
        "duplicate"
    )
    assert calls == [1, 2]
    assert testbot.count(Interaction) == 1


def test_refused_command_keeps_its_claim(testbot: TestBot) -> None:
    """A refused command rolls its work back but not its claim, on every backend: the
    refusal is that delivery's answer, and a retry of it is a duplicate, not a second one."""
    testbot("alice", "new customer Acme")
    reply = testbot("alice", "log call Nobody Inc: hello", delivery_id="Ev10")
    assert reply.status == "error"
    assert testbot.count(ProcessedDelivery) == 1
    again = testbot("alice", "log call Nobody Inc: hello", delivery_id="Ev10")
    assert again.status == "duplicate"
    assert testbot.count(Interaction) == 0


def test_confirm_refused_after_its_mark_can_be_pressed_again(testbot: TestBot) -> None:
    """A Confirm whose command crashes leaves the card usable (its mark rolls back with it)."""
    testbot("alice", "new customer Acme")
    calls = _flaky_log(testbot, failures=1)
    stamp = {"id": "card-1", "by": testbot.users["alice"], "at": START.isoformat()}
    press = Command(
        testbot.users["alice"],
        "slack",
        action=RUN,
        payload={"text": "flakylog Acme: the card", "confirm": stamp},
        delivery_id="press-1",
    )
    assert testbot.dispatcher.dispatch(press).status == "error"
    again = replace(press, delivery_id="press-2")
    assert testbot.dispatcher.dispatch(again).status == "ok"
    used = testbot.dispatcher.dispatch(replace(press, delivery_id="press-3"))
    assert used.status == "error" and "already" in used.text
    assert calls == [1, 2]
    assert testbot.count(Interaction) == 1


def test_concurrent_deliveries_run_once(testbot: TestBot) -> None:
    """The same delivery from two threads at once: one runs, the other is a duplicate, even
    while the first is still inside its command."""
    testbot("alice", "new customer Acme")
    log_verb = testbot.dispatcher.registry.get("log")
    assert log_verb is not None
    inside, release = threading.Event(), threading.Event()

    def slow(req: Any) -> Reply:
        inside.set()
        release.wait(10)
        return log_verb.handler(req)

    testbot.dispatcher.registry.add(
        Verb("slowlog", slow, "slowlog Acme: text", (), writes=True)  # type: ignore[arg-type]
    )
    replies: list[Reply] = []

    def deliver() -> None:
        replies.append(testbot("alice", "slowlog Acme: once", delivery_id="Ev11"))

    first = threading.Thread(target=deliver)
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=deliver)
    second.start()
    # SQLite answers the second at once; PostgreSQL holds it on the key until the first ends.
    second.join(0.5)
    release.set()
    first.join(10)
    second.join(10)
    assert sorted(r.status for r in replies) == ["duplicate", "ok"]
    assert testbot.count(Interaction) == 1
    assert testbot.count(ProcessedDelivery) == 1


def test_confirm_refused_leaves_its_card_usable(testbot: TestBot) -> None:
    """A Confirm whose command is refused (no such customer) rolls its mark back with the
    refusal, on every backend: once the customer exists the same card runs."""
    stamp = {"id": "card-2", "by": testbot.users["alice"], "at": START.isoformat()}
    press = Command(
        testbot.users["alice"],
        "slack",
        action=RUN,
        payload={"text": "log call Beta Corp: x", "confirm": stamp},
        delivery_id="press-11",
    )
    refused = testbot.dispatcher.dispatch(press)
    assert refused.status == "error" and "already" not in refused.text
    # The refusal is that delivery's answer: its claim stays, the card's mark does not.
    assert testbot.dispatcher.dispatch(press).status == "duplicate"
    assert testbot("alice", "new customer Beta Corp").status == "ok"
    assert testbot.dispatcher.dispatch(replace(press, delivery_id="press-12")).status == "ok"
    used = testbot.dispatcher.dispatch(replace(press, delivery_id="press-13"))
    assert used.status == "error" and "already" in used.text
    assert testbot.count(Interaction) == 1


def test_crash_after_a_refused_part_lets_the_retry_run(testbot: TestBot, monkeypatch: Any) -> None:
    """A command that crashes after a refused part rolled back (and before its claim was
    kept) leaves no claim: the platform's retry runs it, on every backend."""
    testbot("alice", "new customer Acme")
    answer = testbot.dispatcher.message
    crashes: list[str] = []

    def crash_once(exc: Any, t: Any) -> str:
        if not crashes:
            crashes.append(type(exc).__name__)
            raise RuntimeError("crashed after the refusal's rollback")
        return answer(exc, t)

    monkeypatch.setattr(testbot.dispatcher, "message", crash_once)
    first = testbot("alice", "log call Nobody Inc: hello", delivery_id="Ev77")
    assert first.status == "error" and "reference" in first.text
    assert crashes == ["NotFound"]
    assert testbot.count(ProcessedDelivery) == 0
    retry = testbot("alice", "log call Nobody Inc: hello", delivery_id="Ev77")
    assert retry.status == "error" and "reference" not in retry.text
    assert testbot.count(ProcessedDelivery) == 1
    assert testbot("alice", "log call Nobody Inc: hello", delivery_id="Ev77").status == (
        "duplicate"
    )
