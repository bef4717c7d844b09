"""Membership tiers: levels by won value over a trailing window or by points, instant upgrades,
monthly review.

The rules: an admin names levels with thresholds (`silver 50k, gold 200k, platinum 1M`) on the
won value of a customer's deals closed in the last N months, in one currency (deals in others do
not count, as in reports), or on points (`silver 500, gold 2000 on points`). Points are a
customer number field the admin declares (`field add customer points number`), kept by the
team or fed by an import from the shop or loyalty system, as 有赞's growth value is: the
balance is what counts, not a window. A customer's tier:

- goes up at once when a won deal lifts its value over a threshold (`on_deal_won`), or an edit
  or import lifts its points over one (`on_points_changed`);
- goes down only at the monthly review (`review`, the 1st of each month, UTC): a customer that
  fell below its threshold keeps its tier until then;
- is held where an admin pinned it (`pin`) until unpinned; unpinning lets the earned tier back
  in at once when it is higher, and otherwise at the next review.

Each change is a TierChange row: the history, the digest's list and the owner's ping.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from crm_core import audit, rules
from crm_core.access import ensure_customer_access, live_customer
from crm_core.context import Ctx
from crm_core.errors import Invalid, PermissionDenied
from crm_core.json_paths import custom_text
from crm_core.models import (
    AuditEntry,
    Customer,
    CustomerTier,
    Deal,
    Role,
    TierChange,
    TierProgram,
    User,
)
from crm_core.services.custom_fields import fields_of
from crm_core.stages import Pipeline
from crm_core.text import char_view

PROGRAM_ID = 1
# Up to this many customers, won values are summed from their deals rather than by the database.
FEW = 50
MAX_LEVELS = 10
MAX_MONTHS = 120
MAX_NAME = 50


@dataclass(frozen=True)
class Level:
    """One rung of the ladder."""

    name: str
    threshold: Decimal


@dataclass(frozen=True)
class Program:
    """The rules as the services use them: levels lowest first."""

    levels: tuple[Level, ...]
    months: int
    currency: str
    # The customer number field holding points; None: the levels are won value.
    points_field: str | None = None

    def rank(self, tier: str | None) -> int:
        """0 for no tier, 1 for the lowest level, and so on; -1 for a name not in the ladder."""
        if tier is None:
            return 0
        for i, level in enumerate(self.levels, start=1):
            if level.name == tier:
                return i
        return -1

    def earned(self, value: Decimal) -> str | None:
        """The highest level whose threshold the value reaches."""
        found = None
        for level in self.levels:
            if value >= level.threshold:
                found = level.name
        return found

    def next_level(self, value: Decimal) -> Level | None:
        """The lowest level the value does not reach yet."""
        return next((lv for lv in self.levels if value < lv.threshold), None)

    def find(self, typed: str) -> str | None:
        """The level named `typed` (case, width and Traditional characters aside)."""
        key = rules_key(typed)
        return next((lv.name for lv in self.levels if rules_key(lv.name) == key), None)


@dataclass(frozen=True)
class TierStatus:
    """A customer's tier as the card shows it."""

    tier: str | None
    pinned: bool
    value: Decimal
    next_level: Level | None
    program: Program

    @property
    def gap(self) -> Decimal | None:
        """How much more won value reaches the next level."""
        return None if self.next_level is None else self.next_level.threshold - self.value


def rules_key(name: str) -> str:
    """How tier names compare: lower case, Simplified, half-width."""
    return char_view(name.strip())


def _program_of(row: TierProgram) -> Program:
    levels = tuple(Level(lv["name"], Decimal(lv["threshold"])) for lv in row.levels)
    return Program(levels, row.months, row.currency, row.points_field)


def program(session: Session) -> Program | None:
    """The tier rules, or None when an admin has set none."""
    row = session.get(TierProgram, PROGRAM_ID)
    return _program_of(row) if row is not None and row.levels else None


def check_levels(
    levels: Sequence[tuple[str, Decimal]],
    months: int,
    currency: str,
    points_field: str | None = None,
) -> Program:
    """Validate rules (names, rising thresholds, window, currency); Invalid says what to type."""
    if not levels or len(levels) > MAX_LEVELS:
        raise Invalid("usage.tiers")
    if not 1 <= months <= MAX_MONTHS:
        raise Invalid("error.tier_months", months=months, max=MAX_MONTHS)
    out: list[Level] = []
    seen: set[str] = set()
    for name, threshold in levels:
        name = rules.name("tier", name, MAX_NAME)
        if not name:
            raise Invalid("usage.tiers")
        if rules_key(name) in seen:
            raise Invalid("error.tier_twice", tier=name)
        seen.add(rules_key(name))
        if threshold <= 0:
            raise Invalid("error.tier_threshold", tier=name)
        if out and threshold <= out[-1].threshold:
            raise Invalid("error.tier_order", tier=name, previous=out[-1].name)
        out.append(Level(name, rules.amount(threshold)))
    return Program(tuple(out), months, rules.currency(currency), points_field)


def check_points_field(session: Session, name: str) -> str:
    """The declared customer number field named `name`; Invalid says how to declare one."""
    wanted = name.strip().casefold()
    for declared in fields_of(session, "customer"):
        if declared.name.casefold() == wanted:
            if declared.kind != "number":
                raise Invalid("error.tier_points_kind", field=declared.name, kind=declared.kind)
            return declared.name
    raise Invalid("error.tier_points_field", field=name.strip())


def _admin(ctx: Ctx) -> None:
    if ctx.actor.role != Role.admin:
        raise PermissionDenied("error.tier_admin_only")


def months_back(moment: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier (the day clamped to the month's end)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    day = min(moment.day, _month_days(year, month))
    return moment.replace(year=year, month=month, day=day)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _month_days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _points(raw: object) -> Decimal | None:
    try:
        return Decimal(str(raw)) if raw is not None and str(raw).strip() else None
    except ArithmeticError:
        return None


def point_values(
    session: Session, field: str, customer_ids: Collection[int] | None = None
) -> dict[int, Decimal]:
    """Points per customer from the declared field (absent or unreadable: none)."""
    points = custom_text(Customer.custom, field)
    stmt = select(Customer.id, points).where(points.is_not(None))
    if customer_ids is not None:
        stmt = stmt.where(Customer.id.in_(list(customer_ids)))
    out = {}
    for cid, raw in session.execute(stmt):
        value = _points(raw)
        if value is not None:
            out[cid] = value
    return out


def earned_values(
    session: Session,
    prog: Program,
    pipeline: Pipeline,
    now: datetime,
    customer_ids: Collection[int] | None = None,
) -> dict[int, Decimal]:
    """What the levels are measured on per customer: points, or won value over the window."""
    if prog.points_field is not None:
        return point_values(session, prog.points_field, customer_ids)
    return won_values(session, prog, pipeline, now, customer_ids)


def won_values(
    session: Session,
    prog: Program,
    pipeline: Pipeline,
    now: datetime,
    customer_ids: Collection[int] | None = None,
) -> dict[int, Decimal]:
    """Won value per customer over the program's window, in its currency (absent: nothing)."""
    won = [st.name for st in pipeline.stages if st.won]
    since = months_back(now, prog.months)
    if customer_ids is not None and len(customer_ids) <= FEW:
        # A few customers (a card, a win): their deals by the customer index, summed here.
        # Filtered in SQL, SQLite would pick the (stage, currency, amount) index and read
        # every won deal of the book (10,000 customers: 12 ms a card).
        totals: dict[int, Decimal] = {}
        rows = session.execute(
            select(Deal.customer_id, Deal.stage, Deal.currency, Deal.amount, Deal.closed_at).where(
                Deal.customer_id.in_(list(customer_ids))
            )
        )
        for cid, stage, currency, amount, closed in rows:
            if amount is None or closed is None or stage not in won or currency != prog.currency:
                continue
            if _aware(closed) >= since:
                totals[cid] = totals.get(cid, Decimal(0)) + amount
        return totals
    stmt = (
        select(Deal.customer_id, func.sum(Deal.amount))
        .where(
            Deal.stage.in_(won),
            Deal.currency == prog.currency,
            Deal.amount.is_not(None),
            Deal.closed_at >= since,
        )
        .group_by(Deal.customer_id)
    )
    if customer_ids is not None:
        stmt = stmt.where(Deal.customer_id.in_(list(customer_ids)))
    return {cid: Decimal(total or 0) for cid, total in session.execute(stmt)}


def _change(
    session: Session,
    customer: Customer,
    row: CustomerTier,
    to: str | None,
    reason: str,
    actor: User | None,
    now: datetime,
    *,
    silent: bool = False,
    label: str = "scheduler",
) -> TierChange:
    """Move a customer's tier, recording the change (pinged unless silent) and the audit entry."""
    before = audit.snapshot(row)
    change = TierChange(
        customer_id=customer.id,
        owner_id=customer.owner_id,
        actor_id=actor.id if actor else None,
        from_tier=row.tier,
        to_tier=to,
        reason=reason,
        at=now,
        status="silent" if silent else "pending",
    )
    row.tier = to
    row.since = now
    session.add(change)
    # Written without audit.record's flush: a review changes thousands of rows in one go, and
    # the row's key (the customer's id) is known already.
    session.add(
        AuditEntry(
            actor_id=actor.id if actor else None,
            actor_label=None if actor else label,
            action="customer.tier",
            entity_type=CustomerTier.__tablename__,
            entity_id=customer.id,
            changes=audit.diff(before, audit.snapshot(row)),
            customer_id=customer.id,
        )
    )
    return change


def _row(session: Session, customer_id: int, now: datetime) -> CustomerTier:
    row = session.get(CustomerTier, customer_id)
    if row is None:
        row = CustomerTier(customer_id=customer_id, tier=None, pinned=False, since=now)
        session.add(row)
        session.flush()
    return row


def set_program(
    ctx: Ctx,
    levels: Sequence[tuple[str, Decimal]],
    months: int,
    currency: str | None,
    points_field: str | None = None,
) -> tuple[Program, int]:
    """Set the tier rules (admins); customers who now earn a higher tier get it at once.

    Returns the rules and how many customers' tiers changed. Those changes are not pinged (a
    new ladder would ping every owner about every customer): the digest lists them.
    """
    _admin(ctx)
    field = check_points_field(ctx.session, points_field) if points_field is not None else None
    prog = check_levels(levels, months, currency or ctx.default_currency, field)
    now = ctx.now()
    row = ctx.session.get(TierProgram, PROGRAM_ID)
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = TierProgram(id=PROGRAM_ID)
        ctx.session.add(row)
    row.levels = [{"name": lv.name, "threshold": str(lv.threshold)} for lv in prog.levels]
    row.months = prog.months
    row.currency = prog.currency
    row.points_field = prog.points_field
    row.updated_at = now
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "tiers.set", row, before)
    changed = settle(ctx.session, prog, ctx.pipeline, now, ctx.actor, downgrade=False, silent=True)
    return prog, changed


def settle(
    session: Session,
    prog: Program,
    pipeline: Pipeline,
    now: datetime,
    actor: User | None,
    *,
    downgrade: bool,
    silent: bool,
    reason: str = "rules",
    customer_ids: Collection[int] | None = None,
    label: str = "scheduler",
) -> int:
    """Bring unpinned customers to their earned tier: up always, down only with `downgrade`.

    A tier no longer in the ladder (renamed by new rules) is replaced either way.
    """
    values = earned_values(session, prog, pipeline, now, customer_ids)
    rows = {
        r.customer_id: r
        for r in session.scalars(
            select(CustomerTier).where(
                CustomerTier.customer_id.in_(list(customer_ids))
                if customer_ids is not None
                else CustomerTier.customer_id.is_not(None)
            )
        )
    }
    wanted = set(values) | set(rows)
    if not wanted:
        return 0
    customers = session.scalars(
        select(Customer)
        .where(Customer.id.in_(sorted(wanted)), live_customer())
        .order_by(Customer.id)
    ).all()
    changed = 0
    for customer in customers:
        row = rows.get(customer.id)
        if row is not None and row.pinned:
            continue
        current = row.tier if row is not None else None
        earned = prog.earned(values.get(customer.id, Decimal(0)))
        if earned == current:
            continue
        rank_now, rank_earned = prog.rank(current), prog.rank(earned)
        if rank_earned < rank_now and not downgrade and rank_now != -1:
            continue
        if row is None:
            # Known to have no row (all were read above): no lookup, no flush per customer.
            row = CustomerTier(customer_id=customer.id, tier=None, pinned=False, since=now)
            session.add(row)
        _change(session, customer, row, earned, reason, actor, now, silent=silent, label=label)
        changed += 1
    return changed


def on_deal_won(ctx: Ctx, deal: Deal) -> TierChange | None:
    """After a deal is won: upgrade its customer at once when the won value earns a higher tier."""
    prog = program(ctx.session)
    if prog is None or prog.points_field is not None:
        return None
    return _upgrade(ctx, prog, deal.customer, "won")


def on_points_changed(ctx: Ctx, customer: Customer) -> TierChange | None:
    """After a customer's points field changed: upgrade at once when they earn a higher tier."""
    prog = program(ctx.session)
    if prog is None or prog.points_field is None:
        return None
    return _upgrade(ctx, prog, customer, "points")


def on_merge(ctx: Ctx, loser: Customer, survivor: Customer) -> TierChange | None:
    """After `loser` merged into `survivor`: the kept customer is tiered at once as a won deal
    tiers it, since the duplicate's wins (or points) now count for it; a pin the duplicate
    had carries over when it is higher than the kept customer's tier."""
    prog = program(ctx.session)
    if prog is None:
        return None
    ctx.session.flush()
    dropped = ctx.session.get(CustomerTier, loser.id)
    kept = ctx.session.get(CustomerTier, survivor.id)
    if dropped is not None and dropped.pinned and dropped.tier is not None:
        current = kept.tier if kept is not None else None
        if kept is None or not kept.pinned or prog.rank(dropped.tier) > prog.rank(current):
            now = ctx.now()
            row = kept or _row(ctx.session, survivor.id, now)
            if row.tier == dropped.tier:
                before = audit.snapshot(row)
                row.pinned = True
                entry = audit.record(ctx.session, ctx.actor, "customer.tier", row, before)
                entry.customer_id = survivor.id
                return None
            row.pinned = True
            return _change(ctx.session, survivor, row, dropped.tier, "merge", ctx.actor, now)
    return _upgrade(ctx, prog, survivor, "merge")


def _upgrade(ctx: Ctx, prog: Program, customer: Customer, reason: str) -> TierChange | None:
    ctx.session.flush()
    before = ctx.session.get(CustomerTier, customer.id)
    if before is not None and before.pinned:
        return None
    now = ctx.now()
    value = earned_values(ctx.session, prog, ctx.pipeline, now, [customer.id])
    earned = prog.earned(value.get(customer.id, Decimal(0)))
    current = before.tier if before is not None else None
    if prog.rank(earned) <= prog.rank(current) and prog.rank(current) != -1:
        return None
    if earned == current:
        return None
    row = before or _row(ctx.session, customer.id, now)
    return _change(ctx.session, customer, row, earned, reason, ctx.actor, now)


def review(session: Session, pipeline: Pipeline, now: datetime) -> int:
    """The periodic review: every unpinned customer to its earned tier, down included."""
    prog = program(session)
    if prog is None:
        return 0
    return settle(session, prog, pipeline, now, None, downgrade=True, silent=False, reason="review")


def review_period(now: datetime) -> str:
    """The review a moment falls in: the month, `2027-01` (reviews run on the 1st, UTC)."""
    return now.astimezone(UTC).strftime("%Y-%m")


def pin(ctx: Ctx, customer: Customer, typed_tier: str) -> TierChange | None:
    """Pin a customer to a tier (admins); held there through wins and reviews until unpinned."""
    _admin(ctx)
    ensure_customer_access(ctx.actor, customer)
    prog = program(ctx.session)
    if prog is None:
        raise Invalid("error.tiers_none")
    tier = prog.find(typed_tier)
    if tier is None:
        raise Invalid(
            "error.tier_unknown",
            tier=typed_tier,
            tiers=", ".join(lv.name for lv in prog.levels),
            customer=customer.name,
            example=prog.levels[-1].name,
        )
    now = ctx.now()
    row = _row(ctx.session, customer.id, now)
    if row.pinned and row.tier == tier:
        raise Invalid("error.tier_already_pinned", customer=customer.name, tier=tier)
    if row.tier == tier:
        before = audit.snapshot(row)
        row.pinned = True
        entry = audit.record(ctx.session, ctx.actor, "customer.tier", row, before)
        entry.customer_id = customer.id
        return None
    row.pinned = True
    return _change(ctx.session, customer, row, tier, "pin", ctx.actor, now)


def unpin(ctx: Ctx, customer: Customer) -> TierChange | None:
    """Unpin (admins): a higher earned tier applies at once, a lower one at the next review."""
    _admin(ctx)
    ensure_customer_access(ctx.actor, customer)
    row = ctx.session.get(CustomerTier, customer.id)
    if row is None or not row.pinned:
        raise Invalid("error.tier_not_pinned", customer=customer.name)
    before = audit.snapshot(row)
    row.pinned = False
    entry = audit.record(ctx.session, ctx.actor, "customer.tier", row, before)
    entry.customer_id = customer.id
    prog = program(ctx.session)
    if prog is None:
        return None
    now = ctx.now()
    value = earned_values(ctx.session, prog, ctx.pipeline, now, [customer.id])
    earned = prog.earned(value.get(customer.id, Decimal(0)))
    if earned != row.tier and (
        prog.rank(earned) > prog.rank(row.tier) or prog.rank(row.tier) == -1
    ):
        return _change(ctx.session, customer, row, earned, "unpin", ctx.actor, now)
    return None


def status(ctx: Ctx, customer: Customer) -> TierStatus | None:
    """The customer's tier, won value (or points) and distance to the next level; None without
    rules."""
    prog = program(ctx.session)
    if prog is None:
        return None
    row = ctx.session.get(CustomerTier, customer.id)
    value = earned_values(ctx.session, prog, ctx.pipeline, ctx.now(), [customer.id]).get(
        customer.id, Decimal(0)
    )
    tier = row.tier if row is not None else None
    rank = prog.rank(tier)
    # The first level above the current one that the value does not reach yet (a tier no
    # longer in the ladder: the first the value does not reach).
    above = prog.levels[rank:] if rank >= 0 else prog.levels
    nxt = next((lv for lv in above if value < lv.threshold), None)
    return TierStatus(tier, bool(row and row.pinned), value, nxt, prog)


# --- the hook other features filter on ------------------------------------------------------


def tiers_of(session: Session, customer_ids: Collection[int] | None = None) -> dict[int, str]:
    """{customer id: current tier} for customers that have one (all, or those asked about).

    The segments' `tier gold` filter reads this (or `tier_clause`); no access check here: the
    caller filters the customers it may show first.
    """
    stmt = select(CustomerTier.customer_id, CustomerTier.tier).where(CustomerTier.tier.is_not(None))
    if customer_ids is not None:
        stmt = stmt.where(CustomerTier.customer_id.in_(list(customer_ids)))
    return {cid: tier for cid, tier in session.execute(stmt) if tier is not None}


def tier_clause(tiers: Collection[str]) -> ColumnElement[bool]:
    """A WHERE clause on Customer: its current tier is one of `tiers` (as stored in the ladder)."""
    return Customer.id.in_(
        select(CustomerTier.customer_id).where(CustomerTier.tier.in_(list(tiers)))
    )


def changes_since(ctx: Ctx, since: datetime) -> list[tuple[TierChange, Customer]]:
    """Tier changes of the actor's own live customers since a moment, newest first (digest)."""
    rows = ctx.session.execute(
        select(TierChange, Customer)
        .join(Customer, Customer.id == TierChange.customer_id)
        .where(Customer.owner_id == ctx.actor.id, live_customer(), TierChange.at >= since)
        .order_by(TierChange.at.desc(), TierChange.id.desc())
        .limit(10)
    ).all()
    return [(c, cust) for c, cust in rows]
