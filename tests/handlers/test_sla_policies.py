"""`sla Support …`: an admin sees and sets a team's SLA targets per priority."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from crm_core.models import AuditEntry, SlaPolicy, Ticket
from tests.conftest import FakeClock, TestBot


def _dues(testbot: TestBot) -> list[tuple[str, datetime | None, datetime | None]]:
    return [
        (str(s), r, d)
        for s, r, d in testbot.rows(
            select(Ticket.subject, Ticket.response_due_at, Ticket.resolution_due_at).order_by(
                Ticket.id
            )
        )
    ]


def test_admin_sees_defaults_sets_a_priority_and_sees_it(testbot: TestBot) -> None:
    shown = testbot("admin", "sla East")
    assert shown.status == "ok" and shown.title == "Team East: SLA targets"
    assert {f.label: f.value for f in shown.fields} == {
        "urgent": "first response 1h · resolution 4h (default)",
        "high": "first response 4h · resolution 24h (default)",
        "normal": "first response 8h · resolution 48h (default)",
        "low": "first response 24h · resolution 120h (default)",
    }
    done = testbot("admin", "sla east high 2h 12h")
    assert done.status == "ok", done.text
    assert done.text.startswith("East's high tickets now get a first response within 2h")
    fields = {f.label: f.value for f in done.fields}
    assert fields["high"] == "first response 2h · resolution 12h"
    assert fields["urgent"] == "first response 1h · resolution 4h (default)"
    assert testbot("admin", "sla East urgent 30m 3h30m").status == "ok"
    assert testbot("admin", "sla East low 2d 6d").status == "ok"
    rows = testbot.rows(
        select(SlaPolicy.priority, SlaPolicy.first_response_minutes, SlaPolicy.resolution_minutes)
    )
    assert sorted(rows) == [("high", 120, 720), ("low", 2880, 8640), ("urgent", 30, 210)]
    # The same targets again: said so, nothing written, nothing audited.
    assert testbot("admin", "sla East high 120m 12h").text == (
        "East's high targets already are 2h and 12h."
    )
    audits = testbot.rows(select(AuditEntry.action).where(AuditEntry.entity_type == "sla_policies"))
    assert audits == [("sla_policy.update",)] * 3


def test_chinese(testbot: TestBot) -> None:
    testbot.add_user("wang", role="admin", team=None, locale="zh")
    done = testbot("wang", "服务时效 East 高 2小时 12小时")
    assert done.status == "ok", done.text
    assert done.title == "团队 East：SLA 时效"
    assert {f.label: f.value for f in done.fields}["高"] == "首次响应 2小时 · 解决 12小时"
    # A zh-Hant admin types Traditional words.
    testbot.add_user("lin", role="admin", team=None, locale="zh-Hant")
    assert testbot("lin", "服務時效 East 緊急 30分鐘 2小時").status == "ok"
    assert sorted(testbot.rows(select(SlaPolicy.priority, SlaPolicy.first_response_minutes))) == [
        ("high", 120),
        ("urgent", 30),
    ]
    # One target only: the usage line in Chinese, nothing written.
    audited = testbot.count(AuditEntry)
    one = testbot("wang", "服务时效 East 低 2小时")
    assert one.status != "ok" and one.text.startswith("请输入两个时效"), one.text
    assert testbot.count(SlaPolicy) == 2 and testbot.count(AuditEntry) == audited


def test_a_team_whose_name_holds_a_priority_word_is_still_shown(testbot: TestBot) -> None:
    testbot.add_user("kim", team="Key High Touch")
    shown = testbot("admin", "sla Key High Touch")
    assert shown.status == "ok" and shown.title == "Team Key High Touch: SLA targets", shown.text


def test_bad_input_and_non_admins_write_nothing(testbot: TestBot) -> None:
    audited = testbot.count(AuditEntry)
    for who, text, expect in (
        ("bob", "sla East high 2h 12h", "Only an admin"),
        ("bob", "sla East", "Only an admin"),
        ("admin", "sla", "Type `sla Support`"),
        ("admin", "sla East high", "Type both targets"),
        # One target, or three: a mistyped setting, not a team called "East high 2h".
        ("admin", "sla East high 2h", "Type both targets"),
        ("admin", "sla East urgent 30m 4h 1d", "Type both targets"),
        ("admin", "sla East high soon 12h", '"soon" is not a target'),
        ("admin", "sla East high 2x 12h", '"2x" is not a target'),
        ("admin", "sla East high 12h 2h", "can't come after the resolution"),
        ("admin", "sla East high 0h 2h", "can't be used"),
        ("admin", "sla East high 2h 9999h", "can't be used"),
        ("admin", "sla Nowhere high 2h 12h", 'No team called "Nowhere"'),
    ):
        reply = testbot(who, text)
        assert reply.status != "ok" and expect in reply.text, (text, reply.text)
    assert testbot.count(SlaPolicy) == 0
    assert testbot.count(AuditEntry) == audited


def test_a_policy_change_mid_ticket_moves_open_tickets_and_applies_to_new_ones(
    testbot: TestBot, clock: FakeClock
) -> None:
    assert clock() == datetime(2026, 11, 23, 15, tzinfo=UTC)  # Monday 15:00 UTC, East in UTC
    testbot("alice", "new customer Acme")
    testbot("alice", "ticket Acme: label printer offline, priority high")
    testbot("alice", "ticket Acme: invoice address wrong, priority normal")
    # High by default: 4 business hours -> Tuesday 10:00; 24 -> Thursday 12:00 (9 h a day).
    assert _dues(testbot)[0] == (
        "label printer offline",
        datetime(2026, 11, 24, 10, tzinfo=UTC),
        datetime(2026, 11, 26, 12, tzinfo=UTC),
    )
    normal_before = _dues(testbot)[1]
    clock.advance(hours=2)  # 17:00: two business hours have run
    assert testbot("admin", "sla East high 1h 12h").status == "ok"
    # Counted from creation: the first response was due at 16:00 (missed already), the
    # resolution 12 business hours on: 3 on Monday, 9 on Tuesday.
    high = _dues(testbot)[0]
    assert high == (
        "label printer offline",
        datetime(2026, 11, 23, 16, tzinfo=UTC),
        datetime(2026, 11, 24, 18, tzinfo=UTC),
    )
    # The sweep sees the breach at once; the normal ticket did not move.
    (next_alert,) = testbot.query(
        select(Ticket.next_alert_at).where(Ticket.subject == "label printer offline")
    )
    assert next_alert is not None and next_alert <= clock()
    assert _dues(testbot)[1] == normal_before
    assert "first response overdue" in testbot("alice", "tickets").items[0]
    # A new high ticket gets the team's targets: 17:00 + 1 h -> 18:00.
    testbot("alice", "ticket Acme: scanner offline, priority high")
    assert _dues(testbot)[2][1] == datetime(2026, 11, 23, 18, tzinfo=UTC)
    # A priority change to high mid-ticket reads the team's targets too.
    testbot("alice", "priority #2 high")
    assert _dues(testbot)[1][1] == datetime(2026, 11, 23, 16, tzinfo=UTC)
