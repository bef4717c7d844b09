"""`link @account user`: admins link a chat account on their own platform to a CRM user."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, Identity
from handlers.verbs.links import platform_id
from tests.conftest import TestBot


def test_mentions_and_plain_ids_are_read() -> None:
    """Slack mentions with or without a name, @id and a bare id; anything else is refused."""
    assert platform_id("<@U123|dana>") == "U123"
    assert platform_id("<@U123>") == "U123"
    assert platform_id("@12345") == "12345"
    assert platform_id("<#C1|general>") is None
    assert platform_id("two words") is None


def test_admin_links_and_the_link_is_audited(testbot: TestBot) -> None:
    """The link is made on the command's platform, once; relinking says nothing changed."""
    testbot.platform = "slack"
    done = testbot("admin", "link <@U9|erin> carol")
    assert done.status == "ok" and "Carol" in done.text
    again = testbot("admin", "link @U9 carol")
    assert "already linked" in again.text
    rows = testbot.rows(select(Identity.platform, Identity.platform_user_id, Identity.user_id))
    assert rows == [("slack", "U9", testbot.users["carol"])]
    assert testbot.query(
        select(AuditEntry.action).where(AuditEntry.entity_type == "identities")
    ) == ["identity.create"]


def test_bad_input_says_what_to_type_and_writes_nothing(testbot: TestBot) -> None:
    """A rep, a missing user, an unknown user or a non-mention: clear replies, no rows."""
    assert "Only an admin" in testbot("alice", "link @U9 carol").text
    assert "link @someone alice" in testbot("admin", "link @U9").text
    assert testbot("admin", "link @U9 nobody").status == "error"
    assert "not a chat account" in testbot("admin", "link <#C1> carol").text
    assert testbot.count(Identity) == 0
