"""The adapters' front door: acting as a person, their customer choices, forms submitted once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from crm_core.db import unit_of_work
from crm_core.errors import NotFound
from crm_core.models import Interaction, Reminder, User
from handlers.gateway import Gateway
from handlers.reply import Command
from tests.conftest import TestBot


def _gateway(testbot: TestBot) -> Gateway:
    return Gateway(testbot.dispatcher, "console")


def test_acting_as_builds_the_dispatchers_context_and_refuses_the_inactive(
    testbot: TestBot,
) -> None:
    """The context carries the dispatcher's settings, currency and clock; inactive: NotFound."""
    gateway = _gateway(testbot)
    with gateway.acting_as(testbot.users["alice"]) as ctx:
        assert ctx.actor.external_id == "alice"
        assert ctx.clock is testbot.dispatcher.clock
        assert ctx.default_currency == testbot.dispatcher.default_currency
        assert ctx.settings is testbot.dispatcher.settings
    with unit_of_work(testbot.session_factory) as session:
        session.execute(update(User).where(User.external_id == "carol").values(active=False))
    with pytest.raises(NotFound), gateway.acting_as(testbot.users["carol"]):
        pass


def test_customer_choices_follow_the_one_recent_customers_rule(testbot: TestBot) -> None:
    """Recent: the customers one logged on last (the service's rule); none yet: the first few
    one may see; a query searches the visible ones only."""
    gateway = _gateway(testbot)
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Beta")
    testbot("dave", "new customer West Corp")
    first = [c.name for c in gateway.customer_choices(testbot.users["bob"], "", 5)]
    assert first == ["Acme", "Beta"]  # bob, a manager, has logged nothing: his team's book
    testbot("alice", "log call Beta: hello")
    recent = [c.name for c in gateway.customer_choices(testbot.users["alice"], "", 5)]
    assert recent[0] == "Beta" and set(recent) == {"Acme", "Beta"}
    assert gateway.customer_choices(testbot.users["alice"], "west", 5) == []
    # `#12` names one record, visible or not at all.
    assert [c.name for c in gateway.customer_choices(testbot.users["alice"], "#1")] == ["Acme"]
    assert gateway.customer_choices(testbot.users["alice"], "#3") == []


def test_a_refused_submit_may_come_again_and_a_repeated_one_writes_once(
    testbot: TestBot,
) -> None:
    """Field errors claim nothing; the same delivery submitted twice logs one note."""
    testbot("alice", "new customer Acme")
    gateway = _gateway(testbot)
    form = gateway.form("log")
    assert form is not None
    alice = testbot.users["alice"]
    command = Command(alice, "console", delivery_id="d1")
    bad = gateway.submit(form, command, {"customer": 1, "kind": "call", "notes": ""})
    assert set(bad.errors) == {"notes"} and bad.reply is None
    values = {"customer": 1, "kind": "call", "notes": "hi", "follow_up": date(2026, 12, 1)}
    done = gateway.submit(form, command, values)
    assert done.reply is not None and done.reply.status == "ok"
    assert any("Follow-up reminder set" in item for item in done.reply.items)
    again = gateway.submit(form, command, values)
    assert again.reply is not None and again.reply.status == "duplicate"
    assert testbot.count(Interaction) == 1 and testbot.count(Reminder) == 1


def test_checking_a_field_writes_nothing(testbot: TestBot) -> None:
    """A step's check runs the services' checks only: a complete, valid form writes nothing."""
    testbot("alice", "new customer Acme")
    gateway = _gateway(testbot)
    form = gateway.form("log")
    assert form is not None
    alice = testbot.users["alice"]
    values = {"customer": 1, "kind": "call", "notes": "hi", "follow_up": date(2020, 1, 1)}
    assert "in the past" in (gateway.check(form, alice, values, "follow_up") or "")
    values["follow_up"] = date(2026, 12, 1)
    assert gateway.check(form, alice, values, "follow_up") is None
    assert testbot.query(select(Interaction.id)) == [] and testbot.count(Reminder) == 0
