"""An admin and someone else's digest: `digest @wei` shows it, `digest @wei …` sets it, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, SchedulePrefs
from tests.conftest import TestBot


@pytest.mark.parametrize("platform", ["console", "slack", "telegram"])
def test_admin_sees_and_sets_anothers_digest(testbot: TestBot, platform: str) -> None:
    """`digest @wei` answers wei's settings card (it was a usage error); `digest @wei at 9:15`
    and `digest @wei off` change them, each audited with the admin as the actor."""
    testbot.platform = platform
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    entries = testbot.count(AuditEntry)  # the people's own creation
    shown = testbot("admin", "digest @wei")
    assert shown.status == "ok", shown.text
    assert shown.title == "Settings: Wei"
    assert {f.label: f.value for f in shown.fields}["Digest"] == "weekdays at 08:30"
    assert testbot.count(AuditEntry) == entries
    at = testbot("admin", "digest @wei at 9:15")
    assert {f.label: f.value for f in at.fields}["Digest"] == "weekdays at 09:15"
    testbot("admin", "digest @wei off")
    assert testbot.rows(select(SchedulePrefs.digest_minute, SchedulePrefs.digest_off)) == [
        (555, True)
    ]
    actors = testbot.query(
        select(AuditEntry.actor_id).where(AuditEntry.action == "digest.settings")
    )
    assert actors == [testbot.users["admin"]] * 2


def test_others_may_not_and_bad_input_writes_nothing(testbot: TestBot) -> None:
    """A manager or a rep naming someone else is refused with what to type; an admin's bad
    time says the working hours; nothing is written either way."""
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    entries = testbot.count(AuditEntry)
    for who in ("bob", "alice"):
        reply = testbot(who, "digest @wei off")
        assert reply.status == "error" and "`settings`" in reply.text, reply.text
    late = testbot("admin", "digest @wei at 23:00")
    assert late.status == "error" and "08:00" in late.text, late.text
    odd = testbot("admin", "digest @wei sometimes")
    assert odd.status == "error" and "`digest at 8:30`" in odd.text, odd.text
    assert testbot.count(SchedulePrefs) == 0 and testbot.count(AuditEntry) == entries
