"""The reminder verbs: remind (EN/ZH, others), reminders, done, snooze, cancel; the follow-up."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from crm_core.models import AuditEntry, Reminder, ReminderStatus
from tests.conftest import FakeClock, TestBot


def _rows(testbot: TestBot) -> list[Reminder]:
    return testbot.query(select(Reminder).order_by(Reminder.id))


def test_remind_me_shows_the_resolved_time_and_links_the_customer(testbot: TestBot) -> None:
    """`remind me tomorrow 3pm call Dana about Acme` in the user's zone, linked to Acme."""
    testbot.add_user("berlin", timezone="Europe/Berlin")
    testbot("berlin", "new customer Acme")
    reply = testbot("berlin", "remind me tomorrow 3pm call Dana about Acme")
    assert reply.status == "ok"
    assert "Reminder #1 set for 2026-11-24 15:00 (Europe/Berlin)" in reply.text
    assert [b.label for b in reply.buttons] == ["Change time", "Tomorrow 9:00", "Cancel"]
    (r,) = _rows(testbot)
    assert r.due_at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    assert r.text == "call Dana about Acme" and r.customer_id is not None
    assert r.explicit_time and r.created_by_id == r.owner_id == testbot.users["berlin"]
    assert testbot.query(select(AuditEntry.action))[-1] == "reminder.create"


def test_chinese_reminder(testbot: TestBot) -> None:
    """明天下午3点 in Shanghai is 07:00 UTC; the reply is in Chinese."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    reply = testbot("wei", "提醒我明天下午3点给Dana打电话")
    assert reply.status == "ok" and reply.text.startswith("已设置提醒 #1")
    (r,) = _rows(testbot)
    assert r.due_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC) and r.text == "给Dana打电话"
    assert testbot("wei", "提醒列表").title == "你的提醒（1）"


def test_no_clock_time_defaults_to_nine_and_says_so(testbot: TestBot) -> None:
    """A day without a time means 9:00, said in the reply, and is not an explicit time."""
    reply = testbot("alice", "remind me tomorrow call Dana")
    assert "2026-11-24 09:00" in reply.text and "9:00" in reply.text.split("\n")[1]
    assert not _rows(testbot)[0].explicit_time


def test_unreadable_time_is_refused_with_examples(testbot: TestBot) -> None:
    """Never a guessed time: the reply shows how to say it and nothing is written."""
    for line in ("remind me someday call Dana", "remind me", "提醒我 有空的时候 打电话"):
        reply = testbot("alice", line)
        assert reply.status == "error", line
        assert "tomorrow 3pm" in reply.text or "明天下午3点" in reply.text, line
    missing = testbot("alice", "remind me tomorrow 3pm")
    assert missing.status == "error" and "what to remind" in missing.text
    past = testbot("alice", "remind me 2020-01-01 10:00 call")
    assert past.status == "error"
    assert _rows(testbot) == []


def test_who_may_remind_whom(testbot: TestBot) -> None:
    """Reps remind themselves; a manager their team; an admin anyone."""
    refused = testbot("alice", "remind @carol tomorrow 9am call")
    assert refused.status == "error" and "can't set reminders for Carol" in refused.text
    assert testbot("bob", "remind @alice next tue 9:00 send the quote").status == "ok"
    assert testbot("bob", "remind @dave tomorrow 9am x").status == "error"
    assert testbot("admin", "remind @dave tomorrow 9am x").status == "ok"
    owners = [r.owner_id for r in _rows(testbot)]
    assert owners == [testbot.users["alice"], testbot.users["dave"]]
    # alice sees bob's reminder for her in her list and may finish it; carol may not touch it.
    assert "send the quote" in testbot("alice", "reminders").items[0]
    assert testbot("carol", "done #1").status == "error"
    assert testbot("alice", "done #1").status == "ok"


def test_list_snooze_done_cancel(testbot: TestBot) -> None:
    """The list has buttons; snooze reads durations and phrases; done and cancel are audited."""
    testbot("alice", "remind me in 2h call Dana")
    testbot("alice", "remind me friday 5pm send report")
    listing = testbot("alice", "reminders")
    assert listing.title == "Your reminders (2)" and len(listing.items) == 2
    assert [b.label for b in listing.buttons[:3]] == ["Done #1", "Snooze #1", "Cancel #1"]
    pick = testbot.press("alice", listing.buttons[1])
    assert pick.status == "info" and [b.label for b in pick.buttons] == [
        "1 hour later",
        "Tomorrow 9:00",
        "Next Monday 9:00",
    ]
    # due 17:00 (in 2h): 3h later counts from the due time, not from now (15:00).
    assert "from 2026-11-23 17:00 to 2026-11-23 20:00" in testbot("alice", "snooze #1 3h").text
    assert "2026-11-24 09:00" in testbot("alice", "snooze #1 tomorrow 9:00").text
    bad = testbot("alice", "snooze #1 whenever")
    assert bad.status == "error" and "tomorrow 3pm" in bad.text
    assert _rows(testbot)[0].due_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert testbot("alice", "done #1").status == "ok"
    assert testbot("alice", "done #1").status == "error"
    assert testbot("alice", "cancel #2").status == "ok"
    assert [r.status for r in _rows(testbot)] == [ReminderStatus.done, ReminderStatus.cancelled]
    assert testbot("alice", "reminders").status == "info"
    assert testbot("alice", "done twelve").status == "error"
    assert testbot("dave", "cancel #1").status == "error"
    actions = testbot.query(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "reminders")
        .order_by(AuditEntry.id)
    )
    assert actions == [
        "reminder.create",
        "reminder.create",
        "reminder.snooze",
        "reminder.snooze",
        "reminder.done",
        "reminder.cancel",
    ]


def test_snooze_never_moves_a_reminder_earlier(testbot: TestBot, clock: FakeClock) -> None:
    """`snooze #1 1h` on a reminder due tomorrow 15:00 moves it to 16:00 and says from what."""
    testbot("alice", "remind me tomorrow 3pm call Dana")
    reply = testbot("alice", "snooze #1 1h")
    assert reply.status == "ok"
    assert "moved from 2026-11-24 15:00 to 2026-11-24 16:00 (UTC)" in reply.text
    assert _rows(testbot)[0].due_at == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    # An overdue reminder: the length counts from now.
    testbot("alice", "remind me in 1h call Ed")
    clock.advance(hours=3)
    assert "to 2026-11-23 19:00" in testbot("alice", "snooze #2 1h").text
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "提醒我明天下午3点给Dana打电话")
    zh = testbot("wei", "推迟 #3 2小时")
    assert "已从 2026-11-25 15:00 改到 2026-11-25 17:00" in zh.text


def test_log_offers_a_follow_up_reminder(testbot: TestBot) -> None:
    """A note saying "f/u next Tue" gets a one-tap reminder linked to the customer."""
    testbot("alice", "new customer Acme")
    logged = testbot("alice", "log call Acme: Dana liked the demo, f/u next Tue")
    button = logged.buttons[-1]
    assert button.label == "Remind me 2026-12-01 09:00"
    made = testbot.press("alice", button)
    assert made.status == "ok", made.text
    (r,) = _rows(testbot)
    assert r.due_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC) and r.customer_id is not None
    assert r.text == "follow up with Acme" and not r.explicit_time
    plain = testbot("alice", "log call Acme: all good")
    assert [b.label for b in plain.buttons] == ["Undo", "Open"]


def test_every_month_on_the_last_day_is_stored_and_read_back(testbot: TestBot) -> None:
    """The last-day-of-month schedule survives storage (monthly:-1) and lists back."""
    reply = testbot("alice", "remind me every month on the last day close the books")
    assert reply.status == "ok", reply.text
    (r,) = _rows(testbot)
    assert r.recurrence == "monthly:-1@09:00"
    assert r.due_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    listed = testbot("alice", "reminders")
    assert "last day" in " ".join([listed.text, *listed.items])


def test_a_handle_without_its_at_names_the_person(testbot: TestBot) -> None:
    """`remind carol friday ...` from her manager is carol's reminder, not bob's about carol."""
    reply = testbot("bob", "remind carol friday 9am update the forecast")
    assert reply.status == "ok", reply.text
    rows = testbot.rows(select(Reminder.owner_id, Reminder.text))
    assert rows == [(testbot.users["carol"], "update the forecast")]
    # A word that is nobody's handle stays the reminder's first word.
    assert testbot("bob", "remind me friday 9am call Dana").status == "ok"
    assert testbot("bob", "remind tomorrow 9am quarterly review").status == "ok"
    texts = testbot.query(select(Reminder.text).where(Reminder.owner_id == testbot.users["bob"]))
    assert sorted(texts) == ["call Dana", "quarterly review"]
