"""Merging a duplicate customer into another: the preview, then one locked unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from crm_core import audit, note_outbox
from crm_core.access import can_see_owner, ensure_customer_access
from crm_core.context import Ctx
from crm_core.db import lock_deals_of, lock_for_update, lock_owners_sums
from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import (
    AuditEntry,
    Contact,
    Customer,
    CustomerChannel,
    Deal,
    Feedback,
    Interaction,
    Reminder,
    ReminderStatus,
    Role,
    SegmentMember,
    Ticket,
    User,
)
from crm_core.services import tiers

# What moves from the merged customer to the one kept, by the name the preview gives it.
MOVED: dict[str, Any] = {
    "contacts": Contact,
    "deals": Deal,
    "notes": Interaction,
    "reminders": Reminder,
    # The service side of the same customer: its tickets and satisfaction scores.
    "tickets": Ticket,
    "feedback": Feedback,
    # Its customer channels: what its people write there next opens tickets on the one kept.
    "channels": CustomerChannel,
}
# The order a merge moves the duplicate's deals in: the kept sums' keys (see merge_customers).
DEAL_KEY_ORDER = (
    Deal.stage,
    Deal.currency,
    func.coalesce(Deal.forecast_category, ""),
    Deal.expected_close,
    Deal.closed_at,
    Deal.id,
)
# Shown in the preview only when the duplicate has some: most customers have none.
SHOWN_WHEN_ANY = frozenset({"tickets", "feedback", "channels"})
# Fields the survivor keeps, unless empty: then the merged customer's value fills them.
FIELDS = ("industry", "city")


@dataclass(frozen=True)
class Conflict:
    """A field both customers fill differently: `kept` wins, `dropped` is the other's."""

    field: str
    # Text, or a custom field's stored value (a yes/no field's is a boolean).
    kept: Any
    dropped: Any


@dataclass(frozen=True)
class Handover:
    """Open deals and reminders of one person who cannot see the kept customer, moving to its
    owner (as a reassign moves them): left with them, they would own what they cannot open."""

    old: User
    new: User
    deal_ids: list[int]
    reminder_ids: list[int]


@dataclass
class MergePlan:
    """What merging `loser` into `survivor` does: counts that move, conflicts, fields filled."""

    loser: Customer
    survivor: Customer
    moves: dict[str, int]
    conflicts: list[Conflict] = field(default_factory=list)
    # Empty fields of the survivor the loser's values fill ({"city": "Boston"}); custom
    # fields as "custom.<name>".
    filled: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)


def check_merge(ctx: Ctx, loser: Customer, survivor: Customer) -> None:
    """Refuse what no merge may do; both customers were resolved through the visibility filter."""
    if ctx.actor.role == Role.rep:
        raise PermissionDenied("error.merge_not_allowed")
    # Resolution already hid what the actor cannot see; this is the second, in-service check.
    ensure_customer_access(ctx.actor, loser)
    ensure_customer_access(ctx.actor, survivor)
    if loser.id == survivor.id:
        raise Invalid("error.merge_self", id=loser.id, name=loser.name)
    for c in (loser, survivor):
        if c.merged_into is not None:
            raise Invalid("error.merge_tombstone", id=c.id, name=c.name, into=c.merged_into)


def _label(c: Customer) -> str:
    return f"#{c.id} {c.name}"


def _owner_name(ctx: Ctx, user_id: int) -> str:
    user = ctx.session.get(User, user_id)
    return user.name if user is not None else f"#{user_id}"


def plan_merge(ctx: Ctx, loser: Customer, survivor: Customer) -> MergePlan:
    """The preview of merging `loser` into `survivor`; writes nothing."""
    check_merge(ctx, loser, survivor)
    moves = {}
    for label, model in MOVED.items():
        where = [model.customer_id == loser.id]
        if model is Interaction:
            where.append(Interaction.deleted_at.is_(None))
        count = int(ctx.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
        if count or label not in SHOWN_WHEN_ANY:
            moves[label] = count
    plan = MergePlan(loser, survivor, moves)
    if loser.name != survivor.name:
        plan.conflicts.append(Conflict("name", survivor.name, loser.name))
    if loser.owner_id != survivor.owner_id:
        plan.conflicts.append(
            Conflict("owner", _owner_name(ctx, survivor.owner_id), _owner_name(ctx, loser.owner_id))
        )
    for name in FIELDS:
        kept, other = getattr(survivor, name), getattr(loser, name)
        if not other or kept == other:
            continue
        if kept:
            plan.conflicts.append(Conflict(name, kept, other))
        else:
            plan.filled[name] = other
    # Custom field values follow the same rule: the survivor's win, the loser's fill gaps.
    kept_custom = survivor.custom or {}
    for name, other in sorted((loser.custom or {}).items()):
        key = audit.CUSTOM_PREFIX + name
        if name not in kept_custom:
            plan.filled[key] = other
        elif kept_custom[name] != other:
            plan.conflicts.append(Conflict(key, kept_custom[name], other))
    plan.tags = sorted(set(survivor.tags) | set(loser.tags))
    plan.handovers = _handovers(ctx, loser, survivor)
    return plan


def _handovers(ctx: Ctx, loser: Customer, survivor: Customer) -> list[Handover]:
    """Per owner who cannot see `survivor`: their open deals and open reminders on `loser`.

    The same rule as a reassign: open deals and pending reminders move; closed deals stay
    with who closed them, so a won deal keeps counting for the person who won it.
    """
    s = ctx.session
    new = survivor.owner
    deal_ids = select(Deal.id).where(Deal.customer_id == loser.id).scalar_subquery()
    deals = s.scalars(
        select(Deal).where(Deal.customer_id == loser.id, Deal.closed_at.is_(None)).order_by(Deal.id)
    ).all()
    reminders = s.scalars(
        select(Reminder)
        .where(
            Reminder.status.in_((ReminderStatus.pending, ReminderStatus.sent)),
            (Reminder.customer_id == loser.id) | Reminder.deal_id.in_(deal_ids),
        )
        .order_by(Reminder.id)
    ).all()
    by_owner: dict[int, tuple[list[int], list[int]]] = {}
    owners: dict[int, User] = {}
    for kind, rows in ((0, deals), (1, reminders)):
        for row in rows:
            owner = s.get(User, row.owner_id)
            if owner is None or owner.id == new.id:
                continue
            if owner.active and can_see_owner(owner, new.id, new.team_id):
                continue
            owners[owner.id] = owner
            by_owner.setdefault(owner.id, ([], []))[kind].append(row.id)
    return [
        Handover(owners[uid], new, deal_list, reminder_list)
        for uid, (deal_list, reminder_list) in sorted(by_owner.items())
    ]


def _hand_over(ctx: Ctx, handovers: list[Handover]) -> dict[str, list[int]]:
    """Give each handover's deals and reminders to the kept customer's owner; audited as
    a reassign is, so each deal's history says who moved it."""
    s = ctx.session
    deals: list[int] = []
    reminders: list[int] = []
    for h in handovers:
        for deal in s.scalars(select(Deal).where(Deal.id.in_(h.deal_ids)).order_by(Deal.id)):
            was = audit.snapshot(deal)
            deal.owner_id = h.new.id
            audit.record(s, ctx.actor, "deal.reassign", deal, was)
            deals.append(deal.id)
        rows = select(Reminder).where(Reminder.id.in_(h.reminder_ids)).order_by(Reminder.id)
        for reminder in s.scalars(rows):
            lock_for_update(s, reminder)
            was = audit.snapshot(reminder)
            reminder.owner_id = h.new.id
            audit.record(s, ctx.actor, "reminder.reassign", reminder, was)
            reminders.append(reminder.id)
    s.flush()
    return {"deals_owner": deals, "reminders_owner": reminders}


def merge_customers(ctx: Ctx, loser: Customer, survivor: Customer) -> MergePlan:
    """Merge `loser` into `survivor` in the caller's unit of work; returns what was done.

    Both rows are locked (lowest id first, so two merges of one pair queue up instead of
    deadlocking) and checked again after the lock: a second Confirm finds a tombstone. The
    duplicate's deals are locked before them, in the order a deal write takes its locks.
    """
    # Another merge of the same owners' customers waits here (their kept sums, see below).
    # The duplicate's deal owners too: those who cannot see the kept customer hand theirs over.
    deal_owners = ctx.session.scalars(
        select(Deal.owner_id).where(Deal.customer_id == loser.id).distinct()
    ).all()
    lock_owners_sums(ctx.session, (loser.owner_id, survivor.owner_id, *deal_owners))
    lock_deals_of(ctx.session, loser.id)
    for c in sorted((loser, survivor), key=lambda c: c.id):
        lock_for_update(ctx.session, c)
    plan = plan_merge(ctx, loser, survivor)
    s = ctx.session
    moved_ids: dict[str, list[int]] = {}
    for label, model in MOVED.items():
        if model is Deal:
            # One deal at a time, in the order of the kept sums' keys (stage, currency,
            # category, months): each deal's totals triggers take the rows of its keys, so
            # the move takes them in the order a single deal's move takes its two, not in
            # the order the deals happen to lie in the table.
            ids = list(
                s.scalars(
                    select(Deal.id).where(Deal.customer_id == loser.id).order_by(*DEAL_KEY_ORDER)
                )
            )
            moved_ids[label] = sorted(ids)
            for deal_id in ids:
                s.execute(
                    update(Deal)
                    .where(Deal.id == deal_id)
                    .values(customer_id=survivor.id)
                    .execution_options(synchronize_session=False)
                )
            # Each deal's own history says its customer changed, by whom and when.
            for deal_id in sorted(ids):
                s.add(
                    AuditEntry(
                        actor_id=ctx.actor.id,
                        action="deal.merge_move",
                        entity_type=Deal.__tablename__,
                        entity_id=deal_id,
                        changes={"customer": [_label(loser), _label(survivor)]},
                        customer_id=survivor.id,
                    )
                )
            continue
        ids = list(s.scalars(select(model.id).where(model.customer_id == loser.id)))
        if ids or label not in SHOWN_WHEN_ANY:
            moved_ids[label] = ids
        if ids:
            s.execute(
                update(model)
                .where(model.customer_id == loser.id)
                .values(customer_id=survivor.id)
                .execution_options(synchronize_session=False)
            )
    handed = _hand_over(ctx, plan.handovers)
    moved_ids.update({k: v for k, v in handed.items() if v})
    folded = _fold_duplicate_contacts(ctx, survivor.id, moved_ids.get("contacts", []))
    if folded:
        moved_ids["contacts_merged"] = folded
    # A snapshot that froze the duplicate keeps the customer: the survivor takes its place
    # (once, where it is already a member too), then the duplicate's rows go.
    in_loser = select(SegmentMember.segment_id).where(SegmentMember.customer_id == loser.id)
    frozen = sorted(int(sid) for sid in s.scalars(in_loser))
    if frozen:
        in_survivor = select(SegmentMember.segment_id).where(
            SegmentMember.customer_id == survivor.id, SegmentMember.segment_id.in_(frozen)
        )
        already = set(s.scalars(in_survivor))
        rows = [{"segment_id": sid, "customer_id": survivor.id} for sid in frozen]
        rows = [r for r in rows if r["segment_id"] not in already]
        if rows:
            s.execute(insert(SegmentMember), rows)
        s.execute(delete(SegmentMember).where(SegmentMember.customer_id == loser.id))
        moved_ids["segments"] = frozen
    # The index files each note under its customer: owe it every moved note, as undo/edit do.
    note_outbox.enqueue(s, moved_ids["notes"], now=ctx.now())
    # Tickets are indexed under their customer too.
    note_outbox.enqueue_tickets(s, moved_ids.get("tickets", []), now=ctx.now())
    # Earlier merges into the loser now point at the survivor: a tombstone is one hop away.
    earlier = list(s.scalars(select(Customer.id).where(Customer.merged_into == loser.id)))
    if earlier:
        s.execute(
            update(Customer)
            .where(Customer.merged_into == loser.id)
            .values(merged_into=survivor.id)
            .execution_options(synchronize_session=False)
        )
    before = audit.snapshot(survivor)
    custom = dict(survivor.custom or {})
    for name, value in plan.filled.items():
        if name.startswith(audit.CUSTOM_PREFIX):
            custom[name[len(audit.CUSTOM_PREFIX) :]] = value
        else:
            setattr(survivor, name, value)
    survivor.custom = dict(sorted(custom.items()))
    survivor.tags = plan.tags
    survivor.updated_at = ctx.now()
    entry = audit.record(s, ctx.actor, "customer.merge", survivor, before)
    entry.changes = {
        **entry.changes,
        "merged": [None, loser.id],
        "moved": [None, moved_ids],
        "repointed": [None, earlier],
    }
    gone_before = audit.snapshot(loser)
    loser.merged_into = survivor.id
    # The tombstone goes with the customer it points to: left with the duplicate's owner it
    # would count as a customer they own (a leaver could not be deactivated for it).
    loser.owner_id = survivor.owner_id
    loser.updated_at = ctx.now()
    audit.record(s, ctx.actor, "customer.merged", loser, gone_before)
    # The duplicate's won deals now count for the kept customer: tier it as a win would.
    tiers.on_merge(ctx, loser, survivor)
    # Written before the expiry below, which would drop changes not yet sent.
    s.flush()
    s.expire_all()
    return plan


def _same_person(kept: Contact, other: Contact) -> bool:
    """Same name, and the same email or phone with neither of the two contradicting."""

    def norm(v: str | None) -> str:
        return " ".join((v or "").split()).casefold()

    def digits(v: str | None) -> str:
        return "".join(ch for ch in v or "" if ch.isdigit())

    if norm(kept.name) != norm(other.name):
        return False
    pairs = ((norm(kept.email), norm(other.email)), (digits(kept.phone), digits(other.phone)))
    if any(a and b and a != b for a, b in pairs):
        return False
    return any(a and a == b for a, b in pairs)


def _fold_duplicate_contacts(ctx: Ctx, survivor_id: int, moved: list[int]) -> list[int]:
    """Fold each moved contact that is a person the kept customer already had into that contact.

    Two customers merged because they were one usually list the same people: kept apart, every
    `edit contact Dana Ruiz` asked which. The kept contact fills its empty fields from the copy,
    the copy's notes point at it, and the copy goes; audited on the kept contact.
    """
    if not moved:
        return []
    s = ctx.session
    kept_rows = list(
        s.scalars(
            select(Contact)
            .where(Contact.customer_id == survivor_id, Contact.id.not_in(moved))
            .order_by(Contact.id)
        )
    )
    folded: list[int] = []
    for copy in s.scalars(select(Contact).where(Contact.id.in_(moved)).order_by(Contact.id)):
        kept = next((k for k in kept_rows if _same_person(k, copy)), None)
        if kept is None:
            continue
        before = audit.snapshot(kept)
        for name in ("title", "email", "phone", "birthday"):
            if not getattr(kept, name) and getattr(copy, name):
                setattr(kept, name, getattr(copy, name))
        kept.custom = {**(copy.custom or {}), **(kept.custom or {})}
        s.execute(
            update(Interaction)
            .where(Interaction.contact_id == copy.id)
            .values(contact_id=kept.id)
            .execution_options(synchronize_session=False)
        )
        entry = audit.record(s, ctx.actor, "contact.merge", kept, before)
        entry.changes = {**entry.changes, "merged_contact": [None, copy.id]}
        s.delete(copy)
        s.flush()
        folded.append(copy.id)
    return folded
