"""Linking an account with a one-time code runs again after a deadlock (PostgreSQL): the
account is linked once, the code used once, and a wrong code is counted once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from crm_core import db
from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, Identity, LinkAttempt, LinkCode, User
from handlers.gateway import Gateway, Person
from tests.conftest import TestBot

DEADLOCK = "DO $$BEGIN RAISE EXCEPTION USING ERRCODE='40P01'; END$$"


@pytest.fixture
def pg(testbot: TestBot, engine: Engine) -> TestBot:
    """The test bot, on PostgreSQL only (the deadlock is raised by the server)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("deadlocks are PostgreSQL's")
    return testbot


class DeadlockOnce:
    """Replaces the first statement starting with `prefix` by one PostgreSQL aborts with
    40P01 (deadlock_detected), as it would the victim of a real deadlock there."""

    def __init__(self, engine: Engine, prefix: str) -> None:
        self.engine, self.prefix, self.fired = engine, prefix, 0

    def __call__(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> tuple[str, Any]:
        if not self.fired and statement.startswith(self.prefix):
            self.fired += 1
            return DEADLOCK, None
        return statement, params

    def __enter__(self) -> DeadlockOnce:
        event.listen(self.engine, "before_cursor_execute", self, retval=True)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self)


def _code(pg: TestBot) -> str:
    reply = pg("admin", "link code for alice")
    found = re.search(r": ([A-Z0-9]{8})\n", reply.text)
    assert found is not None, reply.text
    return found.group(1)


def test_a_redemption_hit_by_a_deadlock_runs_again_and_links_once(
    pg: TestBot, engine: Engine
) -> None:
    """The deadlock aborts the redemption after the code row was locked: it runs again from
    the start and links the account once (one identity, one audit entry, the code used)."""
    code = _code(pg)
    gateway = Gateway(pg.dispatcher, "telegram")
    before = db.RETRIES["deadlock"]
    with DeadlockOnce(engine, "INSERT INTO identities") as deadlock:
        found = gateway.redeem_link_code("4242", code, "en")
    assert deadlock.fired == 1
    assert isinstance(found, Person) and found.handle == "alice", found
    assert db.RETRIES["deadlock"] == before + 1
    assert pg.query(select(Identity.platform_user_id).where(Identity.platform == "telegram")) == [
        "4242"
    ]
    assert pg.query(select(AuditEntry.action).where(AuditEntry.action == "identity.link")) == [
        "identity.link"
    ]
    assert all(pg.query(select(LinkCode.used_at)))
    # The code is spent: a second redemption is refused.
    again = gateway.redeem_link_code("4343", code, "en")
    assert isinstance(again, str)


def test_a_wrong_code_whose_count_hits_a_deadlock_is_counted_once(
    pg: TestBot, engine: Engine
) -> None:
    """The wrong code's count (its own transaction) is aborted by a deadlock: the redemption
    runs again, the count is written once, and the person hears the code is wrong."""
    _code(pg)
    gateway = Gateway(pg.dispatcher, "telegram")
    with DeadlockOnce(engine, "INSERT INTO link_attempts") as deadlock:
        found = gateway.redeem_link_code("4242", "WRONGCOD", "en")
    assert deadlock.fired == 1
    assert isinstance(found, str) and "code" in found.lower(), found
    assert pg.query(select(LinkAttempt.failures)) == [1]
    assert pg.query(select(Identity.id).where(Identity.platform == "telegram")) == []


def test_linking_by_email_hit_by_a_deadlock_runs_again_and_links_once(
    pg: TestBot, engine: Engine
) -> None:
    """Slack's link by email address: the same retry, one identity and one audit entry."""
    with unit_of_work(pg.session_factory) as session:
        alice = session.scalar(select(User).where(User.external_id == "alice"))
        assert alice is not None
        alice.email = "alice@example.com"
    gateway = Gateway(pg.dispatcher, "slack")
    before = db.RETRIES["deadlock"]
    with DeadlockOnce(engine, "INSERT INTO identities") as deadlock:
        found = gateway.link_by_email("UALICE", "Alice@example.com")
    assert deadlock.fired == 1
    assert found is not None and found.handle == "alice"
    assert db.RETRIES["deadlock"] == before + 1
    assert pg.query(select(Identity.platform_user_id).where(Identity.platform == "slack")) == [
        "UALICE"
    ]
    audited = pg.query(select(AuditEntry.action).where(AuditEntry.action == "identity.create"))
    assert audited == ["identity.create"]
