"""Custom fields in crm_core: the typing rules, the service, undo, and the exchange format."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core import rules
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import AuditEntry, Contact, Customer, CustomField, Deal, Role, User
from crm_core.services import custom_fields as svc
from crm_core.services import customers as customer_svc
from crm_core.services.edit_undo import undo_edit
from crm_core.services.users import add_user
from tests.crm_core.test_exchange import (
    SAMPLE,
    import_error,
    lines,
    row_counts,
    run_export,
    run_import,
    wipe,
)

Factory = sessionmaker[Session]
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "choices", "typed", "stored"),
    [
        ("text", [], "  WeChat   id ", "WeChat id"),
        ("number", [], "48,000", "48000"),
        ("number", [], "-3.50", "-3.5"),
        ("number", [], "0.000", "0"),
        ("date", [], "2027-01-15", "2027-01-15"),
        ("choice", ["North", "South"], "south", "South"),
        ("yesno", [], "YES", True),
        ("yesno", [], "否", False),
        ("yesno", [], False, False),
        ("text", [], "", None),
    ],
)
def test_values_are_stored_in_one_form(
    kind: str, choices: list[str], typed: Any, stored: Any
) -> None:
    """Each kind's typed words become one stored form (what export writes)."""
    assert rules.custom_value("f", kind, choices, typed) == stored


@pytest.mark.parametrize(
    ("kind", "choices", "typed", "key"),
    [
        ("number", [], "abc", "error.custom_number"),
        ("number", [], "1e400", "error.custom_number"),
        ("number", [], "12,34", "error.custom_number"),
        ("date", [], "next friday", "error.custom_date"),
        ("date", [], "1900-01-01", "error.date_out_of_range"),
        ("choice", ["North", "South"], "West", "error.custom_choice"),
        ("yesno", [], "maybe", "error.custom_yesno"),
        ("text", [], "x" * 201, "error.too_long"),
        ("text", [], True, "error.custom_value_type"),
    ],
)
def test_bad_values_are_refused_with_what_to_type(
    kind: str, choices: list[str], typed: Any, key: str
) -> None:
    """A wrong value is refused with the message naming the kind's form."""
    with pytest.raises(rules.Rule) as info:
        rules.custom_value("f", kind, choices, typed)
    assert info.value.key == key


def test_choice_message_lists_the_choices() -> None:
    """A choice outside the list names the list."""
    with pytest.raises(rules.Rule) as info:
        rules.custom_value("region", "choice", ["North", "South"], "West")
    assert info.value.params["choices"] == "North, South"
    assert "North, South" in info.value.reason


def _ctx(session: Session, role: Role = Role.admin, handle: str = "root") -> Ctx:
    user = session.scalar(select(User).where(User.external_id == handle))
    if user is None:
        user = add_user(session, handle, handle.title(), role=role.value, team="East")
        session.flush()
    return Ctx(session, user, clock=lambda: NOW)


def test_service_declares_sets_undoes_and_removes(session_factory: Factory) -> None:
    """Admins declare; an update sets and audits per field; undo puts it back; remove keeps log."""
    with unit_of_work(session_factory) as session:
        admin = _ctx(session)
        field = svc.declare_field(admin, "customer", "Region", "choice", ["North", "South"])
        assert (field.name, field.choices) == ("region", ["North", "South"])
        rep = _ctx(session, Role.rep, "alice")
        with pytest.raises(PermissionDenied):
            svc.declare_field(rep, "customer", "tier", "text")
        with pytest.raises(Invalid) as taken:
            svc.declare_field(admin, "customer", "region", "text")
        assert taken.value.key == "error.custom_exists"
        customer = customer_svc.create_customer(rep, "Acme")
        changed, entry_id = customer_svc.update_customer(rep, customer, custom={"region": "north"})
        assert changed == {"custom.region": (None, "North")}
        assert customer.custom == {"region": "North"}
        with pytest.raises(Invalid) as unknown:
            customer_svc.update_customer(rep, customer, custom={"tier": "Gold"})
        assert unknown.value.key == "error.custom_unknown"
        assert entry_id is not None
        undone = undo_edit(rep, entry_id)
        assert undone.changed == {"custom.region": ("North", None)}
        assert customer.custom == {}
        customer_svc.update_customer(rep, customer, custom={"region": "South"})
        with pytest.raises(PermissionDenied):
            svc.remove_field(rep, field)
        assert svc.remove_field(admin, field) == 1
        assert customer.custom == {}
        assert session.scalars(select(CustomField)).all() == []
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == "customers")
        ).all()
        assert actions == [
            "customer.create",
            "customer.update",
            "customer.undo_edit",
            "customer.update",
            "customer.field_removed",
        ]


def test_an_undo_of_a_removed_field_is_refused(session_factory: Factory) -> None:
    """Undo after the field was removed says the field is unknown and changes nothing."""
    with unit_of_work(session_factory) as session:
        admin = _ctx(session)
        field = svc.declare_field(admin, "deal", "renewal", "date")
        customer = customer_svc.create_customer(admin, "Acme")
        deal = Deal(
            customer_id=customer.id,
            title="Fleet",
            title_key="fleet",
            stage="lead",
            owner_id=admin.actor.id,
        )
        session.add(deal)
        session.flush()
        from crm_core.services import deals as deal_svc

        _, entry_id = deal_svc.update_deal(admin, deal, custom={"renewal": "next friday"})
        assert deal.custom == {"renewal": "2026-11-27"}
        svc.remove_field(admin, field)
        assert entry_id is not None
        with pytest.raises(Invalid):
            undo_edit(admin, entry_id)
        assert deal.custom == {}


CUSTOM: list[dict[str, Any]] = [
    {
        "type": "custom_field",
        "record": "customer",
        "name": "region",
        "kind": "choice",
        "choices": ["North", "South"],
    },
    {"type": "custom_field", "record": "customer", "name": "employees", "kind": "number"},
    {"type": "custom_field", "record": "contact", "name": "wechat", "kind": "text"},
    {"type": "custom_field", "record": "deal", "name": "renewal", "kind": "date"},
    {"type": "custom_field", "record": "deal", "name": "signed", "kind": "yesno"},
]


def _with_values(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        r = dict(r)
        if r["type"] == "customer":
            r["custom"] = {"region": "north", "employees": "1,200"}
        elif r["type"] == "contact":
            r["custom"] = {"wechat": "jo_park"}
        elif r["type"] == "deal":
            r["custom"] = {"signed": "yes", "renewal": "2027-01-15"}
        out.append(r)
    return [*CUSTOM, *out]


def test_custom_fields_round_trip_byte_identical(session_factory: Factory) -> None:
    """Declarations and values: export → import into an empty database → export is identical."""
    run_import(session_factory, lines(_with_values(SAMPLE)))
    with session_factory() as session:
        assert session.scalars(select(Customer.custom)).all() == [
            {"employees": "1200", "region": "North"}
        ]
        assert session.scalars(select(Contact.custom)).all() == [{"wechat": "jo_park"}]
        assert session.scalars(select(Deal.custom)).all() == [
            {"renewal": "2027-01-15", "signed": True}
        ]
    first = run_export(session_factory)
    assert (
        '{"type": "custom_field", "record": "customer", "name": "region", "kind": "choice", '
        '"choices": ["North", "South"]}' in first
    )
    assert '"custom": {"employees": "1200", "region": "North"}' in first
    assert '"custom": {"renewal": "2027-01-15", "signed": true}' in first
    types = [line.split('"', 4)[3] for line in first.splitlines()]
    assert types.index("custom_field") < types.index("customer")
    # Importing the same file again changes nothing.
    counts = row_counts(session_factory)
    again = run_import(session_factory, io.StringIO(first))
    assert sum(again.created.values()) + sum(again.updated.values()) == 0
    assert row_counts(session_factory) == counts
    wipe(session_factory)
    run_import(session_factory, io.StringIO(first))
    assert run_export(session_factory) == first


def test_import_checks_values_against_the_declarations(session_factory: Factory) -> None:
    """Unknown fields, wrong values, changed kinds and dropped choices are refused by line."""
    run_import(session_factory, lines(_with_values(SAMPLE)))
    before = row_counts(session_factory)
    customer = next(r for r in SAMPLE if r["type"] == "customer")
    bad = [
        {**customer, "custom": {"colour": "red"}},
        {**customer, "external_id": "x2", "name": "Beta", "custom": {"employees": "abc"}},
        {**customer, "external_id": "x3", "name": "Gamma", "custom": {"region": "West"}},
    ]
    failed = import_error(session_factory, lines(bad))
    reasons = [reason for _, reason in failed.errors]
    assert "customer 'acme' has unknown custom field 'colour'" in reasons
    assert any("employees: 'abc' is not a number" in r for r in reasons), reasons
    assert any("'West' is not one of North, South" in r for r in reasons), reasons
    bad = [
        {"type": "custom_field", "record": "customer", "name": "employees", "kind": "text"},
        {
            "type": "custom_field",
            "record": "customer",
            "name": "region",
            "kind": "choice",
            "choices": ["North"],
        },
        {"type": "custom_field", "record": "deal", "name": "amount", "kind": "number"},
        {"type": "custom_field", "record": "deal", "name": "tier", "kind": "choice"},
    ]
    failed = import_error(session_factory, lines(bad))
    reasons = [reason for _, reason in failed.errors]
    assert any("kind cannot change from number to text" in r for r in reasons), reasons
    assert any("choices cannot be dropped (South)" in r for r in reasons), reasons
    assert any("'amount' is a deal's own field" in r for r in reasons), reasons
    assert any("a choice field needs 1 to" in r for r in reasons), reasons
    assert row_counts(session_factory) == before


def test_a_file_may_add_choices_and_clear_values(session_factory: Factory) -> None:
    """New choices may be added; a record's `custom` replaces its values as a whole."""
    run_import(session_factory, lines(_with_values(SAMPLE)))
    customer = next(r for r in SAMPLE if r["type"] == "customer")
    grown = {**CUSTOM[0], "choices": ["North", "South", "East"]}
    report = run_import(session_factory, lines([grown, {**customer, "custom": {"region": "East"}}]))
    assert report.updated["custom_field"] == 1 and report.updated["customer"] == 1
    with session_factory() as session:
        assert session.scalars(select(Customer.custom)).all() == [{"region": "East"}]
        (entry,) = session.scalars(
            select(AuditEntry.changes).where(
                AuditEntry.action == "import.update", AuditEntry.entity_type == "customers"
            )
        ).all()
        assert entry["custom"][1] == {"region": "East"}
