"""History: a record's audit entries, newest first, a page at a time, as the reader may see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from crm_core.context import Ctx
from crm_core.models import AuditEntry, Contact, Customer, Deal, Interaction, Role, User

# What a customer's history shows: the customer and what belongs to it. Reminders are the
# personal lists of their owners, not part of the customer's record.
CUSTOMER_PARTS = ("customers", "contacts", "deals", "interactions")
# Shown instead of a note's old and new text to whoever may not read the edit itself.
TEXT_HIDDEN = "text_edited"
PAGE = 10
# Bookkeeping fields that say nothing to a reader of the history.
_QUIET = {"idempotency_key", "external_id", "source", "origin", "attempts", "claimed_at"}


@dataclass(frozen=True)
class HistoryEntry:
    """One change: when, who, what (the entity and action) and each field before → after."""

    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: int
    # The entity's name now (or as the log last knew it); "" when it never had one.
    entity_name: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class HistoryPage:
    """A page of entries and whether older ones follow."""

    entries: list[HistoryEntry]
    more: bool


def _stmt(customer: Customer | None, entity: Contact | Deal | None) -> Select[Any]:
    if entity is not None:
        table = entity.__tablename__
        return select(AuditEntry).where(
            AuditEntry.entity_type == table, AuditEntry.entity_id == entity.id
        )
    assert customer is not None
    return select(AuditEntry).where(
        AuditEntry.customer_id == customer.id, AuditEntry.entity_type.in_(CUSTOMER_PARTS)
    )


def _names(ctx: Ctx, rows: list[AuditEntry]) -> dict[tuple[str, int], str]:
    """Current names of the contacts, deals and customers the entries are about."""
    wanted: dict[str, set[int]] = {}
    for e in rows:
        wanted.setdefault(e.entity_type, set()).add(e.entity_id)
    names: dict[tuple[str, int], str] = {}
    for model, column in ((Customer, Customer.name), (Contact, Contact.name), (Deal, Deal.title)):
        ids = wanted.get(model.__tablename__)
        if ids:
            for rid, name in ctx.session.execute(select(model.id, column).where(model.id.in_(ids))):
                names[(model.__tablename__, rid)] = name
    return names


def _remembered(entry: AuditEntry) -> str:
    """The name the log itself recorded (a deleted record's last name)."""
    for key in ("name", "title"):
        pair = entry.changes.get(key)
        if isinstance(pair, list) and len(pair) == 2:
            value = pair[1] if pair[1] is not None else pair[0]
            if isinstance(value, str):
                return value
    return ""


def _note_authors(ctx: Ctx, rows: list[AuditEntry]) -> dict[int, int | None]:
    """The author of each note the entries are about (from the log once a note is gone)."""
    ids = {e.entity_id for e in rows if e.entity_type == "interactions"}
    if not ids:
        return {}
    authors: dict[int, int | None] = dict.fromkeys(ids)
    for rid, author in ctx.session.execute(
        select(Interaction.id, Interaction.author_id).where(Interaction.id.in_(ids))
    ):
        authors[rid] = author
    for e in rows:
        pair = e.changes.get("author_id")
        if e.entity_type == "interactions" and authors[e.entity_id] is None and pair:
            known = pair[0] if pair[0] is not None else pair[1]
            authors[e.entity_id] = known if isinstance(known, int) else None
    return authors


def _users(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    """Names of these staff members."""
    if not ids:
        return {}
    return {
        u: n for u, n in ctx.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    }


def history(
    ctx: Ctx,
    *,
    customer: Customer | None = None,
    entity: Contact | Deal | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> HistoryPage:
    """The audit entries of a visible customer (with its parts) or of one contact or deal.

    The caller resolves the record through the access filter; `before` is the oldest id of
    the previous page. A note's text before → after is shown only to its author, managers and
    admins; everyone else sees that the text was edited.
    """
    stmt = _stmt(customer, entity)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = list(ctx.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    actor_ids = {e.actor_id for e in rows if e.actor_id is not None}
    actors = _users(ctx, actor_ids)
    owners = {
        v
        for e in rows
        for v in (e.changes.get("owner_id") or [])
        if isinstance(v, int) and v not in actors
    }
    if owners:
        actors.update(_users(ctx, owners))
    names = _names(ctx, rows)
    authors = _note_authors(ctx, rows)
    sees_text = ctx.actor.role in (Role.manager, Role.admin)
    entries = []
    for e in rows:
        changes = {k: v for k, v in e.changes.items() if k == "owner_id" or k not in _QUIET}
        changes = {k: v for k, v in changes.items() if not k.endswith("_id") or k == "owner_id"}
        if "owner_id" in changes:
            # An owner change reads as people, not numbers.
            changes["owner"] = [
                actors.get(v, "") if isinstance(v, int) else v for v in changes.pop("owner_id")
            ]
        if (
            e.entity_type == "interactions"
            and "text" in changes
            and not sees_text
            and authors.get(e.entity_id) != ctx.actor.id
        ):
            changes["text"] = TEXT_HIDDEN
        actor = actors.get(e.actor_id, "") if e.actor_id is not None else e.actor_label or ""
        entries.append(
            HistoryEntry(
                id=e.id,
                at=e.at,
                actor=actor,
                action=e.action,
                entity_type=e.entity_type,
                entity_id=e.entity_id,
                entity_name=names.get((e.entity_type, e.entity_id)) or _remembered(e),
                changes=changes,
            )
        )
    return HistoryPage(entries, more)
