"""Tier rules, pins and care dates in the exchange format: byte-identical round trip, checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.exchange import ImportFailed
from crm_core.models import CustomerTier, TierChange
from crm_core.services import care, tiers
from crm_core.services.custom_fields import declare_field
from crm_core.services.customers import create_customer
from crm_core.services.deals import create_deal, move_deal
from tests.crm_core.test_exchange import admin_ctx, run_export, run_import, wipe

Factory = sessionmaker[Session]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _book(factory: Factory) -> None:
    """An admin's ladder, a customer that earns silver by a win, and one pinned to gold."""
    with unit_of_work(factory) as s:
        ctx = admin_ctx(s, NOW)
        tiers.set_program(
            ctx, [("silver", Decimal(50_000)), ("gold", Decimal("200000.50"))], 6, "USD"
        )
        acme = create_customer(ctx, "Acme")
        birch = create_customer(ctx, "Birch")
        deal = create_deal(ctx, acme, "Fleet", amount=Decimal(60_000))
        move_deal(ctx, deal, "won")
        tiers.pin(ctx, birch, "gold")
        declare_field(ctx, "deal", "renewal_date", "date")
        care.declare(ctx, None, "renewal_date", 15)
        care.declare(ctx, None, "birthday", 3)


def test_round_trip_gives_byte_identical_export(session_factory: Factory) -> None:
    """Export, import into an empty database, export again: the same bytes; tiers come back."""
    _book(session_factory)
    first = run_export(session_factory)
    lines = [json.loads(line) for line in first.splitlines()]
    assert [r for r in lines if r["type"] == "care_date"] == [
        {"type": "care_date", "record": "deal", "field": "renewal_date", "lead_days": 15},
        {"type": "care_date", "record": "contact", "field": "birthday", "lead_days": 3},
    ]
    tier_lines = [r for r in lines if r["type"].startswith("tier_")]
    assert tier_lines == [
        {
            "type": "tier_rules",
            "levels": [
                {"name": "silver", "threshold": "50000.00"},
                {"name": "gold", "threshold": "200000.50"},
            ],
            "months": 6,
            "currency": "USD",
        },
        {"type": "tier_pin", "customer": "customer-2", "tier": "gold"},
    ]
    wipe(session_factory)
    report = run_import(session_factory, first.splitlines())
    assert (report.created["tier_rules"], report.created["tier_pin"]) == (1, 1)
    assert run_export(session_factory) == first
    with session_factory() as s:
        # Current tiers are derived: the won deal earns silver again, the pin holds gold.
        assert sorted(s.execute(select(CustomerTier.tier, CustomerTier.pinned)).all()) == [
            ("gold", True),
            ("silver", False),
        ]
    again = run_import(session_factory, first.splitlines())
    assert not again.changed
    assert (again.unchanged["tier_rules"], again.unchanged["tier_pin"]) == (1, 1)
    assert again.unchanged["care_date"] == 2


def test_points_rules_round_trip_and_place_customers_by_points(session_factory: Factory) -> None:
    """A ladder on points exports its field and comes back on it: tiers follow the points."""
    with unit_of_work(session_factory) as s:
        ctx = admin_ctx(s, NOW)
        declare_field(ctx, "customer", "points", "number")
        acme = create_customer(ctx, "Acme")
        acme.custom = {"points": "620"}
        create_customer(ctx, "Birch")
        tiers.set_program(
            ctx, [("silver", Decimal(100)), ("gold", Decimal(500))], 12, "USD", "points"
        )
    first = run_export(session_factory)
    rules = next(json.loads(x) for x in first.splitlines() if '"tier_rules"' in x)
    assert rules["points_field"] == "points"
    wipe(session_factory)
    run_import(session_factory, first.splitlines())
    assert run_export(session_factory) == first
    with session_factory() as s:
        prog = tiers.program(s)
        assert prog is not None and prog.points_field == "points"
        assert s.execute(select(CustomerTier.tier)).scalars().all() == ["gold"]
    # Points fed by an import (a shop's or loyalty system's export) upgrade at once.
    fed = []
    for line in first.splitlines():
        rec = json.loads(line)
        if rec["type"] == "customer" and rec["name"] == "Birch":
            line = json.dumps({**rec, "custom": {"points": "150"}})
        fed.append(line)
    run_import(session_factory, fed)
    with session_factory() as s:
        assert sorted(s.execute(select(CustomerTier.tier)).scalars().all()) == ["gold", "silver"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            {"type": "tier_pin", "customer": "nobody", "tier": "gold"},
            "tier_pin has unknown customer 'nobody'",
        ),
        (
            {"type": "tier_pin", "customer": "customer-1", "tier": "diamond"},
            "names tier 'diamond', not one of the tier rules (silver, gold)",
        ),
        (
            {
                "type": "tier_rules",
                "levels": [{"name": "gold", "threshold": "9"}, {"name": "tin", "threshold": "1"}],
                "months": 12,
                "currency": "USD",
            },
            "tier_rules: levels need names once each",
        ),
        (
            {
                "type": "tier_rules",
                "levels": [{"name": "tin", "threshold": "1"}],
                "months": 12,
                "currency": "USD",
                "points_field": "nope",
            },
            "points_field 'nope' is not a customer number field",
        ),
        (
            {"type": "care_date", "record": "customer", "field": "renewal_date", "lead_days": 5},
            "care_date 'customer.renewal_date' names no date field",
        ),
    ],
)
def test_bad_tier_lines_are_refused_by_line(
    session_factory: Factory, line: dict[str, object], reason: str
) -> None:
    """A pin of an unknown customer or tier, or a ladder out of order: nothing is written."""
    _book(session_factory)
    exported = run_export(session_factory)
    with session_factory() as s:
        changes = len(s.scalars(select(TierChange.id)).all())
    with pytest.raises(ImportFailed) as info:
        run_import(session_factory, [*exported.splitlines()[:-2], json.dumps(line)])
    assert reason in str(info.value)
    with session_factory() as s:
        assert len(s.scalars(select(TierChange.id)).all()) == changes
