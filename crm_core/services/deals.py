"""Deals: create, list, move through the pipeline (with history)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from crm_core import audit, places, rules
from crm_core.access import (
    can_assign_owner,
    can_see_owner,
    customer_filter,
    ensure_customer_access,
)
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, PermissionDenied
from crm_core.marketing import scores
from crm_core.models import (
    AuditEntry,
    Customer,
    Deal,
    Interaction,
    Product,
    Reminder,
    ReminderStatus,
    Role,
    StageChange,
    User,
)
from crm_core.services import custom_fields, tiers, webhooks
from crm_core.services.reminders import manageable
from crm_core.stages import Stage
from crm_core.text import name_key

MAX_AMOUNT = rules.MAX_AMOUNT
MAX_TITLE = 300
MAX_REASON = 500
MAX_QUANTITY = 10_000_000


def create_deal(
    ctx: Ctx,
    customer: Customer,
    title: str,
    *,
    amount: Decimal | None = None,
    currency: str | None = None,
    expected_close: date | None = None,
    stage: str | None = None,
    owner: User | None = None,
    product: Product | None = None,
    quantity: int | None = None,
) -> Deal:
    """Open a deal on a customer; its first stage is recorded in the history.

    With a product and no amount, the amount is the product's price times the quantity.
    """
    ensure_customer_access(ctx.actor, customer)
    title = rules.name("title", title, MAX_TITLE)
    if not title:
        raise Invalid("error.deal_title_missing")
    if amount is not None:
        rules.amount(amount)
    if expected_close is not None:
        rules.day("close date", expected_close)
    target = ctx.pipeline.get(stage) if stage else ctx.pipeline.first_open
    if target is None:
        raise Invalid("error.stage_unknown", value=stage or "", stages=_stage_list(ctx))
    if target.closed:
        raise Invalid("error.deal_new_closed", stage=target.name)
    owner = owner or ctx.actor
    if not owner.active:
        raise Invalid("error.owner_inactive", owner=owner.name)
    if not can_assign_owner(ctx.actor, owner):
        raise PermissionDenied("error.cannot_assign_owner", owner=owner.name)
    if not can_see_owner(owner, customer.owner_id, customer.owner.team_id):
        # A deal owned by someone who cannot see its customer would vanish from their pipeline.
        raise Invalid("error.deal_owner_cannot_see", owner=owner.name, customer=customer.name)
    if currency is not None:
        currency = rules.currency(currency)
    if quantity is not None and not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid("error.quantity_invalid", value=str(quantity))
    if product is not None and amount is None and product.price is not None:
        amount = rules.amount(product.price * (quantity or 1))
        currency = currency or product.currency
    key = name_key(title)
    for other in ctx.session.scalars(select(Deal).where(Deal.customer_id == customer.id)):
        if other.title_key == key and not _stage_closed(ctx, other.stage):
            raise Invalid(
                "error.deal_exists", title=other.title, customer=customer.name, id=other.id
            )
    now = ctx.now()
    deal = Deal(
        customer_id=customer.id,
        title=title,
        title_key=key,
        amount=amount.quantize(Decimal("0.01")) if amount is not None else None,
        currency=(currency or ctx.default_currency).upper(),
        stage=target.name,
        owner_id=owner.id,
        expected_close=expected_close,
        product_id=product.id if product is not None else None,
        quantity=quantity,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(deal)
    ctx.session.flush()
    ctx.session.add(
        StageChange(
            deal_id=deal.id,
            from_stage=None,
            to_stage=target.name,
            changed_at=now,
            actor_id=ctx.actor.id,
        )
    )
    audit.record(ctx.session, ctx.actor, "deal.create", deal, None)
    webhooks.emit(
        ctx.session,
        "deal.created",
        webhooks.deal_data(ctx.session, deal),
        now=now,
        actor=ctx.actor,
    )
    return deal


def _stage_closed(ctx: Ctx, name: str) -> bool:
    stage = ctx.pipeline.get(name)
    return bool(stage and stage.closed)


def _stage_list(ctx: Ctx) -> str:
    return ", ".join(s.name for s in ctx.pipeline.stages)


def move_deal(ctx: Ctx, deal: Deal, stage_name: str, *, reason: str | None = None) -> StageChange:
    """Move a deal to another stage; losing needs a reason; closing stamps closed_at."""
    # The stage it moves from is the one it is in now, not the one seen when it was resolved.
    lock_for_update(ctx.session, deal)
    ensure_customer_access(ctx.actor, deal.customer)
    if is_closed(ctx, deal) and ctx.actor.role == Role.rep:
        # A won or lost deal is on the books: reopening it is a manager's decision.
        raise PermissionDenied("error.deal_reopen_denied", title=deal.title, stage=deal.stage)
    target: Stage | None = ctx.pipeline.get(stage_name)
    if target is None:
        raise Invalid("error.stage_unknown", value=stage_name, stages=_stage_list(ctx))
    if target.name == deal.stage:
        raise Invalid("error.deal_already_in", title=deal.title, stage=target.name)
    reason = rules.name("reason", reason or "", MAX_REASON) or None
    if target.lost and not reason:
        raise Invalid(
            "error.lost_reason_missing", title=deal.title, named=f"#{deal.id}", stage=target.name
        )
    before = audit.snapshot(deal)
    now = ctx.now()
    change = StageChange(
        deal_id=deal.id,
        from_stage=deal.stage,
        to_stage=target.name,
        changed_at=now,
        actor_id=ctx.actor.id,
        reason=reason,
    )
    left = ctx.pipeline.get(deal.stage)
    deal.stage = target.name
    deal.closed_at = now if target.closed else None
    deal.lost_reason = reason if target.lost else None
    deal.updated_at = now
    ctx.session.add(change)
    audit.record(ctx.session, ctx.actor, "deal.move", deal, before)
    # The score model learns each deal as it closes, and forgets one that leaves won or lost.
    if left is not None and left.closed:
        scores.learn_closed(ctx.session, ctx.pipeline, deal, left.name, sign=-1)
    if target.closed:
        scores.learn_closed(ctx.session, ctx.pipeline, deal, target.name)
    data = webhooks.deal_data(ctx.session, deal, from_stage=change.from_stage)
    webhooks.emit(ctx.session, "deal.moved", data, now=now, actor=ctx.actor)
    if target.won or target.lost:
        event = "deal.won" if target.won else "deal.lost"
        webhooks.emit(ctx.session, event, data, now=now, actor=ctx.actor)
    if target.won:
        # Upgrades happen at once; downgrades wait for the review (crm_core/services/tiers.py).
        tiers.on_deal_won(ctx, deal)
    return change


def customer_deals(ctx: Ctx, customer: Customer) -> list[Deal]:
    """A customer's deals: open ones first by expected close, then closed ones, newest first."""
    ensure_customer_access(ctx.actor, customer)
    deals = ctx.session.scalars(select(Deal).where(Deal.customer_id == customer.id)).all()
    order = {s.name: s.order for s in ctx.pipeline.stages}

    def sort_key(d: Deal) -> tuple[int, int, date, int]:
        closed = _stage_closed(ctx, d.stage)
        when = d.expected_close or date.max
        return (1 if closed else 0, order.get(d.stage, 99) if not closed else 0, when, -d.id)

    return sorted(deals, key=sort_key)


def open_deals(ctx: Ctx, *, limit: int = 25) -> list[tuple[Deal, Customer]]:
    """The open deals the actor may see, soonest expected close first."""
    open_names = [s.name for s in ctx.pipeline.open_stages]
    rows = ctx.session.execute(
        select(Deal, Customer)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(customer_filter(ctx.actor), Deal.stage.in_(open_names))
        .order_by(Deal.expected_close.is_(None), Deal.expected_close, Deal.id)
        .limit(limit)
    ).all()
    return [(deal, customer) for deal, customer in rows]


# Currencies whose unit word is 元 (yuan, the Taiwan, Hong Kong and Macau dollars).
YUAN_LIKE = ("CNY", "TWD", "HKD", "MOP")


def local_currency(ctx: Ctx, customer: Customer) -> str | None:
    """The currency an amount said without one means for a new deal of `customer`: the one
    currency of its deals, else the one of the country or city the book records for it, else
    the one of the typist's region (a rep in Taipei means NT$); None when nothing tells."""
    found = ctx.session.scalars(
        select(Deal.currency).where(Deal.customer_id == customer.id).distinct().limit(2)
    ).all()
    if len(found) == 1:
        return found[0]
    return places.place_currency(customer) or rules.home_currency(ctx.actor.timezone or "UTC")


def yuan_currency(ctx: Ctx, customer: Customer, current: str | None = None) -> str:
    """What a bare 元 means for a deal of `customer`: the deal's own currency (`current`), else
    the one currency of the customer's deals, else the typist's zone's, when yuan-like; else
    NT$ for a Traditional Chinese reader (Taiwan's 元) and yuan for everyone else."""
    found = ctx.session.scalars(
        select(Deal.currency).where(Deal.customer_id == customer.id).distinct().limit(2)
    ).all()
    theirs = found[0] if len(found) == 1 else None
    return first_yuan(ctx, current, theirs, rules.home_currency(ctx.actor.timezone or "UTC"))


def first_yuan(ctx: Ctx, *candidates: str | None) -> str:
    """The first yuan-like currency among `candidates` (most telling first); else NT$ for a
    Traditional Chinese reader (Taiwan's 元) and yuan for everyone else."""
    for candidate in candidates:
        if candidate in YUAN_LIKE:
            return candidate
    return "TWD" if ctx.actor.locale == "zh-Hant" else "CNY"


def is_closed(ctx: Ctx, deal: Deal) -> bool:
    """Whether the deal sits in a closed (won or lost) stage."""
    return _stage_closed(ctx, deal.stage)


@dataclass
class DealCard:
    """Everything the deal card shows about one deal."""

    deal: Deal
    customer: Customer
    owner: User
    # The history oldest first, with the name of who moved it (None: unknown or an import).
    history: list[tuple[StageChange, str | None]]
    stage_since: datetime
    notes: list[Interaction]
    reminders: list[Reminder]


def deal_card(ctx: Ctx, deal: Deal, *, recent: int = 5) -> DealCard:
    """The card of a deal already resolved through the visibility filter."""
    ensure_customer_access(ctx.actor, deal.customer)
    s = ctx.session
    mover = aliased(User)
    history: list[tuple[StageChange, str | None]] = [
        (change, name)
        for change, name in s.execute(
            select(StageChange, mover.name)
            .outerjoin(mover, mover.id == StageChange.actor_id)
            .where(StageChange.deal_id == deal.id)
            .order_by(StageChange.changed_at, StageChange.id)
        ).all()
    ]
    entered = [c.changed_at for c, _ in history if c.to_stage == deal.stage]
    since = entered[-1] if entered else deal.created_at
    notes = s.scalars(
        select(Interaction)
        .where(Interaction.deal_id == deal.id, Interaction.deleted_at.is_(None))
        .order_by(Interaction.occurred_at.desc())
        .limit(recent)
    ).all()
    reminders = s.scalars(
        select(Reminder)
        .where(
            Reminder.deal_id == deal.id,
            Reminder.status == ReminderStatus.pending,
            # Like the customer card: seeing the deal is not seeing what others plan about it.
            *manageable(ctx.actor),
        )
        .order_by(Reminder.due_at)
        .limit(5)
    ).all()
    owner = s.get(User, deal.owner_id)
    assert owner is not None
    return DealCard(deal, deal.customer, owner, history, since, list(notes), list(reminders))


class Keep(Enum):
    """An update argument left as it is (None means: clear it)."""

    KEEP = 0


KEEP = Keep.KEEP
# The fields `edit deal` changes, in the order a reply lists them.
EDITABLE = ("title", "amount", "currency", "expected_close", "owner_id")


def check_title(title: str) -> str:
    """A deal title as stored; refuses an empty, unreadable or over-long one."""
    title = rules.name("title", title, MAX_TITLE)
    if not title:
        raise Invalid("error.deal_title_missing")
    return title


def check_amount(amount: Decimal | None) -> Decimal | None:
    """An amount as stored (whole cents), or None."""
    return rules.amount(amount).quantize(Decimal("0.01")) if amount is not None else None


def check_close(day: date | None) -> date | None:
    """An expected close day within the years a CRM can mean, or None."""
    return rules.day("close date", day) if day is not None else None


def check_close_ahead(ctx: Ctx, day: date | None, current: date | None = None) -> date | None:
    """An open deal's expected close typed in chat: today or later in the typist's zone.

    A past day is nearly always a slip (2026 typed in January for 2027); refused with a day
    ahead as the example (today for a recent day, else the same day in the next year ahead).
    A day the deal already has (a form sends every field back) is left alone, as are API
    writes and undo, which carry dates as they are.
    """
    day = check_close(day)
    if day is None or day == current:
        return day
    today = ctx.now().astimezone(ctx.tz).date()
    if day >= today:
        return day
    # Last month's day is a slipped deal (today is the nearest honest day); an older one
    # usually the wrong year.
    ahead = today if (today - day).days <= 31 else day
    while ahead < today:
        try:
            ahead = ahead.replace(year=ahead.year + 1)
        except ValueError:  # 29 February: the next year's 28th
            ahead = ahead.replace(year=ahead.year + 1, day=28)
    raise Invalid(
        "error.close_in_past", day=day.isoformat(), today=today.isoformat(), ahead=ahead.isoformat()
    )


def check_owner(ctx: Ctx, deal: Deal, owner: User) -> User:
    """A new owner `ctx.actor` may assign and who can see the deal's customer."""
    if not owner.active:
        raise Invalid("error.owner_inactive", owner=owner.name)
    if not can_assign_owner(ctx.actor, owner):
        raise PermissionDenied("error.cannot_assign_owner", owner=owner.name)
    customer = deal.customer
    if not can_see_owner(owner, customer.owner_id, customer.owner.team_id):
        raise Invalid("error.deal_owner_cannot_see", owner=owner.name, customer=customer.name)
    return owner


def update_deal(
    ctx: Ctx,
    deal: Deal,
    *,
    title: str | None = None,
    amount: Decimal | Keep | None = KEEP,
    currency: str | None = None,
    expected_close: date | Keep | None = KEEP,
    owner: User | None = None,
    custom: Mapping[str, Any] | None = None,
    action: str = "deal.update",
) -> tuple[dict[str, tuple[Any, Any]], int | None]:
    """Change the given fields of a deal (KEEP or None: leave as is, except that None clears
    amount and expected close; `custom` sets custom field values, None or "" clearing one).

    Returns {field: (before, after)} for what changed and the audit entry's id (None when
    nothing changed); the audit entry records each changed field before→after.
    """
    # Two people editing one deal queue up: each compares against what is stored now.
    lock_for_update(ctx.session, deal)
    ensure_customer_access(ctx.actor, deal.customer)
    wanted: dict[str, Any] = {}
    if title is not None:
        wanted["title"] = check_title(title)
    if not isinstance(amount, Keep):
        wanted["amount"] = check_amount(amount)
    if currency is not None:
        wanted["currency"] = rules.currency(currency)
    if not isinstance(expected_close, Keep):
        wanted["expected_close"] = check_close(expected_close)
    if owner is not None and owner.id != deal.owner_id:
        wanted["owner_id"] = check_owner(ctx, deal, owner).id
    wanted.update(custom_fields.wanted(ctx, "deal", custom or {}))
    if "title" in wanted and name_key(wanted["title"]) != deal.title_key:
        for other in ctx.session.scalars(
            select(Deal).where(Deal.customer_id == deal.customer_id, Deal.id != deal.id)
        ):
            if other.title_key == name_key(wanted["title"]) and not is_closed(ctx, other):
                raise Invalid(
                    "error.deal_exists", title=other.title, customer=deal.customer.name, id=other.id
                )
    changed = audit.changed_fields(deal, wanted)
    if not changed:
        return {}, None
    derived = {"title_key": name_key(changed["title"][1])} if "title" in changed else {}
    entry_id = audit.apply_changes(
        ctx.session, ctx.actor, action, deal, changed, derived=derived, now=ctx.now()
    )
    return changed, entry_id


def delete_deal(ctx: Ctx, deal: Deal) -> tuple[int, int]:
    """Delete a deal (managers: their team's; admins: any) with its stage history.

    Its notes stay on the customer and its reminders stay with their owners; both lose the
    link to the deal. One audit entry keeps every deleted value, the history and the links.
    Returns how many notes and reminders were unlinked.
    """
    lock_for_update(ctx.session, deal)
    ensure_customer_access(ctx.actor, deal.customer)
    if not may_delete(ctx):
        raise PermissionDenied("error.deal_delete_denied", title=deal.title)
    s = ctx.session
    history = s.scalars(
        select(StageChange)
        .where(StageChange.deal_id == deal.id)
        .order_by(StageChange.changed_at, StageChange.id)
    ).all()
    notes = s.scalars(select(Interaction.id).where(Interaction.deal_id == deal.id)).all()
    reminders = s.scalars(select(Reminder.id).where(Reminder.deal_id == deal.id)).all()
    values = audit.snapshot(deal)
    values["stage_history"] = [audit.snapshot(c) for c in history]
    values["note_ids"] = sorted(notes)
    values["reminder_ids"] = sorted(reminders)
    s.execute(update(Interaction).where(Interaction.deal_id == deal.id).values(deal_id=None))
    s.execute(update(Reminder).where(Reminder.deal_id == deal.id).values(deal_id=None))
    s.execute(delete(StageChange).where(StageChange.deal_id == deal.id))
    s.add(
        AuditEntry(
            actor_id=ctx.actor.id,
            action="deal.delete",
            entity_type="deals",
            entity_id=deal.id,
            changes={k: [v, None] for k, v in values.items()},
        )
    )
    s.delete(deal)
    s.flush()
    return len(notes), len(reminders)


def may_delete(ctx: Ctx) -> bool:
    """Whether the actor may delete deals at all (managers their team's, admins any)."""
    return ctx.actor.role in (Role.manager, Role.admin)


def deal_links(ctx: Ctx, deal: Deal) -> tuple[int, int, int]:
    """How many stage changes, notes and reminders a deal's deletion touches."""
    ensure_customer_access(ctx.actor, deal.customer)
    s = ctx.session

    def count(model: Any, column: Any) -> int:
        return int(s.scalar(select(func.count()).select_from(model).where(column == deal.id)) or 0)

    return (
        count(StageChange, StageChange.deal_id),
        count(Interaction, Interaction.deal_id),
        count(Reminder, Reminder.deal_id),
    )


FORECAST_CATEGORIES = ("pipeline", "best_case", "commit")


def set_forecast_category(ctx: Ctx, deal: Deal, category: str | None) -> None:
    """Put an open deal in a forecast category, or (None) let its stage decide again."""
    ensure_customer_access(ctx.actor, deal.customer)
    if category is not None and category not in FORECAST_CATEGORIES:
        raise Invalid("error.forecast_category", value=category)
    if _stage_closed(ctx, deal.stage):
        raise Invalid("error.forecast_closed", title=deal.title, stage=deal.stage)
    if deal.forecast_category == category:
        return
    before = audit.snapshot(deal)
    deal.forecast_category = category
    deal.updated_at = ctx.now()
    audit.record(ctx.session, ctx.actor, "deal.forecast", deal, before)
