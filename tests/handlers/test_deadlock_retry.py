"""Two workers' commands deadlocking on PostgreSQL: the one the database picks runs again,
and each command writes its rows and its audit entry once."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import OperationalError

from crm_core import db
from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, Deal, StageChange, User
from crm_core.services.identities import link_identity
from handlers.gateway import Gateway
from handlers.reply import Command, Reply
from tests.conftest import TestBot


@pytest.fixture
def pg(testbot: TestBot, engine: Engine) -> TestBot:
    """The test bot, on PostgreSQL only (SQLite runs one writer at a time: no deadlock)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("deadlocks are PostgreSQL's")
    return testbot


class Retries:
    """A dispatcher observer keeping the retries it is told of."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def command_done(self, platform: str, verb: str, outcome: str, seconds: float) -> None:
        """Not needed here."""

    def command_retried(self, platform: str, verb: str, reason: str) -> None:
        """Keep (verb, reason)."""
        self.seen.append((verb, reason))


@pytest.mark.parametrize("via", ["dispatcher", "gateway"])
def test_two_moves_locking_two_deals_in_reversed_order_both_succeed_once(
    pg: TestBot, engine: Engine, caplog: pytest.LogCaptureFixture, via: str
) -> None:
    """Two workers each move a deal, and, before committing, lock the other's deal too (the
    reversed order of the other worker): PostgreSQL finds the deadlock and aborts one. That
    command runs again from the start; both moves are done, each with one stage change and
    one audit entry, and the retry is logged and counted without any customer data.

    Through the gateway (a platform's path: the sender looked up and the command run on one
    held connection, its delivery claimed) the claim is taken again on the retry, not
    answered as a duplicate of itself."""
    gateway = Gateway(pg.dispatcher, "console")
    with unit_of_work(pg.session_factory) as session:
        for name in ("alice", "carol"):
            user = session.get(User, pg.users[name])
            assert user is not None
            link_identity(session, "console", f"C-{name}", user, actor_label="test")
    pg("alice", "new customer Acme Logistics")
    pg("alice", "new deal Acme Logistics: Fleet renewal 48k")
    pg("carol", "new customer Birchwood Dental")
    pg("carol", "new deal Birchwood Dental: Chair pilot 5k")
    ids = {t: i for i, t in pg.rows(select(Deal.id, Deal.title))}
    mine = {"alice": ids["Fleet renewal"], "carol": ids["Chair pilot"]}
    other = {"alice": ids["Chair pilot"], "carol": ids["Fleet renewal"]}
    # Both workers hold their own deal's lock before either reaches for the other's.
    both_hold = threading.Barrier(2, timeout=10)
    who: dict[int, str] = {}
    crossed: set[str] = set()

    def cross(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        name = who.get(threading.get_ident())
        if name is None or name in crossed:
            return
        if (
            statement.startswith("SELECT")
            and "FROM deals" in statement
            and "FOR UPDATE" in statement
        ):
            # The command's own deal is locked (the move's read-modify-write); now the other's.
            crossed.add(name)
            both_hold.wait()
            conn.execute(
                text("SELECT id FROM deals WHERE id = :id FOR UPDATE"), {"id": other[name]}
            )

    observer = Retries()
    pg.dispatcher.observers.append(observer)
    replies: dict[str, Reply] = {}

    def move(name: str, line: str) -> None:
        who[threading.get_ident()] = name
        if via == "dispatcher":
            replies[name] = pg(name, line)
            return
        done = gateway.dispatch_as(
            f"C-{name}", lambda uid: Command(uid, "console", text=line, delivery_id=f"d-{name}")
        )
        assert done is not None
        replies[name] = done[1]

    before = db.RETRIES["deadlock"]
    event.listen(engine, "after_cursor_execute", cross)
    caplog.set_level(logging.INFO)
    try:
        workers = [
            threading.Thread(target=move, args=("alice", "move Fleet renewal to negotiation")),
            threading.Thread(target=move, args=("carol", "move Chair pilot to proposal")),
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
    finally:
        event.remove(engine, "after_cursor_execute", cross)
    assert crossed == {"alice", "carol"}
    assert {n: r.status for n, r in replies.items()} == {"alice": "ok", "carol": "ok"}, replies
    assert dict(pg.rows(select(Deal.title, Deal.stage))) == {
        "Fleet renewal": "negotiation",
        "Chair pilot": "proposal",
    }
    moves = pg.rows(
        select(StageChange.deal_id, func.count())
        .where(StageChange.from_stage.is_not(None))
        .group_by(StageChange.deal_id)
    )
    assert sorted(moves) == sorted((i, 1) for i in mine.values())
    audited = pg.rows(
        select(AuditEntry.entity_id, func.count())
        .where(AuditEntry.action == "deal.move")
        .group_by(AuditEntry.entity_id)
    )
    assert sorted(audited) == sorted((i, 1) for i in mine.values())
    # Exactly one of the two was the deadlock's victim and ran again.
    assert db.RETRIES["deadlock"] == before + 1
    assert observer.seen == [("move", "deadlock")]
    retried = [r.getMessage() for r in caplog.records if "retried" in r.getMessage()]
    assert retried == ["transaction retried after a deadlock (attempt 1 of 4)"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    for secret in ("Acme", "Birchwood", "Fleet", "Chair"):
        assert secret not in logged


def test_a_conflict_caught_on_the_way_still_retries_and_other_errors_do_not() -> None:
    """`retrying` runs the work again when the database reported a deadlock during it, even
    if the error that reached it is another one; any other error is raised at once, and the
    last of `attempts` conflicts too."""
    runs: list[int] = []

    class Orig(Exception):
        sqlstate = "40P01"

    def deadlocked() -> str:
        runs.append(1)
        if len(runs) == 1:
            raise OperationalError("UPDATE deals", {}, Orig("deadlock detected"))
        return "done"

    assert db.retrying(deadlocked, pause=0) == "done"
    assert len(runs) == 2

    def broken() -> str:
        runs.append(1)
        raise ValueError("not a conflict")

    runs.clear()
    with pytest.raises(ValueError):
        db.retrying(broken, pause=0)
    assert len(runs) == 1

    def always() -> str:
        runs.append(1)
        try:
            raise OperationalError("UPDATE deals", {}, Orig("deadlock detected"))
        except OperationalError as exc:
            # Caught and turned into another error, as a handler might.
            raise RuntimeError("gave up") from exc

    runs.clear()
    with pytest.raises(RuntimeError):
        db.retrying(always, attempts=3, pause=0)
    assert len(runs) == 3


DEADLOCK = "DO $$BEGIN RAISE EXCEPTION USING ERRCODE='40P01'; END$$"


class CountingProposer:
    """A language model stand-in that counts its calls (each a paid, slow request)."""

    def __init__(self) -> None:
        self.calls = 0

    def propose(self, text: str) -> str | None:
        """Always the same read."""
        self.calls += 1
        return "customer Acme Logistics"


def test_a_retried_sentence_asks_the_language_model_once(pg: TestBot, engine: Engine) -> None:
    """A deadlock right after the model proposed a command: the run again reuses the proposal
    instead of asking the model a second time (found by review of fleet9)."""
    pg("alice", "new customer Acme Logistics")
    proposer = CountingProposer()
    pg.dispatcher.proposer = proposer  # type: ignore[assignment]
    armed = {"after": 0, "done": False}

    def deadlock_once(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> tuple[str, Any]:
        if proposer.calls and not armed["done"]:
            armed["done"] = True
            return DEADLOCK, None
        return statement, params

    event.listen(engine, "before_cursor_execute", deadlock_once, retval=True)
    try:
        reply = pg("alice", "zorble the quuxes flimflam")
    finally:
        event.remove(engine, "before_cursor_execute", deadlock_once)
    assert armed["done"], "no deadlock was raised after the proposal"
    assert proposer.calls == 1, f"the model was asked {proposer.calls} times for one message"
    assert reply.status != "error", reply.text


def test_a_refusal_after_a_conflict_a_savepoint_caught_runs_once(pg: TestBot) -> None:
    """A deadlock caught by a savepoint leaves the transaction usable: an ordinary refusal
    raised afterwards is not a conflict and is raised after one run, not four."""
    runs: list[int] = []

    def work() -> None:
        runs.append(1)
        with unit_of_work(pg.session_factory) as session:
            try:
                with session.begin_nested():
                    session.execute(text(DEADLOCK))
            except OperationalError:
                pass
            raise LookupError("a refusal of the command itself")

    with pytest.raises(LookupError):
        db.retrying(work, pause=0)
    assert len(runs) == 1, runs
