"""Reassigning a customer, its open deals and its reminders to another owner, who is told, as is
the old one.

What moves (as Salesforce's account owner change does by default): the open deals the old owner
owns, and the old owner's open reminders on the customer or its deals, since the old owner can no
longer open either. Closed deals stay with whoever owns them, so won deals keep counting for the
person who won them. `with deals` also moves open deals owned by anyone else.

Its open tickets follow the rule a ticket's team is set by when it is opened or assigned: the
assignee's team, else the account owner's. An unassigned one moves to the new owner's team (its
queue, SLA calendar and triage); one being worked by someone stays with that person's team.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from crm_core import audit
from crm_core.access import can_assign_owner, ensure_customer_access, live_customer
from crm_core.context import Ctx
from crm_core.db import lock_deals_of, lock_for_update
from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import (
    Customer,
    Deal,
    OwnerNotice,
    Reminder,
    ReminderStatus,
    Role,
    Ticket,
    User,
)
from crm_core.services.tickets import ACTIVE, refresh_sla


@dataclass(frozen=True)
class Reassigned:
    """What a reassignment did."""

    customer: Customer
    old_owner: User
    new_owner: User
    deals: list[Deal]
    # The old owner's open reminders on the customer or its deals, now the new owner's.
    reminders: list[Reminder] = field(default_factory=list)
    # Open deals left with someone other than the new owner (`with deals` moves them too).
    kept: list[Deal] = field(default_factory=list)
    # Open tickets now on the new owner's team (unassigned ones), and those left with their
    # assignee's team.
    tickets: list[Ticket] = field(default_factory=list)
    tickets_kept: list[Ticket] = field(default_factory=list)
    # Open tickets on the customer still assigned to the old owner (`assign` hands them over).
    tickets_assigned: list[Ticket] = field(default_factory=list)
    # When the old owner has no customer left: what is still theirs anywhere (open tickets
    # assigned to them, pending reminders, reminders typed in chat among them), which no
    # reassign moves and which would be stranded if they leave.
    left: Leftovers | None = None


@dataclass(frozen=True)
class Leftovers:
    """What a person still holds besides customers: open tickets, open deals, reminders."""

    tickets: list[int]
    deals: list[int]
    reminders: list[int]

    def __bool__(self) -> bool:
        return bool(self.tickets or self.deals or self.reminders)


def leftovers(ctx: Ctx, user_id: int) -> Leftovers:
    """The open tickets assigned to `user_id`, their open deals and pending reminders."""
    s = ctx.session
    tickets = s.scalars(
        select(Ticket.id)
        .where(Ticket.assignee_id == user_id, Ticket.status.in_(ACTIVE))
        .order_by(Ticket.id)
    ).all()
    deals = s.scalars(
        select(Deal.id).where(Deal.owner_id == user_id, Deal.closed_at.is_(None)).order_by(Deal.id)
    ).all()
    reminders = s.scalars(
        select(Reminder.id)
        .where(Reminder.owner_id == user_id, Reminder.status == ReminderStatus.pending)
        .order_by(Reminder.id)
    ).all()
    return Leftovers(list(tickets), list(deals), list(reminders))


def reassign_customer(
    ctx: Ctx, customer: Customer, new_owner: User, *, with_deals: bool = False
) -> Reassigned:
    """Give `customer`, the old owner's open deals and reminders on it to `new_owner`; audited.

    With `with_deals`, open deals owned by anyone else move too. Closed deals never move: a
    won deal stays in the numbers of who won it. Managers within their team, admins anyone;
    reps are refused. The old and the new owner each get a notice row, sent once by the
    scheduler (schedules/notices.py).
    """
    if ctx.actor.role == Role.rep:
        raise PermissionDenied("error.reassign_rep")
    # A customer outside the manager's book answers like a missing one.
    ensure_customer_access(ctx.actor, customer)
    if not can_assign_owner(ctx.actor, new_owner):
        key = "error.reassign_inactive" if not new_owner.active else "error.reassign_outside"
        raise Invalid(key, name=new_owner.name, customer=customer.name)
    # Deals before the customer, the order a deal write takes its locks in.
    lock_deals_of(ctx.session, customer.id, open_only=True)
    lock_for_update(ctx.session, customer)
    old_owner = customer.owner
    if old_owner.id == new_owner.id:
        raise Invalid("error.reassign_same", customer=customer.name, name=new_owner.name)
    before = audit.snapshot(customer)
    customer.owner_id = new_owner.id
    customer.updated_at = ctx.now()
    audit.record(ctx.session, ctx.actor, "customer.reassign", customer, before)
    moved: list[Deal] = []
    kept: list[Deal] = []
    open_deals = ctx.session.scalars(
        select(Deal)
        .where(Deal.customer_id == customer.id, Deal.closed_at.is_(None))
        .order_by(Deal.id)
    ).all()
    for deal in open_deals:
        lock_for_update(ctx.session, deal)
        if deal.closed_at is not None or deal.owner_id == new_owner.id:
            continue
        if not with_deals and deal.owner_id != old_owner.id:
            kept.append(deal)
            continue
        was = audit.snapshot(deal)
        deal.owner_id = new_owner.id
        audit.record(ctx.session, ctx.actor, "deal.reassign", deal, was)
        moved.append(deal)
    reminders = _move_reminders(ctx, customer, old_owner, new_owner)
    tickets, tickets_kept = _move_tickets(ctx, customer, new_owner)
    # The person who did it has the reply; the notices are for owners who were not there.
    for user, other, gained in ((old_owner, new_owner, False), (new_owner, old_owner, True)):
        if user.id != ctx.actor.id:
            ctx.session.add(
                OwnerNotice(
                    user_id=user.id,
                    customer_id=customer.id,
                    actor_id=ctx.actor.id,
                    other_id=other.id,
                    gained=gained,
                    deals=len(moved),
                    status="pending",
                    created_at=ctx.now(),
                )
            )
    ctx.session.flush()
    assigned = ctx.session.scalars(
        select(Ticket)
        .where(
            Ticket.customer_id == customer.id,
            Ticket.assignee_id == old_owner.id,
            Ticket.status.in_(ACTIVE),
        )
        .order_by(Ticket.id)
    ).all()
    book = ctx.session.scalar(
        select(Customer.id).where(Customer.owner_id == old_owner.id, live_customer()).limit(1)
    )
    left = leftovers(ctx, old_owner.id) if book is None else None
    return Reassigned(
        customer,
        old_owner,
        new_owner,
        moved,
        reminders,
        kept,
        tickets,
        tickets_kept,
        list(assigned),
        left,
    )


def _move_tickets(ctx: Ctx, customer: Customer, new: User) -> tuple[list[Ticket], list[Ticket]]:
    """The customer's open unassigned tickets put on the new owner's team, due times again on
    its calendar; assigned ones, on a team other than the new owner's, are returned as kept."""
    rows = ctx.session.scalars(
        select(Ticket)
        .where(Ticket.customer_id == customer.id, Ticket.status.in_(ACTIVE))
        .order_by(Ticket.id)
    ).all()
    moved: list[Ticket] = []
    kept: list[Ticket] = []
    for ticket in rows:
        if ticket.team_id == new.team_id:
            continue
        if ticket.assignee_id is not None:
            kept.append(ticket)
            continue
        lock_for_update(ctx.session, ticket)
        was = audit.snapshot(ticket)
        ticket.team_id = new.team_id
        ticket.updated_at = ctx.now()
        refresh_sla(ctx.session, ticket)
        audit.record(ctx.session, ctx.actor, "ticket.reassign", ticket, was)
        moved.append(ticket)
    return moved, kept


def _move_reminders(ctx: Ctx, customer: Customer, old: User, new: User) -> list[Reminder]:
    """The old owner's open reminders on the customer or its deals, handed to the new owner.

    The old owner can no longer open the customer, so a reminder left with them would ping
    about something they cannot act on, and the new owner's card would show none. Rows being
    delivered (claimed) are locked first, so a send in flight finishes under its claim.
    """
    deal_ids = select(Deal.id).where(Deal.customer_id == customer.id).scalar_subquery()
    rows = ctx.session.scalars(
        select(Reminder)
        .where(
            Reminder.owner_id == old.id,
            Reminder.status.in_((ReminderStatus.pending, ReminderStatus.sent)),
            (Reminder.customer_id == customer.id) | Reminder.deal_id.in_(deal_ids),
        )
        .order_by(Reminder.id)
    ).all()
    for reminder in rows:
        lock_for_update(ctx.session, reminder)
        was = audit.snapshot(reminder)
        reminder.owner_id = new.id
        audit.record(ctx.session, ctx.actor, "reminder.reassign", reminder, was)
    return list(rows)
