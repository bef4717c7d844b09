"""Two transactions at once on PostgreSQL: the pipeline totals stay exact and nobody deadlocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session, sessionmaker

from crm_core.context import Ctx
from crm_core.db import lock_for_update, unit_of_work
from crm_core.models import Customer, Deal, User
from crm_core.services.archive import set_archived
from crm_core.services.customers import create_customer
from crm_core.services.deals import create_deal
from crm_core.services.merge import merge_customers
from crm_core.services.reassign import reassign_customer
from tests.conftest import TestBot
from tests.crm_core.test_pipeline_totals import aggregated, kept


@pytest.fixture
def pg(testbot: TestBot, engine: Engine) -> TestBot:
    """The test bot, on PostgreSQL only (SQLite runs one writer at a time: no race there)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    return testbot


def seed(bot: TestBot, gone: str | None = None) -> tuple[list[int], list[int]]:
    """Two customers of alice, a deal of 100 each; the first archived or merged into the other."""
    with unit_of_work(bot.session_factory) as session:
        alice = session.get(User, bot.users["alice"])
        assert alice is not None
        ctx = Ctx(session, alice)
        made = [create_customer(ctx, name) for name in ("Acme Logistics", "Zhou Bakery")]
        deals = [create_deal(ctx, c, "Renewal", amount=Decimal(100)) for c in made]
        if gone == "archived":
            set_archived(ctx, made[0], True)
        session.flush()
        if gone == "merged":
            # A tombstone still holding its deal, as an un-merge finds it.
            tombstone = update(Customer).where(Customer.id == made[0].id)
            session.execute(tombstone.values(merged_into=made[-1].id))
        return [c.id for c in made], [d.id for d in deals]


def wait_until_blocked(engine: Engine, worker: threading.Thread) -> None:
    """Return once another backend waits for a lock, or the worker has finished."""
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while worker.is_alive() and time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                return
            time.sleep(0.02)


def in_thread(errors: list[str], work: Callable[[], None]) -> threading.Thread:
    """Start `work` in a thread; an exception is kept in `errors`."""

    def run() -> None:
        try:
            work()
        except Exception as exc:  # the assertion shows which
            errors.append(type(exc).__name__ + ": " + str(exc).splitlines()[0])

    worker = threading.Thread(target=run)
    worker.start()
    return worker


def overlapping(
    factory: sessionmaker[Session],
    engine: Engine,
    first: Callable[[Session], None],
    second: Callable[[Session], None],
) -> list[str]:
    """Run `first` in a unit of work and, before it commits, `second` in another thread's
    (it commits once `second` waits for one of its locks); what either raised."""
    errors: list[str] = []
    with unit_of_work(factory) as session:
        first(session)

        def other() -> None:
            with unit_of_work(factory) as theirs:
                second(theirs)

        worker = in_thread(errors, other)
        wait_until_blocked(engine, worker)
    worker.join(timeout=30)
    return errors


def revive(column: str, customer: int) -> Callable[[Session], None]:
    """Unarchive or un-merge `customer` (a bulk UPDATE, as a restore or an undo writes)."""

    def write(session: Session) -> None:
        session.execute(update(Customer).where(Customer.id == customer).values({column: None}))

    return write


def reprice(deal: int) -> Callable[[Session], None]:
    """Change a deal's amount, locking it first as the services do."""

    def write(session: Session) -> None:
        row = session.get(Deal, deal)
        assert row is not None
        lock_for_update(session, row)
        row.amount = Decimal(500)
        session.flush()

    return write


@pytest.mark.parametrize("column", ["archived_at", "merged_into"])
@pytest.mark.parametrize("deal_first", [True, False])
def test_a_deal_written_while_its_customer_comes_back_is_counted_once(
    pg: TestBot, engine: Engine, column: str, deal_first: bool
) -> None:
    """A deal of an archived (or merged-away) customer changes while the customer is unarchived
    (un-merged), in either order: the totals equal the sum over the deals."""
    gone = "archived" if column == "archived_at" else "merged"
    customers, deals = seed(pg, gone)
    first, second = reprice(deals[0]), revive(column, customers[0])
    if not deal_first:
        first, second = second, first
    assert overlapping(pg.session_factory, engine, first, second) == []
    assert kept(pg) == aggregated(pg)
    assert kept(pg)[(pg.users["alice"], "lead", "USD")] == (2, 2, 60000)


@pytest.mark.parametrize("write", ["edit", "new"])
@pytest.mark.parametrize("action", ["merge", "reassign"])
def test_a_merge_or_reassign_waits_for_a_deal_being_written_instead_of_deadlocking(
    pg: TestBot, engine: Engine, action: str, write: str
) -> None:
    """A deal of the customer is locked and then written (as an edit does), or a new deal is
    opened on it, while the customer is merged away or reassigned with its deals: both
    finish, and the totals stay exact."""
    customers, deals = seed(pg)
    errors: list[str] = []

    def change() -> None:
        with unit_of_work(pg.session_factory) as session:
            admin = session.get(User, pg.users["admin"])
            loser, survivor = (
                session.get(Customer, customers[0]),
                session.get(Customer, customers[1]),
            )
            carol = session.get(User, pg.users["carol"])
            assert admin is not None and loser is not None and survivor is not None
            assert carol is not None
            ctx = Ctx(session, admin)
            if action == "merge":
                merge_customers(ctx, loser, survivor)
            else:
                reassign_customer(ctx, loser, carol, with_deals=True)

    try:
        with unit_of_work(pg.session_factory) as session:
            row = session.get(Deal, deals[0])
            alice = session.get(User, pg.users["alice"])
            assert row is not None and alice is not None
            if write == "edit":
                lock_for_update(session, row)
            else:
                create_deal(Ctx(session, alice), row.customer, "Extra", amount=Decimal(7))
                session.flush()
            worker = in_thread(errors, change)
            wait_until_blocked(engine, worker)
            if write == "edit":
                row.amount = Decimal(500)
                session.flush()
    except Exception as exc:
        errors.append(type(exc).__name__ + ": " + str(exc).splitlines()[0])
    worker.join(timeout=30)
    assert errors == []
    assert kept(pg) == aggregated(pg)


def test_a_customer_change_waiting_for_a_totals_row_holds_no_name_index_lock(
    pg: TestBot, engine: Engine
) -> None:
    """One transaction reprices alice's first deal (her totals row locked); another moves her
    second customer to carol, whose totals trigger waits for that row; the first then renames
    its customer and commits. The name index's row (migration 0032) is locked after a
    statement's totals, not at its first changed row, so the rename does not wait for the
    waiting move: both finish, no deadlock, the totals exact."""
    customers, deals = seed(pg)
    errors: list[str] = []

    def move() -> None:
        with unit_of_work(pg.session_factory) as theirs:
            to_carol = update(Customer).where(Customer.id == customers[1])
            theirs.execute(to_carol.values(owner_id=pg.users["carol"]))

    with unit_of_work(pg.session_factory) as session:
        reprice(deals[0])(session)
        worker = in_thread(errors, move)
        wait_until_blocked(engine, worker)
        renamed = update(Customer).where(Customer.id == customers[0])
        session.execute(renamed.values(name="Acme Freight", name_key="acme freight"))
    worker.join(timeout=30)
    assert errors == []
    assert kept(pg) == aggregated(pg)
    assert kept(pg)[(pg.users["carol"], "lead", "USD")] == (1, 1, 10000)
