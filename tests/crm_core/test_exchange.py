"""JSON Lines import and export: round trip, idempotency, updates, validation."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core import demo_data
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.exchange import MAX_ERRORS, ImportFailed, ImportReport, export_jsonl, import_jsonl
from crm_core.models import (
    AuditEntry,
    Base,
    Customer,
    Deal,
    Identity,
    Interaction,
    InteractionKind,
    Reminder,
    ReminderStatus,
    SchedulePrefs,
    Team,
    User,
)
from crm_core.services.users import add_user
from crm_core.stages import DEFAULT_STAGES

Factory = sessionmaker[Session]

SAMPLE: list[dict[str, Any]] = [
    {"type": "team", "external_id": "east", "name": "Sales East"},
    {"type": "user", "external_id": "alice", "name": "Alice Chen", "team": "east"},
    {"type": "user", "external_id": "bob", "name": "Bob Martin", "role": "manager", "team": "east"},
    {"type": "identity", "user": "alice", "platform": "slack", "platform_user_id": "U01"},
    {
        "type": "customer",
        "external_id": "acme",
        "name": "Acme Logistics Inc.",
        "owner": "alice",
        "industry": "Logistics",
        "city": "Chicago",
        "tags": ["vip"],
    },
    {
        "type": "contact",
        "external_id": "jo",
        "customer": "acme",
        "name": "Jo Park",
        "birthday": "1984-05-03",
    },
    {
        "type": "deal",
        "external_id": "fleet",
        "customer": "acme",
        "title": "Fleet rollout",
        "amount": "1200",
        "stage": "proposal",
        "created_at": "2025-01-02T09:00:00+08:00",
    },
    {
        "type": "stage_change",
        "external_id": "fleet-1",
        "deal": "fleet",
        "to_stage": "proposal",
        "changed_at": "2025-01-02T01:00:00Z",
        "actor": "alice",
    },
    {
        "type": "interaction",
        "external_id": "n1",
        "customer": "acme",
        "deal": "fleet",
        "contact": "jo",
        "author": "alice",
        "kind": "call",
        "occurred_at": "2025-01-03T10:00:00Z",
        "text": "Asked for 10% off; legal review next week.",
    },
    {
        "type": "reminder",
        "external_id": "r1",
        "owner": "alice",
        "due_at": "2025-01-10T09:00:00Z",
        "text": "Call Jo",
        "customer": "acme",
        "deal": "fleet",
    },
]


def lines(records: list[dict[str, Any]]) -> list[str]:
    """Records as JSON Lines."""
    return [json.dumps(r, ensure_ascii=False) for r in records]


def run_import(factory: Factory, data: Iterable[str]) -> ImportReport:
    """Import in one transaction, as the CLI does."""
    with unit_of_work(factory) as session:
        return import_jsonl(session, data, stages=DEFAULT_STAGES)


def run_export(factory: Factory) -> str:
    """Export in one transaction (it may give rows external ids)."""
    out = io.StringIO()
    with unit_of_work(factory) as session:
        export_jsonl(session, out)
    return out.getvalue()


def row_counts(factory: Factory) -> dict[str, int]:
    """Rows per table, audit log included."""
    with factory() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def wipe(factory: Factory) -> None:
    """Empty every table, children first."""
    with unit_of_work(factory) as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def admin_ctx(session: Session, now: datetime) -> Ctx:
    """A new admin `root` acting in `session` at the fixed time `now`."""
    root = add_user(session, "root", "Root", role="admin", team=None)
    session.flush()
    return Ctx(session, root, clock=lambda: now)


def import_error(factory: Factory, data: list[str]) -> ImportFailed:
    """The ImportFailed an import raises."""
    with pytest.raises(ImportFailed) as info:
        run_import(factory, data)
    return info.value


def test_round_trip_gives_byte_identical_export(session_factory: Factory) -> None:
    records = list(demo_data.generate(12, seed=3))
    run_import(session_factory, lines(records))
    # Rows made outside an import have no external_id; export must give them stable ones.
    with unit_of_work(session_factory) as session:
        owner = session.scalars(select(User).where(User.external_id == "alice")).one()
        customer = Customer(name="Walk-in Ltd", name_key="walk in", owner_id=owner.id, tags=[])
        session.add(customer)
        session.flush()
        when = datetime(2025, 5, 1, tzinfo=UTC)
        for deleted in (None, when):
            session.add(
                Interaction(
                    customer_id=customer.id,
                    author_id=owner.id,
                    kind=InteractionKind.note,
                    occurred_at=when,
                    text="line one\u2028line two",
                    deleted_at=deleted,
                    link="https://acme.slack.com/archives/C1/p1" if deleted is None else None,
                    latitude=41.8781 if deleted is None else None,
                    longitude=-87.6298 if deleted is None else None,
                )
            )
    first = run_export(session_factory)
    assert run_export(session_factory) == first
    assert f'"external_id": "customer-{customer.id}"' in first
    assert "line one" in first
    assert first.count("line one") == 1  # the deleted note is not exported
    assert '"link": "https://acme.slack.com/archives/C1/p1"' in first
    assert '"latitude": 41.8781, "longitude": -87.6298' in first
    assert len(first.splitlines()) == len(records) + 2

    wipe(session_factory)
    assert sum(row_counts(session_factory).values()) == 0
    run_import(session_factory, io.StringIO(first))
    assert run_export(session_factory) == first


def test_export_puts_type_first_in_dependency_order(session_factory: Factory) -> None:
    run_import(session_factory, lines(SAMPLE))
    records = [json.loads(line) for line in run_export(session_factory).splitlines()]
    assert all(next(iter(r)) == "type" for r in records)
    assert [r["type"] for r in records] == [
        "team",
        "user",
        "user",
        "identity",
        "customer",
        "contact",
        "deal",
        "stage_change",
        "interaction",
        "reminder",
    ]
    deal = records[6]
    assert deal["amount"] == "1200.00"
    assert deal["created_at"] == "2025-01-02T01:00:00+00:00"
    assert deal["owner"] == "alice"  # defaulted to the customer's owner
    assert records[8]["source"] == "import"


def test_second_import_changes_nothing(session_factory: Factory) -> None:
    first = run_import(session_factory, lines(SAMPLE))
    assert first.created["customer"] == 1
    assert first.created["identity"] == 1
    counts = row_counts(session_factory)
    assert counts["audit_entries"] == len(SAMPLE)

    again = run_import(session_factory, lines(SAMPLE))
    assert not again.changed
    assert sum(again.created.values()) == 0
    assert sum(again.updated.values()) == 0
    assert sum(again.unchanged.values()) == len(SAMPLE)
    assert row_counts(session_factory) == counts


def test_changed_field_updates_just_that_field_and_audits_it(session_factory: Factory) -> None:
    run_import(session_factory, lines(SAMPLE))
    changed = [dict(r) for r in SAMPLE]
    changed[6]["amount"] = "1500.50"
    report = run_import(session_factory, lines(changed))
    assert report.updated == {**dict.fromkeys(report.updated, 0), "deal": 1}
    assert report.unchanged["deal"] == 0
    with session_factory() as session:
        deal = session.scalars(select(Deal)).one()
        assert deal.amount == Decimal("1500.50")
        assert deal.title == "Fleet rollout"
        assert deal.stage == "proposal"
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "import.update")
        ).one()
        assert entry.entity_type == "deals"
        assert entry.entity_id == deal.id
        assert entry.actor_id is None
        assert entry.actor_label == "import"
        assert entry.changes == {"amount": ["1200.00", "1500.50"]}


def test_record_without_optional_fields_keeps_existing_values(session_factory: Factory) -> None:
    run_import(session_factory, lines(SAMPLE))
    rename = {"type": "customer", "external_id": "acme", "name": "ACME Logistics", "owner": "bob"}
    report = run_import(session_factory, lines([rename]))
    assert report.updated["customer"] == 1
    with session_factory() as session:
        customer = session.scalars(select(Customer)).one()
        assert (customer.name, customer.industry, customer.tags) == (
            "ACME Logistics",
            "Logistics",
            ["vip"],
        )
        assert customer.name_key == "acme logistics"
        changes = session.scalars(
            select(AuditEntry.changes).where(AuditEntry.action == "import.update")
        ).one()
        assert set(changes) == {"name", "owner_id"}


def test_bad_line_is_reported_with_its_number_and_nothing_is_written(
    session_factory: Factory,
) -> None:
    bad = [*SAMPLE[:6], {**SAMPLE[4], "external_id": "acme2", "owner": "zed"}, *SAMPLE[6:]]
    error = import_error(session_factory, lines(bad))
    assert error.errors == [(7, "customer 'acme2' has unknown owner 'zed'")]
    assert str(error) == "line 7: customer 'acme2' has unknown owner 'zed'"
    assert set(row_counts(session_factory).values()) == {0}


def test_records_may_refer_to_later_lines(session_factory: Factory) -> None:
    report = run_import(session_factory, lines(list(reversed(SAMPLE))))
    assert sum(report.created.values()) == len(SAMPLE)


def test_blank_lines_are_skipped_and_counted(session_factory: Factory) -> None:
    data = lines(SAMPLE[:2])
    data[1:1] = ["", "   "]
    data.append(json.dumps({"type": "user", "external_id": "x", "name": "X", "role": "boss"}))
    error = import_error(session_factory, data)
    assert [n for n, _ in error.errors] == [5]


def test_user_naming_an_unknown_team_creates_it(session_factory: Factory) -> None:
    users = [
        {"type": "user", "external_id": "dave", "name": "Dave", "team": "Sales West"},
        {"type": "user", "external_id": "erin", "name": "Erin", "team": "sales west"},
        {"type": "user", "external_id": "alice", "name": "Alice", "team": "Sales East"},
        {"type": "team", "external_id": "east", "name": "Sales East"},
    ]  # fmt: skip
    report = run_import(session_factory, lines(users))
    assert report.created["team"] == 2
    with session_factory() as session:
        teams = {t.external_id: t for t in session.scalars(select(Team))}
        assert set(teams) == {"east", "sales-west"}
        assert teams["sales-west"].name == "Sales West"
        members = {u.external_id: u.team_id for u in session.scalars(select(User))}
        assert members == {
            "dave": teams["sales-west"].id,
            "erin": teams["sales-west"].id,
            "alice": teams["east"].id,
        }
    assert not run_import(session_factory, lines(users)).changed


def test_identity_is_keyed_by_platform_account(session_factory: Factory) -> None:
    run_import(session_factory, lines(SAMPLE))
    moved = {"type": "identity", "user": "bob", "platform": "slack", "platform_user_id": "U01"}
    telegram = {"type": "identity", "user": "bob", "platform": "telegram", "platform_user_id": "42"}
    report = run_import(session_factory, lines([moved, telegram]))
    assert (report.created["identity"], report.updated["identity"]) == (1, 1)
    with session_factory() as session:
        links = {
            (i.platform, i.platform_user_id): i.user.external_id
            for i in session.scalars(select(Identity))
        }
    assert links == {("slack", "U01"): "bob", ("telegram", "42"): "bob"}
    error = import_error(session_factory, lines([{**telegram, "user": "nobody"}]))
    assert error.errors == [(1, "identity 'telegram:42' has unknown user 'nobody'")]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            {**SAMPLE[6], "stage": "wonn"},
            "deal 'fleet': stage: unknown stage 'wonn'; the stages are lead, qualified, "
            "proposal, negotiation, won, lost",
        ),
        ({**SAMPLE[8], "kind": "fax"}, "interaction 'n1': kind: Input should be 'call'"),
        ({**SAMPLE[8], "author": "zed"}, "interaction 'n1' has unknown author 'zed'"),
        ({**SAMPLE[7], "deal": "nope"}, "stage_change 'fleet-1' has unknown deal 'nope'"),
        ({**SAMPLE[9], "status": "later"}, "reminder 'r1': status: Input should be 'pending'"),
        ({**SAMPLE[1], "role": "boss"}, "user 'alice': role: Input should be 'rep'"),
        ({**SAMPLE[6], "expected_close": "2025-02-30"}, "deal 'fleet': expected_close: "),
        (
            {**SAMPLE[8], "occurred_at": "2025-01-03T10:00:00"},
            "interaction 'n1': occurred_at: Input should have timezone info",
        ),
        ({"type": "customer", "external_id": "x", "name": "X"}, "missing required field 'owner'"),
        ({**SAMPLE[5], "mobile": "1"}, "contact 'jo': unknown field 'mobile'"),
        ({"type": "lead", "external_id": "x"}, "unknown type 'lead'"),
        ({"name": "no type"}, "missing 'type'"),
        ({**SAMPLE[6], "amount": "12.345"}, "amount: Decimal input should have no more than 2"),
        ({**SAMPLE[1], "timezone": "Mars/Olympus"}, "timezone: unknown timezone 'Mars/Olympus'"),
    ],
)
def test_invalid_record_is_reported(
    session_factory: Factory, record: dict[str, Any], reason: str
) -> None:
    data = lines([r for r in SAMPLE if r.get("external_id") != record.get("external_id")])
    data.insert(3, json.dumps(record))
    error = import_error(session_factory, data)
    assert [n for n, _ in error.errors] == [4]
    assert reason in error.errors[0][1]
    assert set(row_counts(session_factory).values()) == {0}


def test_not_json_is_reported(session_factory: Factory) -> None:
    error = import_error(session_factory, [*lines(SAMPLE[:2]), "{oops"])
    assert error.errors[0][0] == 3
    assert error.errors[0][1].startswith("not valid JSON")


def test_one_bad_record_does_not_cascade(session_factory: Factory) -> None:
    # The customer is broken; the records that refer to it are not reported as well.
    data = lines([{**r, "tags": "vip"} if r["type"] == "customer" else r for r in SAMPLE])
    error = import_error(session_factory, data)
    assert [n for n, _ in error.errors] == [5]


def test_duplicate_external_id_is_an_error(session_factory: Factory) -> None:
    error = import_error(session_factory, lines([*SAMPLE, SAMPLE[5]]))
    assert error.errors == [(len(SAMPLE) + 1, "contact 'jo' appears twice (also line 6)")]


def test_note_deal_must_belong_to_its_customer(session_factory: Factory) -> None:
    other = {"type": "customer", "external_id": "beta", "name": "Beta", "owner": "alice"}
    note = {**SAMPLE[8], "customer": "beta", "contact": None}
    error = import_error(session_factory, lines([*SAMPLE[:8], other, note]))
    assert error.errors == [(10, "interaction 'n1': deal 'fleet' is not a deal of customer 'beta'")]


def test_errors_stop_after_the_limit(session_factory: Factory) -> None:
    bad = [json.dumps({"type": "user", "external_id": f"u{i}"}) for i in range(MAX_ERRORS + 10)]
    error = import_error(session_factory, bad)
    assert len(error.errors) == MAX_ERRORS
    assert error.truncated
    assert str(error).endswith(f"(stopped after {MAX_ERRORS} errors)")


def test_reference_to_existing_database_row(session_factory: Factory) -> None:
    run_import(session_factory, lines(SAMPLE))
    note = {**SAMPLE[8], "external_id": "n2", "text": "Second note"}
    report = run_import(session_factory, lines([note]))
    assert report.created["interaction"] == 1
    with session_factory() as session:
        texts = session.scalars(select(Interaction.text).order_by(Interaction.id)).all()
    assert texts == [SAMPLE[8]["text"], "Second note"]


# What chat refuses, import refuses too (crm_core.rules), with the line and a reason.
SAME_RULES_AS_CHAT = [
    ({**SAMPLE[8], "text": "   "}, "interaction 'n1': text is empty"),
    ({**SAMPLE[8], "text": "x" * 100_000}, "interaction 'n1': text is longer than 20000"),
    ({**SAMPLE[8], "text": "a\x00b"}, "interaction 'n1': text holds a control character"),
    ({**SAMPLE[8], "text": "a\ud800b"}, "interaction 'n1': : Invalid JSON"),
    ({**SAMPLE[6], "currency": "ABC"}, "deal 'fleet': 'ABC' is not an ISO 4217 currency"),
    ({**SAMPLE[6], "currency": "XAU"}, "deal 'fleet': 'XAU' is not an ISO 4217 currency"),
    ({**SAMPLE[4], "tags": ["x" * 5000] * 500}, "customer 'acme': tag is longer than 50"),
    ({**SAMPLE[4], "tags": [f"t{i}" for i in range(500)]}, "customer 'acme': more than 20 tags"),
    ({**SAMPLE[4], "name": "Ev\u202eil Corp"}, "customer 'acme': name holds a right-to-left"),
    ({**SAMPLE[4], "city": "Chi\x00cago"}, "customer 'acme': city holds a control character"),
    ({**SAMPLE[5], "email": "not an email"}, "contact 'jo': 'not an email' is not an email"),
    ({**SAMPLE[1], "email": "not an email"}, "user 'alice': 'not an email' is not an email"),
    ({**SAMPLE[1], "locale": "klingon"}, "user 'alice': locale 'klingon' is not one of en, zh"),
    (
        {**SAMPLE[9], "due_at": "0001-01-01T00:00:00Z"},
        "reminder 'r1': due_at 0001-01-01 is outside",
    ),
    ({**SAMPLE[9], "due_at": "0001-01-01T00:00:00+05:00"}, "reminder 'r1': due_at: 0001-01-01T"),
    ({**SAMPLE[8], "occurred_at": "9999-12-31T23:59:00-05:00"}, "occurred_at: 9999-12-31T23:59"),
    ({**SAMPLE[6], "expected_close": "0001-01-01"}, "deal 'fleet': expected_close 0001-01-01 is"),
    (
        {**SAMPLE[7], "to_stage": "won"},
        "stage_change 'fleet-1': the latest move of deal 'fleet' ends in 'won' but the deal is "
        "in 'proposal'",
    ),
]


@pytest.mark.parametrize(("record", "reason"), SAME_RULES_AS_CHAT)
def test_import_applies_the_chat_rules(
    session_factory: Factory, record: dict[str, Any], reason: str
) -> None:
    data = lines([r for r in SAMPLE if r.get("external_id") != record.get("external_id")])
    data.insert(3, json.dumps(record))
    error = import_error(session_factory, data)
    assert [n for n, _ in error.errors] == [4], error.errors
    assert reason in error.errors[0][1]
    assert set(row_counts(session_factory).values()) == {0}


def test_inactive_owner_is_refused_where_chat_refuses_it(session_factory: Factory) -> None:
    """A customer or pending reminder of an inactive user is refused; a lost deal is history."""
    gone = {**SAMPLE[1], "active": False}
    lost = {**SAMPLE[6], "external_id": "old", "stage": "lost", "owner": "alice"}
    data = lines([SAMPLE[0], gone, *SAMPLE[2:7], lost, *SAMPLE[7:]])
    error = import_error(session_factory, data)
    assert error.errors == [
        (5, "customer 'acme': owner 'alice' is not active"),
        (11, "reminder 'r1': owner 'alice' is not active"),
    ]
    assert set(row_counts(session_factory).values()) == {0}


def test_deactivating_an_owner_who_keeps_customers_is_refused(session_factory: Factory) -> None:
    run_import(session_factory, lines(SAMPLE))
    before = row_counts(session_factory)
    error = import_error(session_factory, lines([{**SAMPLE[1], "active": False}]))
    assert error.errors == [
        (
            1,
            "user 'alice': cannot be made inactive while holding "
            "1 customer(s) (#1: `reassign #1 to @<name>`); "
            "1 open deal(s) (#1: `edit deal #1: owner @<name>`); "
            "1 pending reminder(s) (#1: `cancel #1`, then `remind @<name> ...` to set it again); "
            "move them first (or give them to someone else in the same file)",
        )
    ]
    assert row_counts(session_factory) == before
    handover = [{**SAMPLE[i], "owner": "bob"} for i in (4, 6, 9)]
    run_import(session_factory, lines([{**SAMPLE[1], "active": False}, *handover]))


def test_export_audits_the_external_ids_it_gives(session_factory: Factory) -> None:
    """Rows made in chat get `type-id` external ids on export, each with an audit entry."""
    run_import(session_factory, lines(SAMPLE))
    with unit_of_work(session_factory) as session:
        owner = session.scalars(select(User).where(User.external_id == "alice")).one()
        customer = Customer(name="Walk-in Ltd", name_key="walk in", owner_id=owner.id, tags=[])
        session.add(customer)
        session.flush()
        customer_id = customer.id
    run_export(session_factory)
    with session_factory() as session:
        entries = session.execute(
            select(AuditEntry.entity_type, AuditEntry.entity_id, AuditEntry.changes).where(
                AuditEntry.action == "export.assign_id"
            )
        ).all()
    assert [tuple(e) for e in entries] == [
        ("customers", customer_id, {"external_id": [None, f"customer-{customer_id}"]})
    ]
    before = row_counts(session_factory)
    run_export(session_factory)
    assert row_counts(session_factory) == before


def test_digest_settings_and_reminder_origin_survive_a_round_trip(
    session_factory: Factory,
) -> None:
    """A user's digest settings, a reminder's creator and its series come back unchanged."""
    run_import(session_factory, lines(SAMPLE))
    due = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with unit_of_work(session_factory) as session:
        users = {u.external_id: u.id for u in session.scalars(select(User))}
        session.add(SchedulePrefs(user_id=users["alice"], digest_minute=7 * 60 + 15))
        session.add(
            SchedulePrefs(
                user_id=users["bob"],
                digest_days="daily",
                digest_off=True,
                quiet_start=20 * 60,
                quiet_end=8 * 60,
            )
        )
        first = Reminder(
            owner_id=users["alice"],
            created_by_id=users["bob"],
            due_at=due,
            text="Weekly pipeline review",
            recurrence="weekly:0@09:00",
            status=ReminderStatus.done,
        )
        session.add(first)
        session.flush()
        first.series_id = first.id
        session.add(
            Reminder(
                owner_id=users["alice"],
                created_by_id=users["bob"],
                due_at=due.replace(day=12),
                text="Weekly pipeline review",
                recurrence="weekly:0@09:00",
                series_id=first.id,
            )
        )
    exported = run_export(session_factory)
    assert '"digest": {"at": "07:15", "days": "weekdays", "off": false}' in exported
    assert (
        '"digest": {"at": null, "days": "daily", "off": true, "quiet": "20:00-08:00"}' in exported
    )
    assert exported.count('"created_by": "bob"') == 2
    assert exported.count(f'"series": "reminder-{first.id}"') == 2

    wipe(session_factory)
    run_import(session_factory, io.StringIO(exported))
    assert run_export(session_factory) == exported
    with session_factory() as session:
        series = session.execute(
            select(Reminder.id, Reminder.series_id)
            .where(Reminder.series_id.is_not(None))
            .order_by(Reminder.id)
        )
        [(head, head_series), (_, next_series)] = [tuple(r) for r in series]
    assert head_series == next_series == head
    report = run_import(session_factory, io.StringIO(exported))
    assert not report.changed


def test_digest_settings_are_checked_and_updated(session_factory: Factory) -> None:
    run_import(session_factory, lines(SAMPLE))
    error = import_error(session_factory, lines([{**SAMPLE[1], "digest": {"at": "25:00"}}]))
    assert error.errors == [(1, "user 'alice': digest.at: '25:00' is not a time of day like 08:30")]
    error = import_error(session_factory, lines([{**SAMPLE[1], "digest": {"quiet": "8:00-8:00"}}]))
    assert "is not quiet hours like 20:00-08:00" in error.errors[0][1]
    report = run_import(session_factory, lines([{**SAMPLE[1], "digest": {"at": "06:45"}}]))
    assert report.updated["user"] == 1
    with session_factory() as session:
        prefs = session.scalars(select(SchedulePrefs)).one()
        assert (prefs.digest_minute, prefs.digest_days, prefs.digest_off) == (
            405,
            "weekdays",
            False,
        )
        audited = session.scalars(
            select(AuditEntry.changes).where(AuditEntry.entity_type == "schedule_prefs")
        ).one()
    assert audited["digest_minute"] == [None, 405]


PRICED: list[dict[str, Any]] = [
    {"type": "region", "external_id": "central", "name": "Central"},
    {"type": "team", "external_id": "east", "name": "Sales East", "region": "central"},
    {"type": "user", "external_id": "alice", "name": "Alice Chen", "team": "east"},
    {"type": "customer", "external_id": "acme", "name": "Acme", "owner": "alice"},
    {
        "type": "product",
        "external_id": "gtx-pro",
        "name": "GTX Pro",
        "family": "GTX",
        "price": "4821",
    },
    {
        "type": "deal",
        "external_id": "d1",
        "customer": "acme",
        "title": "Twelve GTX Pro",
        "amount": "57852",
        "stage": "proposal",
        "product": "gtx-pro",
        "quantity": 12,
        "forecast_category": "commit",
    },
    {
        "type": "quota",
        "external_id": "q1",
        "user": "alice",
        "period_start": "2027-01-01",
        "period_end": "2027-04-01",
        "amount": "120000",
    },
]


def test_regions_products_and_forecast_categories_round_trip(session_factory: Factory) -> None:
    run_import(session_factory, lines(PRICED))
    first = run_export(session_factory)
    records = [json.loads(line) for line in first.splitlines()]
    assert [r["type"] for r in records] == [
        "region",
        "team",
        "user",
        "customer",
        "product",
        "deal",
        "quota",
    ]
    assert records[6]["amount"] == "120000.00"
    assert records[1]["region"] == "central"
    assert records[4]["price"] == "4821.00"
    assert (records[5]["product"], records[5]["quantity"], records[5]["forecast_category"]) == (
        "gtx-pro",
        12,
        "commit",
    )
    assert not run_import(session_factory, io.StringIO(first)).changed
    wipe(session_factory)
    run_import(session_factory, io.StringIO(first))
    assert run_export(session_factory) == first


def test_unknown_product_and_bad_category_are_refused(session_factory: Factory) -> None:
    bad = [dict(r) for r in PRICED]
    bad[5]["product"] = "gtx-max"
    bad.append({**PRICED[5], "external_id": "d2", "forecast_category": "maybe"})
    err = import_error(session_factory, lines(bad))
    assert [n for n, _ in err.errors] == [6, 8]
    assert "unknown product 'gtx-max'" in err.errors[0][1]
    assert sum(row_counts(session_factory).values()) == 0


SEGMENTS: list[dict[str, Any]] = [
    *SAMPLE[:3],
    SAMPLE[4],
    {"type": "customer", "external_id": "beta", "name": "Beta", "owner": "bob", "city": "Paris"},
    {
        "type": "segment",
        "external_id": "sh",
        "name": "Chicago quiet",
        "filters": "city Chicago quiet 30d",
        "owner": "bob",
        "created_at": "2026-11-01T09:00:00+00:00",
    },
    {
        "type": "segment",
        "external_id": "frozen",
        "name": "Frozen",
        "filters": "owner @alice,@bob",
        "snapshot": True,
        "owner": "alice",
        "created_at": "2026-11-02T09:00:00+00:00",
        "members": ["acme", "beta"],
    },
]


def test_segments_round_trip_with_their_frozen_members(session_factory: Factory) -> None:
    """Live and snapshot segments (members by external id) export, import and export the same."""
    run_import(session_factory, lines(SEGMENTS))
    first = run_export(session_factory)
    records = [json.loads(line) for line in first.splitlines() if '"segment"' in line]
    assert [(r["name"], r["snapshot"], r.get("members")) for r in records] == [
        ("Chicago quiet", False, None),
        ("Frozen", True, ["acme", "beta"]),
    ]
    assert not run_import(session_factory, io.StringIO(first)).changed
    wipe(session_factory)
    run_import(session_factory, io.StringIO(first))
    assert run_export(session_factory) == first
    # A changed member list is an update of that snapshot only.
    fewer = first.replace('"members": ["acme", "beta"]', '"members": ["acme"]')
    report = run_import(session_factory, io.StringIO(fewer))
    assert report.updated["segment"] == 1 and report.unchanged["segment"] == 1
    assert run_export(session_factory) == fewer


def test_segment_with_unknown_member_is_refused(session_factory: Factory) -> None:
    """A snapshot naming a customer nobody knows is refused on its line; nothing is written."""
    bad = [dict(r) for r in SEGMENTS]
    bad[-1]["members"] = ["acme", "ghost"]
    err = import_error(session_factory, lines(bad))
    assert [n for n, _ in err.errors] == [7]
    assert "unknown member 'ghost'" in err.errors[0][1]
    assert sum(row_counts(session_factory).values()) == 0


def test_segment_name_taken_by_a_sibling_or_a_stored_segment_is_a_line_error(
    session_factory: Factory,
) -> None:
    """Names fold (case, width, script): a clash is reported on its line, not a database error."""
    sibling = [dict(r) for r in SEGMENTS]
    sibling[-1]["name"] = "ＣＨＩＣＡＧＯ quiet"
    err = import_error(session_factory, lines(sibling))
    assert [n for n, _ in err.errors] == [7]
    assert "used by segment 'sh' (line 6)" in err.errors[0][1]
    assert sum(row_counts(session_factory).values()) == 0

    stored = [dict(r) for r in SEGMENTS]
    stored[-2]["name"] = "華東 Quiet"
    run_import(session_factory, lines(stored))
    again = [*SEGMENTS[:5], {**SEGMENTS[6], "external_id": "other", "name": "华东 quiet"}]
    before = row_counts(session_factory)
    err = import_error(session_factory, lines(again))
    assert [n for n, _ in err.errors] == [6]
    assert "used by segment 'sh'" in err.errors[0][1]
    assert row_counts(session_factory) == before
    # The same segment keeping (or re-spelling) its own name is no clash.
    respelled = {**SEGMENTS[5], "name": "华东 quiet"}
    assert run_import(session_factory, lines([*SEGMENTS[:5], respelled])).updated["segment"] == 1


def test_null_means_a_fields_default_and_a_region_is_a_line_of_its_own(
    session_factory: Factory,
) -> None:
    """Another tool's `"source": null` imports with the default source; a team naming a
    region with no region line is refused with the line to add, and imports once it is there."""
    note = {**SAMPLE[8], "source": None}
    report = run_import(session_factory, lines([*SAMPLE[:8], note]))
    assert report.created["interaction"] == 1
    with session_factory() as session:
        assert session.scalars(select(Interaction.source)).one() == "import"
    team = {"type": "team", "external_id": "west", "name": "Sales West", "region": "EMEA"}
    error = import_error(session_factory, lines([team]))
    assert error.errors == [
        (
            1,
            "team 'west' has unknown region 'EMEA': add a line "
            '{"type": "region", "external_id": "EMEA", "name": ...} before it',
        )
    ]
    region = {"type": "region", "external_id": "EMEA", "name": "Europe"}
    assert run_import(session_factory, lines([region, team])).created["team"] == 1


def test_a_customers_creation_date_survives_export_and_import(session_factory: Factory) -> None:
    """`added 30d` reads a customer's creation date: a move to a new database keeps it (rev14
    F3); a line without one is dated at the import, as before."""
    dated = {**SAMPLE[4], "created_at": "2026-06-01T08:00:00Z"}
    run_import(session_factory, lines([*SAMPLE[:4], dated]))
    first = run_export(session_factory)
    (line,) = [json.loads(r) for r in first.splitlines() if '"type": "customer"' in r]
    assert line["created_at"] == "2026-06-01T08:00:00+00:00"
    wipe(session_factory)
    run_import(session_factory, io.StringIO(first))
    with session_factory() as session:
        (created,) = session.scalars(select(Customer.created_at)).all()
    assert created.replace(tzinfo=UTC) == datetime(2026, 6, 1, 8, tzinfo=UTC)
    assert run_export(session_factory) == first
