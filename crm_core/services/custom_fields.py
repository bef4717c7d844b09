"""Custom fields: admins declare them on customers, contacts or deals; edits set their values."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from crm_core import audit, rules
from crm_core.context import Ctx
from crm_core.errors import Invalid, NotFound, PermissionDenied
from crm_core.models import AuditEntry, Contact, Customer, CustomField, Deal, Role, TierProgram
from crm_core.when import parse_day

MODELS: dict[str, type[Customer | Contact | Deal]] = {
    "customer": Customer,
    "contact": Contact,
    "deal": Deal,
}
BUILT_IN = rules.CUSTOM_RESERVED
_BATCH = 2000


def fields_of(session: Session, record: str) -> list[CustomField]:
    """The fields declared on one kind of record, in the order they were declared."""
    return list(
        session.scalars(
            select(CustomField).where(CustomField.record == record).order_by(CustomField.id)
        )
    )


def all_fields(ctx: Ctx) -> list[CustomField]:
    """Every declared field: customers', then contacts', then deals', each in declared order."""
    found = ctx.session.scalars(select(CustomField).order_by(CustomField.id)).all()
    order = {r: i for i, r in enumerate(rules.CUSTOM_RECORDS)}
    return sorted(found, key=lambda f: (order.get(f.record, 9), f.id))


def _admin(ctx: Ctx) -> None:
    if ctx.actor.role != Role.admin:
        raise PermissionDenied("error.custom_admin_only")


def find_field(ctx: Ctx, record: str, name: str) -> CustomField:
    """The field `name` declared on `record`; NotFound names the fields there are."""
    record = rules.custom_record(record)
    wanted = name.strip().lower()
    for f in fields_of(ctx.session, record):
        if f.name == wanted:
            return f
    raise NotFound(
        "error.custom_unknown",
        field=name.strip(),
        record=record,
        known=", ".join(f.name for f in fields_of(ctx.session, record)) or "-",
    )


def declare_field(
    ctx: Ctx,
    record: str,
    name: str,
    kind: str,
    choices: list[str] | None = None,
    *,
    reserved: Collection[str] = (),
) -> CustomField:
    """Declare a field (admins only); `reserved` adds words the edit grammar already reads."""
    _admin(ctx)
    record = rules.custom_record(record)
    name = rules.custom_name(name)
    kind = rules.custom_kind(kind)
    cleaned = rules.custom_choices(kind, list(choices or []))
    if name in BUILT_IN[record] or name in {w.casefold() for w in reserved}:
        raise Invalid("error.custom_name_taken", field=name, record=record)
    if any(f.name == name for f in fields_of(ctx.session, record)):
        raise Invalid("error.custom_exists", field=name, record=record)
    field = CustomField(record=record, name=name, kind=kind, choices=cleaned, created_at=ctx.now())
    ctx.session.add(field)
    audit.record(ctx.session, ctx.actor, "custom_field.create", field, None)
    return field


def _holders(ctx: Ctx, field: CustomField) -> list[tuple[int, dict[str, Any], int]]:
    """(id, values, customer id) of each record holding a value of the field."""
    model: Any = MODELS[field.record]
    owner = model.id if model is Customer else model.customer_id
    # JSON is queried differently by each database: the values are read here, not searched.
    rows = ctx.session.execute(select(model.id, model.custom, owner).order_by(model.id))
    return [(rid, values, cid) for rid, values, cid in rows if values and field.name in values]


def values_in_use(ctx: Ctx, field: CustomField) -> int:
    """How many records hold a value of the field."""
    return len(_holders(ctx, field))


def remove_field(ctx: Ctx, field: CustomField) -> int:
    """Remove a field and its values (admins only); each value stays in its record's audit log.

    Returns how many records lost a value.
    """
    _admin(ctx)
    s = ctx.session
    ladder = s.get(TierProgram, 1)
    if field.record == "customer" and ladder is not None and ladder.points_field == field.name:
        # Every customer would fall to 0 points and lose its tier at the next review.
        raise Invalid("error.field_holds_points", field=field.name)
    key = audit.CUSTOM_PREFIX + field.name
    holders = _holders(ctx, field)
    table = cast(Table, MODELS[field.record].__table__)
    # Bulk statements: one audited change per record, as an edit clearing it would write, but
    # without loading thousands of rows one by one.
    stmt = update(table).where(table.c.id == bindparam("b_id")).values(custom=bindparam("b_new"))
    now = ctx.now()
    for start in range(0, len(holders), _BATCH):
        chunk = holders[start : start + _BATCH]
        s.execute(
            stmt,
            [
                {"b_id": rid, "b_new": {k: v for k, v in values.items() if k != field.name}}
                for rid, values, _ in chunk
            ],
        )
        s.execute(
            insert(cast(Table, AuditEntry.__table__)),
            [
                {
                    "at": now,
                    "actor_id": ctx.actor.id,
                    "actor_label": None,
                    "action": f"{field.record}.field_removed",
                    "entity_type": table.name,
                    "entity_id": rid,
                    "changes": {key: [values[field.name], None]},
                    "customer_id": cid,
                }
                for rid, values, cid in chunk
            ],
        )
    before = audit.snapshot(field)
    entry = audit.record(s, ctx.actor, "custom_field.remove", field, before)
    entry.changes = {**audit.diff(before, None), "values_removed": len(holders)}
    s.delete(field)
    s.flush()
    # The bulk update bypassed the identity map: records read before must be read again.
    s.expire_all()
    return len(holders)


def read_value(ctx: Ctx, field: CustomField, value: Any) -> Any:
    """A value as stored: typed words (a date as the time phrases read it) or a stored value."""
    if field.kind == "date" and isinstance(value, str) and value.strip():
        day = parse_day(value, ctx.tz, ctx.now(), day_first=ctx.day_first)
        if day is None:
            raise Invalid("error.custom_date", field=field.name, value=value)
        value = day.isoformat()
    return rules.custom_value(field.name, field.kind, list(field.choices), value)


def wanted(ctx: Ctx, record: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """{`custom.<name>`: stored value or None} for an update; refuses unknown fields."""
    declared = {f.name: f for f in fields_of(ctx.session, record)} if values else {}
    out: dict[str, Any] = {}
    for name, value in values.items():
        field = declared.get(name.strip().lower())
        if field is None:
            raise Invalid(
                "error.custom_unknown",
                field=name,
                record=record,
                known=", ".join(declared) or "-",
            )
        out[audit.CUSTOM_PREFIX + field.name] = read_value(ctx, field, value)
    return out
