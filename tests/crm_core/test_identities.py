"""Platform identities: lookup, linking (audited), and finding a user by exact email."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from crm_core.db import unit_of_work
from crm_core.errors import Invalid
from crm_core.models import AuditEntry, User
from crm_core.services.identities import active_user_by_email, link_identity, user_for
from tests.conftest import TestBot


def test_link_lookup_relink_and_audit(testbot: TestBot) -> None:
    """Linking creates, relinking moves, repeating changes nothing; each change is audited."""
    with unit_of_work(testbot.session_factory) as s:
        alice = s.get(User, testbot.users["alice"])
        carol = s.get(User, testbot.users["carol"])
        assert alice and carol
        assert link_identity(s, "slack", "U1", alice, actor_label="slack")[1] is True
        assert link_identity(s, "slack", "U1", alice)[1] is False
        assert user_for(s, "slack", "U1") is alice
        assert user_for(s, "telegram", "U1") is None
        assert link_identity(s, "slack", "U1", carol, actor=alice)[1] is True
        assert user_for(s, "slack", "U1") is carol
        with pytest.raises(Invalid):
            link_identity(s, "slack", "  ", carol)
    actions = testbot.rows(select(AuditEntry.action, AuditEntry.actor_label))
    assert ("identity.create", "slack") in actions
    assert ("identity.update", None) in actions


def test_inactive_users_are_not_found(testbot: TestBot) -> None:
    """A deactivated user's link no longer identifies anyone."""
    with unit_of_work(testbot.session_factory) as s:
        alice = s.get(User, testbot.users["alice"])
        assert alice
        link_identity(s, "slack", "U1", alice)
        alice.active = False
    with testbot.session_factory() as s:
        assert user_for(s, "slack", "U1") is None


def test_email_must_match_exactly_one_active_user(testbot: TestBot) -> None:
    """Case-insensitive exact match; two users with one address, or none, give None."""
    with unit_of_work(testbot.session_factory) as s:
        s.execute(update(User).where(User.id == testbot.users["alice"]).values(email="a@x.com"))
        s.execute(update(User).where(User.id == testbot.users["bob"]).values(email="b@x.com"))
        s.execute(update(User).where(User.id == testbot.users["dave"]).values(email="b@x.com"))
    with testbot.session_factory() as s:
        found = active_user_by_email(s, " A@X.com ")
        assert found is not None and found.id == testbot.users["alice"]
        assert active_user_by_email(s, "b@x.com") is None
        assert active_user_by_email(s, "nobody@x.com") is None
        assert active_user_by_email(s, "") is None
        assert active_user_by_email(s, "x.com") is None
