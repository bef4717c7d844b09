"""The audit log: every write records actor, time, action, entity and changed fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from crm_core.models import AuditEntry, Base, User

# Bookkeeping columns that change on every write and say nothing about the business; an API
# token's hash and a webhook's signing key, which the log must not hold.
# (mirror_due_at is bookkeeping of the status reaction, not a change anyone made.)
_SKIP = {
    "id",
    "created_at",
    "updated_at",
    "name_key",
    "title_key",
    "token_hash",
    "signing_secret",
    "mirror_due_at",
}
# A record's custom field values (a JSON column) are audited one field at a time, as
# "custom.<name>": history, undo and the edit reply then treat each like any other field.
CUSTOM = "custom"
CUSTOM_PREFIX = "custom."


def jsonable(value: Any) -> Any:
    """A value as it goes into the audit log's JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: Base) -> dict[str, Any]:
    """The audited fields of a record, as JSON-ready values."""
    mapper = inspect(obj).mapper
    out: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        if attr.key in _SKIP:
            continue
        value = getattr(obj, attr.key)
        if attr.key == CUSTOM:
            for name, v in sorted((value or {}).items()):
                out[CUSTOM_PREFIX + name] = jsonable(v)
        else:
            out[attr.key] = jsonable(value)
    return out


def current(entity: Base, key: str) -> Any:
    """A field's value, a custom one (`custom.<name>`) included (None when unset)."""
    if key.startswith(CUSTOM_PREFIX):
        return (getattr(entity, CUSTOM, None) or {}).get(key[len(CUSTOM_PREFIX) :])
    return getattr(entity, key)


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Changed fields as {field: [before, after]}."""
    before = before or {}
    after = after or {}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def customer_of(entity: Base) -> int | None:
    """The customer a record belongs to (itself, for a customer), for its history."""
    if entity.__tablename__ == "customers":
        identity = inspect(entity).identity
        return int(identity[0]) if identity else None
    value = getattr(entity, "customer_id", None)
    return value if isinstance(value, int) else None


def record(
    session: Session,
    actor: User | None,
    action: str,
    entity: Base,
    before: dict[str, Any] | None,
    *,
    actor_label: str | None = None,
) -> AuditEntry:
    """Write one audit entry for `entity`, comparing `before` with its current state."""
    session.flush()
    identity = inspect(entity).identity
    assert identity is not None, "audited objects are flushed first"
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_label=actor_label,
        action=action,
        entity_type=entity.__tablename__,
        entity_id=identity[0],
        changes=diff(before, snapshot(entity)),
        customer_id=customer_of(entity),
    )
    session.add(entry)
    return entry


def changed_fields(entity: Base, wanted: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields of `wanted` whose value differs from `entity`'s, as (before, after)."""
    return {k: (current(entity, k), v) for k, v in wanted.items() if current(entity, k) != v}


def apply_changes(
    session: Session,
    actor: User,
    action: str,
    entity: Base,
    changed: Mapping[str, tuple[Any, Any]],
    *,
    derived: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """Set the changed fields (and the values derived from them), audit it; the entry's id."""
    before = snapshot(entity)
    custom = dict(getattr(entity, CUSTOM, None) or {})
    for key, (_, after) in changed.items():
        if key.startswith(CUSTOM_PREFIX):
            name = key[len(CUSTOM_PREFIX) :]
            if after is None:
                custom.pop(name, None)
            else:
                custom[name] = after
        else:
            setattr(entity, key, after)
    if any(k.startswith(CUSTOM_PREFIX) for k in changed):
        # A new dict: the JSON column is not tracked for changes made in place.
        setattr(entity, CUSTOM, dict(sorted(custom.items())))
    for key, value in (derived or {}).items():
        setattr(entity, key, value)
    if now is not None:
        entity.updated_at = now  # type: ignore[attr-defined]
    entry = record(session, actor, action, entity, before)
    session.flush()
    return entry.id
