"""The digest's Done buttons: one per reminder shown first, each naming the one it closes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from crm_core.models import Reminder, ReminderStatus
from tests.conftest import FakeClock, TestBot


def test_each_due_reminder_gets_its_own_labelled_done(testbot: TestBot, clock: FakeClock) -> None:
    """Four due today: Done #1, #2, #3 (no more), and pressing Done #2 closes #2 only."""
    clock.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    for when in ("1pm", "2pm", "3pm", "4pm"):
        assert testbot("alice", f"remind me today {when} call {when}").status == "ok"
    reply = testbot("alice", "digest")
    done = [b for b in reply.buttons if (b.payload.get("text") or "").startswith("done #")]
    assert [(b.label, b.payload["text"]) for b in done] == [
        ("Done #1", "done #1"),
        ("Done #2", "done #2"),
        ("Done #3", "done #3"),
    ]
    assert testbot.press("alice", done[1]).status == "ok"
    statuses = testbot.query(select(Reminder.status).order_by(Reminder.id))
    assert statuses == [ReminderStatus.pending, ReminderStatus.done] + [ReminderStatus.pending] * 2
