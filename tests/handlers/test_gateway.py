"""The adapters' front door: acting as a person, their customer choices, forms submitted once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, func, select, update

from crm_core.db import unit_of_work
from crm_core.errors import NotFound
from crm_core.models import Customer, Interaction, Reminder, User
from crm_core.services.identities import link_identity
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


def test_dispatch_as_identifies_and_runs_in_one_unit_of_work(testbot: TestBot) -> None:
    """The linked, active sender's command runs as them (a write commits, a repeat is a
    duplicate); an unlinked or inactive account runs nothing and gets None."""
    gateway = _gateway(testbot)
    with unit_of_work(testbot.session_factory) as session:
        alice = session.get(User, testbot.users["alice"])
        carol = session.get(User, testbot.users["carol"])
        assert alice is not None and carol is not None
        link_identity(session, "console", "C-ALICE", alice, actor_label="test")
        link_identity(session, "console", "C-CAROL", carol, actor_label="test")
        session.execute(update(User).where(User.external_id == "carol").values(active=False))
    asked: list[int] = []

    def command(user_id: int) -> Command:
        asked.append(user_id)
        return Command(user_id, "console", text="new customer Acme", delivery_id="d1")

    done = gateway.dispatch_as("C-ALICE", command)
    assert done is not None
    person, reply = done
    assert person.handle == "alice" and asked == [testbot.users["alice"]]
    assert reply.status == "ok"
    again = gateway.dispatch_as("C-ALICE", command)
    assert again is not None and again[1].status == "duplicate"
    assert gateway.dispatch_as("C-CAROL", command) is None
    assert gateway.dispatch_as("C-NOBODY", command) is None
    assert len(asked) == 2  # nothing ran for the inactive or the unknown
    with unit_of_work(testbot.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_held_look_up_gives_its_sender_to_the_command_that_follows(testbot: TestBot) -> None:
    """An event's sender look-up and its command on one held connection read the sender's
    row once; the command still runs as them, and a command for someone else reads its own."""
    gateway = _gateway(testbot)
    with unit_of_work(testbot.session_factory) as session:
        alice = session.get(User, testbot.users["alice"])
        assert alice is not None
        link_identity(session, "console", "C-ALICE", alice, actor_label="test")
    engine = testbot.session_factory.kw["bind"]
    reads: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        if "users.locale_auto" in sql:  # a whole User row
            reads.append(sql)

    event.listen(engine, "before_cursor_execute", statement)
    try:
        held = gateway.hold()
        person = gateway.identify("C-ALICE", held=held)
        assert person is not None
        command = Command(person.user_id, "console", text="new customer Acme", delivery_id="h1")
        reply, out = gateway.dispatch_rendered(command, lambda r, _issue: r.status, held=held)
        held.close()
        assert reply.status == "ok" and out == "ok"
        assert len(reads) == 1, reads
        reads.clear()
        held = gateway.hold()
        assert gateway.identify("C-ALICE", held=held) is not None
        bob = Command(testbot.users["bob"], "console", text="customers", delivery_id="h2")
        reply, _ = gateway.dispatch_rendered(bob, lambda r, _issue: r.status, held=held)
        held.close()
        assert reply.status in ("ok", "info") and len(reads) == 2, reads
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    with unit_of_work(testbot.session_factory) as session:
        (made,) = session.scalars(select(Customer)).all()
        assert made.owner_id == testbot.users["alice"]
