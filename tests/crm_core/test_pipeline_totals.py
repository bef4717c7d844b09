"""The pipeline totals the triggers keep equal the aggregate over the deals after any writes."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select, update

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.models import Customer, Deal, PipelineTotal, User
from crm_core.services.pipeline import pipeline_report, pipeline_report_from_deals
from crm_core.stages import DEFAULT_STAGES, Pipeline
from tests.conftest import TestBot
from tests.random_writes import STAGES, RandomWrites, import_records, imported_book


def kept(bot: TestBot) -> dict[tuple[int, str, str], tuple[int, int, int]]:
    """The totals table, rows with no deals left out."""
    rows = bot.rows(select(PipelineTotal))
    return {
        (r.owner_id, r.stage, r.currency): (int(r.deals), int(r.priced), int(r.cents))
        for (r,) in rows
        if r.deals or r.priced or r.cents
    }


def aggregated(bot: TestBot) -> dict[tuple[int, str, str], tuple[int, int, int]]:
    """The same totals computed from the deals of live customers, in Python."""
    out: dict[tuple[int, str, str], list[int]] = {}
    stmt = (
        select(Customer.owner_id, Deal.stage, Deal.currency, Deal.amount)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(Customer.archived_at.is_(None), Customer.merged_into.is_(None))
    )
    for owner, stage, currency, amount in bot.rows(stmt):
        row = out.setdefault((owner, stage, currency), [0, 0, 0])
        row[0] += 1
        if amount is not None:
            row[1] += 1
            row[2] += int(Decimal(str(amount)).quantize(Decimal("0.01")) * 100)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def assert_reports_equal(bot: TestBot) -> None:
    """Every person's pipeline from the totals is the one aggregated from their deals."""
    assert kept(bot) == aggregated(bot)
    with bot.session_factory() as session:
        for handle, uid in bot.users.items():
            actor = session.get(User, uid)
            assert actor is not None
            ctx = Ctx(session, actor, Pipeline(DEFAULT_STAGES))
            fast, slow = pipeline_report(ctx), pipeline_report_from_deals(ctx)
            assert (handle, fast) == (handle, slow)


def test_totals_follow_every_write_path(testbot: TestBot) -> None:
    """Random creates, moves, edits, undos, reassigns, merges, archives, deletes and imports."""
    w = RandomWrites(testbot, random.Random(20))
    w.seed()
    ops: list[Callable[[], None]] = [w.new_deal] * 5 + [w.move] * 4 + [w.edit] * 3
    ops += [w.undo_edit] * 2 + [w.reassign] * 3 + [w.merge] * 2
    ops += [w.archive, w.unarchive, w.delete_deal, w.new_customer]
    w.run(ops, 120, every=15, check=lambda: assert_reports_equal(testbot))
    assert kept(testbot), "the run left open deals to compare"
    every = {"new", "move", "edit", "undo", "reassign", "reassign with deals", "merge"}
    assert every | {"archive", "unarchive", "delete"} <= set(w.done), w.done
    assert_reports_equal(testbot)


def test_totals_follow_imports_and_bulk_updates(testbot: TestBot) -> None:
    """The importer's inserts and updates, and UPDATE statements no service wrote, keep them."""
    records = imported_book(12, lambda n: STAGES[n % 4])

    import_records(testbot, records)
    assert_reports_equal(testbot)
    # Again with changes: amounts, a stage, a customer archived, one moved to the other.
    for r in records:
        if r["type"] == "deal":
            r["amount"] = "5"
            r["stage"] = "proposal" if r["external_id"] == "d1" else r["stage"]
            r["customer"] = "c1"
        if r["external_id"] == "c2":
            r["archived_at"] = "2026-11-01T00:00:00Z"
    import_records(testbot, records)
    assert_reports_equal(testbot)
    with unit_of_work(testbot.session_factory) as session:
        alice = testbot.users["alice"]
        session.execute(update(Customer).values(owner_id=alice))
        session.execute(update(Deal).where(Deal.id % 2 == 0).values(currency="CNY"))
        session.execute(update(Customer).where(Customer.id % 2 == 0).values(archived_at=None))
    assert_reports_equal(testbot)
    # A rolled-back write leaves the totals as they were.
    before = kept(testbot)
    with testbot.session_factory() as session:
        session.execute(update(Deal).values(amount=Decimal("1.00")))
        session.rollback()
    assert kept(testbot) == before
