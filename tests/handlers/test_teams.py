"""`team East …`: an admin sees and sets a team's service calendar (zone, holidays, triage)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from crm_core.models import AuditEntry, ServiceCalendar, Ticket
from handlers.reply import Command
from tests.conftest import FakeClock, TestBot


def _calendar(testbot: TestBot) -> tuple[str | None, str | None, str | None]:
    (row,) = testbot.query(select(ServiceCalendar))
    return row.timezone, row.country, row.triage_target


def test_admin_sets_zone_holidays_and_triage_and_sees_them(testbot: TestBot) -> None:
    shown = testbot("admin", "team East")
    assert shown.status == "ok" and shown.title == "Team East: service calendar"
    fields = {f.label: f.value for f in shown.fields}
    assert fields == {
        "Time zone": "UTC (the manager's)",
        "Public holidays": "none",
        "Triage channel": "none (the team's managers are told)",
        "Business hours": "Mon–Fri 09:00–18:00",
    }
    assert testbot.count(ServiceCalendar) == 0
    assert testbot("admin", "team east zone Asia/Shanghai").status == "ok"
    assert testbot("admin", "team East holidays cn").status == "ok"
    # The same value again writes no second audit entry.
    assert testbot("admin", "team East holidays CN").status == "ok"
    # In a Slack channel: the channel picked from the list arrives as a mention.
    set_triage = testbot("admin", "team East triage <#C0TRIAGE|triage-east>")
    assert set_triage.text == "Set the triage channel of East."
    assert _calendar(testbot) == ("Asia/Shanghai", "CN", "slack:C0TRIAGE")
    fields = {f.label: f.value for f in testbot("admin", "team East").fields}
    assert fields["Time zone"] == "Asia/Shanghai" and fields["Public holidays"] == "CN"
    assert fields["Triage channel"] == "slack:C0TRIAGE"
    # `here` in a Telegram group names that group.
    here = testbot.dispatcher.dispatch(
        Command(testbot.users["admin"], "telegram", text="team East triage here", chat_id="-1005")
    )
    assert here.status == "ok"
    assert _calendar(testbot)[2] == "telegram:-1005"
    for clear in ("team East zone none", "team East holidays none", "team East triage none"):
        assert testbot("admin", clear).status == "ok"
    assert _calendar(testbot) == (None, None, None)
    audits = testbot.rows(
        select(AuditEntry.action).where(AuditEntry.entity_type == "service_calendars")
    )
    assert len(audits) == 7 and {a for (a,) in audits} == {"service_calendar.update"}


def test_chinese(testbot: TestBot) -> None:
    testbot.add_user("wang", role="admin", team=None, locale="zh")
    assert testbot("wang", "团队 East 时区 Asia/Shanghai").text == "已设置 East 服务日历的时区。"
    assert testbot("wang", "团队 East 节假日 CN").status == "ok"
    shown = testbot("wang", "团队 East")
    assert {f.label: f.value for f in shown.fields}["公共节假日"] == "CN"
    # A zh-Hant admin types the Traditional words.
    testbot.add_user("lin", role="admin", team=None, locale="zh-Hant")
    assert testbot("lin", "團隊 East 時區 Asia/Taipei").status == "ok"
    assert testbot("lin", "團隊 East 節假日 無").status == "ok"
    assert _calendar(testbot)[:2] == ("Asia/Taipei", None)


def test_bad_input_and_non_admins_write_nothing(testbot: TestBot) -> None:
    cases = {
        "team East zone Mars/Olympus": "is not a time zone",
        "team East holidays XX": "is not a country with a holiday calendar",
        "team East triage #triage": "is only a name",
        "team East triage here": "needs a Slack channel or Telegram group",
        "team East triage slack:lowercase": "is not a channel",
        "team East zone": "Type `team East zone Asia/Shanghai`",
        "team Nowhere zone UTC": 'No team called "Nowhere"',
        "team": "Type `team East`",
    }
    for text, says in cases.items():
        reply = testbot("admin", text)
        assert reply.status == "error" and says in reply.text, (text, reply.text)
    for who in ("bob", "alice"):
        for text in ("team East", "team East holidays US"):
            reply = testbot(who, text)
            assert reply.status == "error" and "Only an admin" in reply.text
    assert testbot.count(ServiceCalendar) == 0
    assert (
        testbot.rows(select(AuditEntry.id).where(AuditEntry.entity_type == "service_calendars"))
        == []
    )


def test_a_new_zone_moves_open_tickets_due_times(testbot: TestBot, clock: FakeClock) -> None:
    assert clock() == datetime(2026, 11, 23, 15, tzinfo=UTC)  # Monday 15:00 UTC
    testbot("alice", "new customer Acme")
    testbot("alice", "ticket Acme: label printer offline, priority urgent")
    (before,) = testbot.query(select(Ticket.response_due_at))
    assert before == datetime(2026, 11, 23, 16, tzinfo=UTC)
    # 15:00 UTC is 23:00 in Shanghai: the hour starts at 09:00 Tuesday there (01:00 UTC).
    assert testbot("admin", "team East zone Asia/Shanghai").status == "ok"
    (after,) = testbot.query(select(Ticket.response_due_at))
    assert after == datetime(2026, 11, 24, 2, tzinfo=UTC)
