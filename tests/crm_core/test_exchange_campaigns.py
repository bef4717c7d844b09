"""Campaigns in the exchange format: byte-identical round trip, audited, refused by line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.marketing import campaigns, segments
from crm_core.models import AuditEntry, Campaign, CampaignMember
from crm_core.services.customers import create_customer
from tests.crm_core.test_exchange import (
    admin_ctx,
    import_error,
    row_counts,
    run_export,
    run_import,
    wipe,
)

Factory = sessionmaker[Session]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _book(factory: Factory) -> None:
    """Two campaigns on six customers: one running with outcomes and a snooze, one ended."""
    with unit_of_work(factory) as s:
        ctx = admin_ctx(s, NOW)
        for name in ("Acme", "Birch", "Cedar", "Dune", "Elm", "Fir"):
            create_customer(ctx, name, tags=["vip"])
        segments.save_segment(ctx, "VIPs", "tag vip")
        spring = campaigns.create_campaign(
            ctx, campaigns.plan_campaign(ctx, "Spring 春", "VIPs", "Hi {contact}", 34, 7)
        )
        autumn = campaigns.create_campaign(
            ctx, campaigns.plan_campaign(ctx, "Autumn", "VIPs", "Hello", 20, 11)
        )
        s.flush()
        contacted = [t for t in campaigns.open_tasks(ctx, spring)[0]]
        campaigns.record_outcome(ctx, contacted[0], "replied")
        campaigns.record_outcome(ctx, contacted[1], "converted")
        campaigns.snooze(ctx, contacted[2], NOW + timedelta(days=2))
        campaigns.end_campaign(ctx, autumn)


def test_round_trip_gives_byte_identical_export(session_factory: Factory) -> None:
    """Export, import into an empty database, export again: the same bytes; audited; idempotent."""
    _book(session_factory)
    first = run_export(session_factory)
    lines = [json.loads(line) for line in first.splitlines() if '"campaign"' in line]
    assert [(r["name"], r["segment"], r["holdout_percent"], r["seed"]) for r in lines] == [
        ("Spring 春", "VIPs", 34, 7),
        ("Autumn", "VIPs", 20, 11),
    ]
    spring = lines[0]
    assert [m["draw"] for m in spring["members"]] == list(range(6))
    assert sorted(m["group"] for m in spring["members"]).count("holdout") == 2
    assert {m["outcome"] for m in spring["members"]} == {None, "replied", "converted"}
    assert sum(m["snoozed_until"] is not None for m in spring["members"]) == 1
    assert lines[1]["ended_by"] == "root" and lines[1]["ended_at"] == NOW.isoformat()
    wipe(session_factory)
    report = run_import(session_factory, first.splitlines())
    assert (report.created["campaign"], report.updated["campaign"]) == (2, 0)
    assert run_export(session_factory) == first
    with session_factory() as s:
        audited = s.execute(
            select(AuditEntry.entity_type, func.count())
            .where(AuditEntry.action == "import.create")
            .group_by(AuditEntry.entity_type)
        ).all()
        assert ("campaigns", 2) in audited and ("campaign_members", 12) in audited
        member = s.scalars(select(CampaignMember).where(CampaignMember.outcome == "replied")).one()
        history = s.scalars(
            select(AuditEntry.customer_id).where(
                AuditEntry.entity_type == "campaign_members", AuditEntry.entity_id == member.id
            )
        ).one()
        assert history == member.customer_id
    before = row_counts(session_factory)
    again = run_import(session_factory, first.splitlines())
    assert (again.unchanged["campaign"], again.changed) == (2, False)
    assert row_counts(session_factory) == before


def test_an_import_updates_members_and_audits_each_change(session_factory: Factory) -> None:
    """A changed outcome and a dropped member: one update and one delete entry; a re-export."""
    _book(session_factory)
    first = run_export(session_factory)
    records = [json.loads(line) for line in first.splitlines()]
    spring = next(r for r in records if r["type"] == "campaign" and r["name"] == "Spring 春")
    open_member = next(
        m for m in spring["members"] if m["group"] == "contacted" and m["outcome"] is None
    )
    open_member.update(outcome="reached", reached_at=NOW.isoformat(), outcome_by="root")
    open_member["snoozed_until"] = None
    spring["members"] = spring["members"][:-1]
    report = run_import(session_factory, [json.dumps(r, ensure_ascii=False) for r in records])
    assert (report.updated["campaign"], report.unchanged["campaign"]) == (1, 1)
    with session_factory() as s:
        actions = s.execute(
            select(AuditEntry.action, AuditEntry.entity_type).where(
                AuditEntry.actor_label == "import"
            )
        ).all()
        assert sorted(actions) == [
            ("import.delete", "campaign_members"),
            ("import.update", "campaign_members"),
        ]
        camp = s.scalars(select(Campaign).where(Campaign.name == "Spring 春")).one()
        members = s.scalars(select(CampaignMember).where(CampaignMember.campaign_id == camp.id))
        assert len(members.all()) == 5
    assert (
        next(
            json.loads(line)
            for line in run_export(session_factory).splitlines()
            if "Spring" in line and '"campaign"' in line
        )
        == spring
    )


def test_bad_campaign_lines_are_refused_by_line_and_nothing_is_written(
    session_factory: Factory,
) -> None:
    """Unknown customers and users, doubled members, impossible outcomes: each by its line."""
    _book(session_factory)
    first = run_export(session_factory).splitlines()
    wipe(session_factory)
    records = [json.loads(line) for line in first]
    spring = next(i for i, r in enumerate(records) if r["type"] == "campaign")
    bad = records[spring]
    bad["members"][0]["customer"] = "customer-99"
    bad["members"][1]["owner"] = "nobody"
    bad["members"][3]["draw"] = bad["members"][2]["draw"]
    holdout = next(m for m in bad["members"] if m["group"] == "holdout")
    holdout.update(outcome="reached", reached_at=NOW.isoformat())
    autumn = records[spring + 1]
    autumn_member = next(m for m in autumn["members"] if m["group"] == "contacted")
    autumn_member.update(outcome="converted", converted_at=None)
    twice = dict(autumn, name="AUTUMN")
    data = [json.dumps(r, ensure_ascii=False) for r in [*records, twice]]
    data.append('{"type": "campaign", "name": "X", "holdout_percent": 90}')
    data.append('{"type": "campagin", "name": "Y"}')
    err = import_error(session_factory, data)
    n = spring + 1
    assert (
        n,
        "campaign 'Spring 春' member 'customer-99': no customer 'customer-99' in this file "
        "or the book (add its customer line before the campaign)",
    ) in err.errors
    text = str(err)
    second = bad["members"][1]["customer"]
    assert f"line {n}: campaign 'Spring 春' member {second!r} has unknown owner 'nobody'" in text
    assert "is another member's" in text
    assert "a holdout member is never contacted" in text
    first_of_autumn = autumn_member["customer"]
    assert f"line {n + 1}: campaign 'Autumn' member {first_of_autumn!r}: outcome converted" in text
    assert f"line {n + 2}: campaign 'AUTUMN' appears twice (also line {n + 1})" in text
    assert f"line {n + 3}: campaign 'X': " in text and "holdout_percent" in text
    assert f"line {n + 4}: unknown type 'campagin' (one of region, " in text
    assert "tier_rules, tier_pin, campaign)" in text
    assert sum(row_counts(session_factory).values()) == 0
