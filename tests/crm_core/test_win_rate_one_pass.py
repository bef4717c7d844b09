"""The ungrouped win rate reads the other currencies in its own pass: same figures as before."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.analytics.periods import ALL_TIME, Period, parse_period
from crm_core.analytics.scope import money
from crm_core.analytics.win_rate import closed_in, other_currencies, report_scope, win_rate
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.exchange import import_jsonl
from crm_core.models import Customer, Deal, User
from crm_core.stages import DEFAULT_STAGES, Pipeline
from tests.conftest import START, FakeClock
from tests.crm_core.test_analytics import _deal, book


def _old(ctx: Ctx, period: Period, currency: str) -> tuple[int, int, Decimal, dict[str, int]]:
    """The computation before: one query for the currency, another for the other ones.

    A rep's own report counts the deals they own (win_rate.report_scope), others' the deals
    of the customers they see.
    """
    won_names = {s.name for s in ctx.pipeline.stages if s.won}
    conditions = closed_in(ctx, period)
    stmt = (
        select(Deal.stage, func.count(), func.sum(Deal.amount))
        .where(*report_scope(ctx), *conditions, Deal.currency == currency)
        .group_by(Deal.stage)
    )
    won = lost = 0
    value = Decimal(0)
    for stage, count, total in ctx.session.execute(stmt):
        if stage in won_names:
            won += int(count)
            value += money(total)
        else:
            lost += int(count)
    return won, lost, value, other_currencies(ctx, currency, conditions, report_scope(ctx))


def test_win_rate_equals_the_two_query_computation_on_a_random_book(
    session_factory: sessionmaker[Session],
) -> None:
    """150 random deals (open, won, lost; USD, EUR, GBP; closed over two years; one archived
    customer): every person's total and other-currency counts, all time and in periods."""
    rng = random.Random(20)
    records: list[dict[str, Any]] = [r for r in book() if r["type"] != "deal"]
    records = [r for r in records if r["type"] not in ("stage_change", "interaction")]
    customers = [r["external_id"] for r in records if r["type"] == "customer"]
    owners = ["alice", "carol", "dave"]
    for i in range(150):
        stage = rng.choice(["won", "lost", "lead", "proposal", "won", "lost"])
        closed = stage in ("won", "lost")
        day = f"{rng.choice([2025, 2026])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        records += _deal(
            f"r{i}",
            rng.choice(customers),
            rng.choice(owners),
            stage,
            f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}",
            [("lead", day), (stage, day)],
            closed=closed,
            currency=rng.choice(["USD", "USD", "EUR", "GBP"]),
            **({"lost_reason": "price"} if stage == "lost" else {}),
        )
    with unit_of_work(session_factory) as session:
        import_jsonl(session, (json.dumps(r) for r in records), stages=DEFAULT_STAGES)
        archived = session.scalars(select(Customer).order_by(Customer.id)).first()
        assert archived is not None
        archived.archived_at = START
    periods = [
        ALL_TIME,
        *(parse_period(p, START.date()) for p in ("this year", "last year", "this quarter")),
    ]
    seen = {"won": 0, "others": 0}
    with session_factory() as session:
        people = session.scalars(select(User)).all()
        for person in people:
            ctx = Ctx(session, person, Pipeline(DEFAULT_STAGES), clock=FakeClock(START))
            for period in periods:
                for currency in ("USD", "EUR", "GBP", "JPY"):
                    report = win_rate(ctx, period=period, currency=currency)
                    got = (
                        report.total.won,
                        report.total.lost,
                        report.total.won_value,
                        report.other_currencies,
                    )
                    assert got == _old(ctx, period, currency), (person.external_id, period)
                    seen["won"] += report.total.won > 0
                    seen["others"] += bool(report.other_currencies)
    assert seen["won"] > 20 and seen["others"] > 20, seen  # the book exercises both
