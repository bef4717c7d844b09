"""The webhook verbs: `webhook add`, `webhooks`, `webhook remove` (admins)."""

from __future__ import annotations

import re

from sqlalchemy import select

from crm_core.models import AuditEntry, WebhookDelivery
from tests.conftest import TestBot


def _secret(text: str) -> str:
    found = re.search(r"whsec_[A-Za-z0-9_-]+", text)
    assert found, text
    return found.group(0)


def test_webhook_verbs_are_admin_only_checked_and_audited(testbot: TestBot) -> None:
    """add checks the URL and events; remove drops what is owed; both are audited, no secret."""
    assert "Only an admin" in testbot("bob", "webhook add https://h.example events deal.won").text
    bad_url = testbot("admin", "webhook add ftp://h.example events deal.won")
    assert bad_url.status == "error" and "https://" in bad_url.text
    bad_event = testbot("admin", "webhook add https://h.example events deal.sold")
    assert bad_event.status == "error" and "deal.sold" in bad_event.text
    assert testbot("admin", "webhook add https://h.example").status == "error"
    assert "No webhooks" in testbot("admin", "webhooks").text
    added = testbot("admin", "添加网络钩子 https://h.example/x 事件 customer.created")
    assert added.status != "error", added.text
    secret = _secret(added.text)
    testbot("alice", "new customer Acme")
    assert testbot.count(WebhookDelivery) == 1
    removed = testbot("admin", "webhook remove #1")
    assert removed.status != "error", removed.text
    assert testbot("admin", "webhook remove #1").status == "error"
    testbot("alice", "new customer Globex")
    assert testbot.rows(select(WebhookDelivery.status)) == [("dropped",)]
    entries = testbot.rows(
        select(AuditEntry.action, AuditEntry.changes).where(AuditEntry.entity_type == "webhooks")
    )
    assert [a for a, _ in entries] == ["webhook.add", "webhook.remove"]
    assert secret not in repr(entries)


def test_a_paused_webhook_is_listed_as_such_and_only_an_admin_resumes_it(
    testbot: TestBot,
) -> None:
    """Paused (as `crmbot restore` leaves them): `webhooks` says so and how to resume; a
    manager may not resume it, an admin may, once; both are audit entries."""
    from crm_core.db import unit_of_work
    from crm_core.services.webhooks import pause_all, paused_ids

    testbot("admin", "webhook add https://h.example/x events customer.created")
    with unit_of_work(testbot.session_factory) as s:
        assert pause_all(s, actor_label="restore") == [1]
    with unit_of_work(testbot.session_factory) as s:
        assert pause_all(s, actor_label="restore") == []  # already paused
    listed = testbot("admin", "webhooks").items[0]
    assert "Paused" in listed and "`webhook resume #1`" in listed
    assert "Only an admin" in testbot("bob", "webhook resume #1").text
    assert testbot("admin", "webhook resume #2").status == "error"
    resumed = testbot("admin", "恢复网络钩子 #1")
    assert resumed.status != "error", resumed.text
    assert "Paused" not in testbot("admin", "webhooks").items[0]
    assert "not paused" in testbot("admin", "webhook resume #1").text
    with testbot.session_factory() as s:
        assert paused_ids(s) == set()
    entries = testbot.rows(
        select(AuditEntry.action, AuditEntry.actor_label).where(
            AuditEntry.entity_type == "webhooks"
        )
    )
    assert entries == [
        ("webhook.add", None),
        ("webhook.pause", "restore"),
        ("webhook.resume", None),
    ]
