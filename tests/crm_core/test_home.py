"""The personal dashboard, follow-ups and captured notes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import Invalid, NotFound
from crm_core.models import Customer, Reminder, ReminderStatus, User
from crm_core.services.captures import captured_note
from crm_core.services.followups import add_follow_up
from crm_core.services.home import home
from crm_core.stages import DEFAULT_STAGES, Pipeline
from handlers.reply import Command
from tests.conftest import START, FakeClock, TestBot


def ctx_for(s, testbot: TestBot, who: str, clock: FakeClock) -> Ctx:  # type: ignore[no-untyped-def]
    """A context for one testbot user."""
    user = s.get(User, testbot.users[who])
    return Ctx(s, user, Pipeline(DEFAULT_STAGES), clock=clock)


def test_home_shows_my_reminders_deals_and_customers(testbot: TestBot, clock: FakeClock) -> None:
    """Only my reminders due today, my open deals by stage, customers I logged on first."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Beta")
    testbot("carol", "new customer Gamma")
    testbot("alice", "new deal Acme: Fleet 10k stage proposal")
    testbot("alice", "new deal Beta: Lost one 5k")
    testbot("alice", "move Lost one to lost: price")
    testbot("alice", "log call Beta: hi")
    with unit_of_work(testbot.session_factory) as s:
        alice = testbot.users["alice"]
        for hours, status in (
            (2, ReminderStatus.pending),
            (30, ReminderStatus.pending),
            (1, ReminderStatus.done),
        ):
            s.add(
                Reminder(
                    owner_id=alice,
                    due_at=START + timedelta(hours=hours),
                    text=f"r{hours}",
                    status=status,
                )
            )
        s.add(Reminder(owner_id=testbot.users["carol"], due_at=START, text="not mine"))
    with unit_of_work(testbot.session_factory) as s:
        data = home(ctx_for(s, testbot, "alice", clock))
        assert [r.text for r in data.reminders] == ["r2"]
        assert {k: [d.title for d, _ in v] for k, v in data.deals.items()} == {
            "proposal": ["Fleet"]
        }
        assert [c.name for c in data.customers] == ["Beta", "Acme"]


def test_follow_up_is_a_pending_reminder_at_nine_local(testbot: TestBot, clock: FakeClock) -> None:
    """A day becomes 09:00 in the user's zone; the past and others' customers are refused."""
    testbot("alice", "new customer Acme")
    testbot("dave", "new customer West Co")
    with unit_of_work(testbot.session_factory) as s:
        ctx = ctx_for(s, testbot, "alice", clock)
        acme = s.query(Customer).filter_by(name="Acme").one()
        west = s.query(Customer).filter_by(name="West Co").one()
        reminder = add_follow_up(ctx, acme, date(2026, 11, 30), "Follow up")
        assert reminder.due_at.hour == 9 and reminder.status == ReminderStatus.pending
        today = add_follow_up(ctx, acme, START.date(), "Today")
        assert today.due_at == START  # 09:00 has passed: due now
        with pytest.raises(Invalid):
            add_follow_up(ctx, acme, date(2026, 1, 1), "Late")
        with pytest.raises(NotFound):
            add_follow_up(ctx, west, date(2026, 12, 1), "Not mine")


def test_captured_note_by_key_respects_visibility(testbot: TestBot, clock: FakeClock) -> None:
    """The note logged under a key is found by its author's team, not by another team."""
    testbot("alice", "new customer Acme")
    testbot.dispatcher.dispatch(
        Command(testbot.users["alice"], "slack", text="log chat Acme: hi", idempotency_key="k1")
    )
    with unit_of_work(testbot.session_factory) as s:
        assert captured_note(ctx_for(s, testbot, "bob", clock), "k1") is not None
        assert captured_note(ctx_for(s, testbot, "dave", clock), "k1") is None
        assert captured_note(ctx_for(s, testbot, "alice", clock), "k2") is None
