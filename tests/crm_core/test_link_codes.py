"""Link codes: one use, 15 minutes, admin-made, and a lockout against guessing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.errors import CrmError, Invalid, PermissionDenied
from crm_core.models import AuditEntry, Identity, LinkCode, User
from crm_core.services.link_codes import (
    ALPHABET,
    LinkLocked,
    create_link_code,
    linked_user,
    redeem_link_code,
)
from tests.conftest import FakeClock, TestBot


def _code(factory: sessionmaker[Session], bot: TestBot, actor: str, target: str, now) -> str:
    with unit_of_work(factory) as session:
        return create_link_code(
            session,
            session.get_one(User, bot.users[actor]),
            session.get_one(User, bot.users[target]),
            now=now,
        )


def _redeem(factory: sessionmaker[Session], code: str, who: str, now) -> User | CrmError:
    """Redeem the way an adapter does: one unit of work that rolls back on the error."""
    try:
        with unit_of_work(factory) as session:
            user = redeem_link_code(session, "telegram", who, code, now=now)
            session.flush()
            session.expunge(user)
            return user
    except CrmError as exc:
        return exc


def test_good_code_links_once(testbot: TestBot, clock: FakeClock) -> None:
    """A code links the account, is audited, stored hashed, and does not work twice."""
    factory = testbot.session_factory
    code = _code(factory, testbot, "admin", "alice", clock())
    assert len(code) == 8 and set(code) <= set(ALPHABET)
    assert code not in testbot.query(select(LinkCode.code_hash))
    user = _redeem(factory, f" {code[:4].lower()}-{code[4:]} ", "777", clock())
    assert isinstance(user, User) and user.external_id == "alice"
    with factory() as session:
        assert linked_user(session, "telegram", "777").external_id == "alice"  # type: ignore[union-attr]
        assert linked_user(session, "telegram", "778") is None
    assert testbot.count(Identity) == 1
    assert "identity.link" in testbot.query(select(AuditEntry.action))
    again = _redeem(factory, code, "888", clock())
    assert isinstance(again, Invalid) and again.key == "error.link_code_bad"


def test_expired_code_is_refused(testbot: TestBot, clock: FakeClock) -> None:
    """After 15 minutes the code no longer works."""
    code = _code(testbot.session_factory, testbot, "admin", "bob", clock())
    late = _redeem(testbot.session_factory, code, "9", clock() + timedelta(minutes=15))
    assert isinstance(late, Invalid)
    assert testbot.count(Identity) == 0


def test_only_admins_make_codes(testbot: TestBot, clock: FakeClock) -> None:
    """A manager cannot make a code, even for their own team."""
    with pytest.raises(PermissionDenied):
        _code(testbot.session_factory, testbot, "bob", "alice", clock())


def test_guessing_locks_the_account(testbot: TestBot, clock: FakeClock) -> None:
    """Five wrong codes lock linking for 30 minutes, even for a right code; others are free."""
    factory = testbot.session_factory
    code = _code(factory, testbot, "admin", "carol", clock())
    for _ in range(5):
        assert isinstance(_redeem(factory, "WRONGONE", "666", clock()), Invalid)
    locked = _redeem(factory, code, "666", clock())
    assert isinstance(locked, LinkLocked) and locked.params["minutes"] == 30
    # Another account is not affected by the attacker's lockout.
    other = _redeem(factory, code, "667", clock())
    assert isinstance(other, User)


def test_lockout_ends_and_old_failures_expire(testbot: TestBot, clock: FakeClock) -> None:
    """Wrong codes spread over more than 15 minutes do not add up; a lockout ends."""
    factory = testbot.session_factory
    for _ in range(4):
        _redeem(factory, "WRONGONE", "5", clock())
    later = clock() + timedelta(minutes=16)
    for _ in range(4):
        assert isinstance(_redeem(factory, "WRONGONE", "5", later), Invalid)
    _redeem(factory, "WRONGONE", "5", later)
    assert isinstance(_redeem(factory, "WRONGONE", "5", later), LinkLocked)
    after = later + timedelta(minutes=30)
    code = _code(factory, testbot, "admin", "dave", after)
    assert isinstance(_redeem(factory, code, "5", after), User)
