"""Merges moving many deals at once on PostgreSQL take their locks in one order: two merges
of one owner's duplicates at the same moment wait for each other, neither deadlocks."""

from __future__ import annotations

import contextlib
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from crm_core import db
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.models import Customer, Deal, User
from crm_core.services.customers import create_customer
from crm_core.services.deals import create_deal, move_deal
from handlers.reply import Reply
from tests.conftest import TestBot
from tests.crm_core.test_pipeline_totals import aggregated, kept

STAGES = ("lead", "qualified", "proposal", "negotiation")
NAMES = ("Harbor", "Kestrel", "Juniper", "Obsidian", "Marigold", "Tundra")


@pytest.fixture
def pg(testbot: TestBot, engine: Engine) -> TestBot:
    """The test bot, on PostgreSQL only (SQLite runs one writer at a time: no deadlock)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("deadlocks are PostgreSQL's")
    return testbot


def duplicates(bot: TestBot, pairs: int) -> list[tuple[int, int, list[str]]]:
    """`pairs` (duplicate, survivor) pairs of alice's, each duplicate with a deal in every
    stage: the even ones' deals made in stage order, the odd ones' in reverse, so two merges
    moving them row by row reach the same kept-sum rows in opposite orders."""
    out = []
    with unit_of_work(bot.session_factory) as session:
        alice = session.get(User, bot.users["alice"])
        assert alice is not None
        ctx = Ctx(session, alice)
        for i in range(pairs):
            loser = create_customer(ctx, f"{NAMES[i]} Freight")
            survivor = create_customer(ctx, f"{NAMES[i]} Shipping")
            order = STAGES if i % 2 == 0 else tuple(reversed(STAGES))
            for stage in order:
                deal = create_deal(ctx, loser, f"Dock {stage}", amount=Decimal(100 + i))
                if stage != "lead":
                    move_deal(ctx, deal, stage)
            session.flush()
            out.append((loser.id, survivor.id, list(order)))
    return out


def test_two_merges_of_one_owner_at_once_wait_instead_of_deadlocking(
    pg: TestBot, engine: Engine
) -> None:
    """Merges of alice's duplicates two at a time, released together just before each moves
    its deals: every merge is done at its first run (no deadlock, no retry), and the kept
    sums equal the deals' own totals."""
    pairs = duplicates(pg, 6)
    who: dict[int, threading.Barrier] = {}
    released: set[int] = set()

    def together(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        me = threading.get_ident()
        barrier = who.get(me)
        if barrier is None or me in released:
            return
        if statement.startswith("UPDATE deals SET customer_id"):
            released.add(me)
            # With the lock order in place the other merge waits for this one's lock and
            # never reaches its own move: go on alone after a moment.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=2)

    before = dict(db.RETRIES)
    replies: list[Reply] = []
    event.listen(engine, "before_cursor_execute", together)
    try:
        for first, second in zip(pairs[::2], pairs[1::2], strict=True):
            barrier = threading.Barrier(2)

            def merge(pair: tuple[int, int, list[str]], barrier: threading.Barrier) -> None:
                who[threading.get_ident()] = barrier
                replies.append(pg("bob", f"merge #{pair[0]} into #{pair[1]} confirm"))

            workers = [
                threading.Thread(target=merge, args=(pair, barrier)) for pair in (first, second)
            ]
            for w in workers:
                w.start()
            for w in workers:
                w.join(timeout=60)
            who.clear()
            released.clear()
    finally:
        event.remove(engine, "before_cursor_execute", together)
    assert [r.status for r in replies] == ["ok"] * len(pairs), [r.text for r in replies]
    assert dict(db.RETRIES) == before, "a merge ran again after a deadlock"
    with pg.session_factory() as session:
        for loser, survivor, _ in pairs:
            assert session.get(Customer, loser).merged_into == survivor  # type: ignore[union-attr]
            moved = session.scalars(select(Deal.stage).where(Deal.customer_id == survivor))
            assert sorted(moved) == sorted(STAGES)
    assert kept(pg) == aggregated(pg)


def test_a_merge_moves_the_deals_in_the_kept_sums_key_order(pg: TestBot, engine: Engine) -> None:
    """The duplicate's deals are moved one at a time in the order of the kept sums' keys
    (stage, currency, ...), whatever order they were made in: the order a single deal's move
    takes its two rows in."""
    (loser, survivor, _), (loser2, survivor2, _) = duplicates(pg, 2)
    ids = dict(pg.rows(select(Deal.id, Deal.stage).where(Deal.customer_id == loser2)))
    moved: list[int] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("UPDATE deals SET customer_id"):
            moved.append(params["id_1"] if isinstance(params, dict) else params[-1])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        reply = pg("bob", f"merge #{loser2} into #{survivor2} confirm")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert reply.status == "ok", reply.text
    assert [ids[i] for i in moved] == sorted(STAGES), moved
    del loser, survivor
