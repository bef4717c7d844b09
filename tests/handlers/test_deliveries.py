"""A repeated platform delivery does nothing the second time, on every backend."""

from __future__ import annotations

from crm_core.models import Customer, Interaction
from handlers.reply import Command
from tests.conftest import TestBot


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
