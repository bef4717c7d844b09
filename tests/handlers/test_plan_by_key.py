"""Keyed verbs may reuse generic plans for their transaction; everything else stays pinned."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event, text

from crm_core.db import unit_of_work
from crm_core.models import User
from crm_core.services.identities import link_identity
from handlers.gateway import Gateway
from handlers.reply import Command
from tests.conftest import TestBot

SET = "set_config('plan_cache_mode'"


@contextmanager
def plan_settings(engine: Engine) -> Iterator[list[tuple[str, str]]]:
    """(statement, plan_cache_mode in force when it ran) for each statement the block sends."""
    seen: list[tuple[str, str]] = []

    def after(conn, cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if "plan_cache_mode" in statement:
            seen.append((statement, ""))
            return
        # On the same connection and in the same transaction as the statement just run (a
        # cursor of its own: the statement's rows are not fetched yet).
        own = conn.connection.dbapi_connection.cursor()
        own.execute("SELECT current_setting('plan_cache_mode')")
        row = own.fetchone()
        own.close()
        seen.append((statement, str(row[0])))

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", after)


def _pinned(engine: Engine) -> None:
    """Every pooled connection is back to the engine's setting once the command ended."""
    conns = [engine.connect() for _ in range(engine.pool.checkedin() or 1)]
    try:
        for conn in conns:
            mode = conn.execute(text("SHOW plan_cache_mode")).scalar_one()
            assert mode == "force_custom_plan"
            conn.rollback()
    finally:
        for conn in conns:
            conn.close()


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("plan_cache_mode is PostgreSQL's")
    return engine


def test_keyed_verbs_plan_generically_for_their_transaction_only(
    testbot: TestBot, pg: Engine
) -> None:
    """A card and a logged note: every statement after the first runs with `auto`; a report,
    a list, a search and a sentence keep `force_custom_plan` throughout; after each, the
    connection is back to the engine's setting."""
    assert testbot("alice", "new customer Acme Logistics").status == "ok"
    for line in ("customer #1", "customer Acme Logistics", "log call #1: asked for a quote"):
        with plan_settings(pg) as seen:
            reply = testbot("alice", line)
        assert reply.status == "ok", (line, reply.text)
        assert SET in seen[0][0], (line, seen[0])
        assert [mode for _, mode in seen[1:]] == ["auto"] * (len(seen) - 1), (line, seen)
        _pinned(pg)
    for line in ("report funnel", "customers", "find acme", "what did acme say", "pipeline"):
        with plan_settings(pg) as seen:
            testbot("alice", line)
        assert seen and not any(SET in s for s, _ in seen), (line, seen)
        assert {mode for _, mode in seen} == {"force_custom_plan"}, (line, seen)
        _pinned(pg)


def test_a_refused_keyed_command_and_a_duplicate_leave_the_connection_pinned(
    testbot: TestBot, pg: Engine
) -> None:
    """A card of a customer that is not there (rolled back) and a delivery seen before: the
    setting ends with the transaction either way."""
    assert testbot("alice", "customer #99").status == "error"
    _pinned(pg)
    assert testbot("alice", "new customer Acme").status == "ok"
    assert testbot("alice", "log call #1: one", delivery_id="d1").status == "ok"
    assert testbot("alice", "log call #1: one", delivery_id="d1").status == "duplicate"
    _pinned(pg)


def test_the_senders_lookup_and_the_keyed_command_share_one_transaction(
    testbot: TestBot, pg: Engine
) -> None:
    """Through `Gateway.dispatch_as` (the Slack path) the sender's look-up opens the
    transaction the command continues: the setting comes once, right after it, and holds for
    the rest; a list sets nothing."""
    with unit_of_work(testbot.session_factory) as session:
        alice = session.get(User, testbot.users["alice"])
        assert alice is not None
        link_identity(session, "slack", "U1", alice, actor_label="test")
    assert testbot("alice", "new customer Acme").status == "ok"
    gateway = Gateway(testbot.dispatcher, "slack")

    def run(line: str) -> list[tuple[str, str]]:
        with plan_settings(pg) as seen:
            done = gateway.dispatch_as(
                "U1", lambda uid: Command(uid, "slack", text=line, delivery_id=f"d:{line}")
            )
        assert done is not None and done[1].status == "ok", (line, done)
        return seen

    seen = run("customer #1")
    assert "identities" in seen[0][0] and SET in seen[1][0], seen
    assert sum(SET in s for s, _ in seen) == 1, seen
    assert {mode for _, mode in seen[2:]} == {"auto"}, seen
    _pinned(pg)
    seen = run("customers")
    assert "identities" in seen[0][0] and {mode for _, mode in seen} == {"force_custom_plan"}
    _pinned(pg)
