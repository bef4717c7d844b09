"""Reminders: create, list, done, snooze and cancel, with access checks and audit records."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from crm_core import audit, rules
from crm_core.access import ensure_customer_access
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, NotFound, PermissionDenied
from crm_core.models import Customer, Deal, Reminder, ReminderStatus, Role, User
from crm_core.timephrases import Recurrence
from crm_core.zones import zone

MAX_TEXT = rules.MAX_REMINDER
LIST_LIMIT = 25
# "Remind me in 0 minutes" and clock skew: a moment this close to now is still accepted.
PAST_SLACK = timedelta(minutes=1)
OPEN = (ReminderStatus.pending, ReminderStatus.sent, ReminderStatus.failed)
_SPEC = re.compile(r"^(daily|weekdays|weekly|monthly)(?::(-1|\d{1,2}))?@(\d{2}):(\d{2})$")


def recurrence_spec(rec: Recurrence) -> str:
    """A recurrence as stored: `daily@09:00`, `weekly:0@09:00`, `monthly:-1@18:00` (last day)."""
    extra = rec.weekday if rec.kind == "weekly" else rec.day if rec.kind == "monthly" else None
    middle = "" if extra is None else f":{extra}"
    return f"{rec.kind}{middle}@{rec.at.hour:02d}:{rec.at.minute:02d}"


def parse_recurrence(spec: str) -> Recurrence:
    """The Recurrence a stored spec names; ValueError for anything else."""
    m = _SPEC.match(spec.strip())
    if m is None:
        raise ValueError(f"{spec!r} is not a recurrence like weekly:0@09:00")
    kind, extra, hour, minute = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
    at = time(hour, minute)
    if kind == "weekly":
        if extra is None or not 0 <= int(extra) <= 6:
            raise ValueError(f"{spec!r}: weekly needs a weekday 0 (Monday) to 6")
        return Recurrence("weekly", at, weekday=int(extra))
    if kind == "monthly":
        if extra is None or not (1 <= int(extra) <= 31 or int(extra) == -1):
            raise ValueError(f"{spec!r}: monthly needs a day 1 to 31, or -1 for the last day")
        return Recurrence("monthly", at, day=int(extra))
    if extra is not None:
        raise ValueError(f"{spec!r}: {kind} takes no day")
    return Recurrence(kind, at)  # type: ignore[arg-type]


def can_remind(actor: User, owner: User) -> bool:
    """A rep reminds only themself; a manager their team; an admin anyone active."""
    if not actor.active or not owner.active:
        return False
    if actor.id == owner.id or actor.role == Role.admin:
        return True
    return (
        actor.role == Role.manager and actor.team_id is not None and owner.team_id == actor.team_id
    )


def create_reminder(
    ctx: Ctx,
    owner: User,
    due: datetime,
    text: str,
    *,
    customer: Customer | None = None,
    deal: Deal | None = None,
    recurrence: Recurrence | None = None,
    explicit_time: bool = True,
) -> Reminder:
    """A pending reminder for `owner` at `due` (aware; stored UTC)."""
    if not owner.active:
        # Their rights are not the matter: nobody can remind a leaver (as deals answer).
        raise Invalid("error.remind_inactive", user=owner.name)
    if not can_remind(ctx.actor, owner):
        raise PermissionDenied("error.remind_not_allowed", user=owner.name)
    text = rules.text("text", " ".join(text.split()), MAX_TEXT, "error.reminder_text_missing")
    if due.tzinfo is None:
        raise ValueError("naive due time")
    rules.moment("due time", due)
    if due < ctx.now() - PAST_SLACK:
        raise Invalid("error.reminder_in_past")
    if customer is not None:
        ensure_customer_access(ctx.actor, customer)
    if deal is not None:
        ensure_customer_access(ctx.actor, deal.customer)
        if customer is not None and deal.customer_id != customer.id:
            raise Invalid("error.deal_other_customer", deal=deal.title, customer=customer.name)
        customer = customer or deal.customer
    reminder = Reminder(
        owner_id=owner.id,
        due_at=due,
        text=text,
        customer_id=customer.id if customer else None,
        deal_id=deal.id if deal else None,
        status=ReminderStatus.pending,
        created_by_id=ctx.actor.id,
        created_at=ctx.now(),
        recurrence=recurrence_spec(recurrence) if recurrence else None,
        explicit_time=explicit_time,
    )
    ctx.session.add(reminder)
    ctx.session.flush()
    if recurrence is not None:
        reminder.series_id = reminder.id
    audit.record(ctx.session, ctx.actor, "reminder.create", reminder, None)
    return reminder


def manageable(actor: User) -> list[ColumnElement[bool]]:
    """Conditions on Reminder for the reminders `actor` may see and change."""
    if actor.role == Role.admin:
        return []
    mine = or_(Reminder.owner_id == actor.id, Reminder.created_by_id == actor.id)
    if actor.role == Role.manager and actor.team_id is not None:
        team = select(User.id).where(User.team_id == actor.team_id).scalar_subquery()
        return [or_(mine, Reminder.owner_id.in_(team))]
    return [mine]


def get_reminder(ctx: Ctx, reminder_id: int, *, for_update: bool = False) -> Reminder:
    """A reminder the actor owns, created, or manages; NotFound otherwise.

    `for_update` locks it until the unit of work ends, for a change based on what it holds.
    """
    found: Reminder | None = ctx.session.scalar(
        select(Reminder).where(Reminder.id == reminder_id, *manageable(ctx.actor))
    )
    if found is None or not ctx.actor.active:
        raise NotFound("error.reminder_not_found", id=reminder_id)
    if for_update:
        lock_for_update(ctx.session, found)
    return found


def list_reminders(ctx: Ctx, *, limit: int = LIST_LIMIT) -> tuple[list[Reminder], int]:
    """The actor's own open reminders (pending, sent but not done, failed) by due time."""
    cond = (Reminder.owner_id == ctx.actor.id, Reminder.status.in_(OPEN))
    rows = list(
        ctx.session.scalars(
            select(Reminder).where(*cond).order_by(Reminder.due_at, Reminder.id).limit(limit + 1)
        )
    )
    total = len(rows)
    if total > limit:
        total = len(ctx.session.scalars(select(Reminder.id).where(*cond)).all())
    return rows[:limit], total


def complete(ctx: Ctx, reminder_id: int) -> Reminder:
    """Mark a reminder done; a recurring series goes on (`cancel` stops it).

    Done before it was sent, the scheduler will never send it and so never schedule the next
    one: the next occurrence is made here, at once. Exactly once: the row is locked and its
    claim dropped, so a delivery in flight loses its claim and schedules nothing; a reminder
    already sent had its next made by the scheduler (schedules/reminders.py).
    """
    reminder = get_reminder(ctx, reminder_id, for_update=True)
    if reminder.status == ReminderStatus.done:
        raise Invalid("error.reminder_already_done", id=reminder.id)
    if reminder.status == ReminderStatus.cancelled:
        raise Invalid("error.reminder_cancelled", id=reminder.id)
    unsent = reminder.status in (ReminderStatus.pending, ReminderStatus.failed)
    before = audit.snapshot(reminder)
    reminder.status = ReminderStatus.done
    _release(reminder)
    audit.record(ctx.session, ctx.actor, "reminder.done", reminder, before)
    if unsent and reminder.recurrence:
        follow = next_in_series(ctx.session, reminder, ctx.now())
        if follow is not None:
            audit.record(ctx.session, ctx.actor, "reminder.recur", follow, None)
    return reminder


def next_in_series(session: Session, reminder: Reminder, now: datetime) -> Reminder | None:
    """Add the occurrence after `reminder` in its series (None: not one, or one is waiting).

    The next comes after the later of its due time and now, in the owner's zone. A pending
    member already waiting means the next exists; making another would send it twice.
    """
    try:
        rule = parse_recurrence(reminder.recurrence or "")
    except ValueError:
        return None
    series = reminder.series_id or reminder.id
    waiting = session.scalar(
        select(Reminder.id).where(
            Reminder.series_id == series,
            Reminder.id != reminder.id,
            Reminder.status == ReminderStatus.pending,
        )
    )
    if waiting is not None:
        return None
    owner = session.get(User, reminder.owner_id)
    if owner is None:
        return None
    follow = Reminder(
        owner_id=reminder.owner_id,
        due_at=rule.next_after(max(reminder.due_at, now), zone(owner.timezone)),
        text=reminder.text,
        customer_id=reminder.customer_id,
        deal_id=reminder.deal_id,
        status=ReminderStatus.pending,
        created_by_id=reminder.created_by_id,
        created_at=now,
        recurrence=reminder.recurrence,
        explicit_time=reminder.explicit_time,
        series_id=series,
    )
    session.add(follow)
    session.flush()
    return follow


def snooze(ctx: Ctx, reminder_id: int, due: datetime, *, explicit_time: bool = True) -> Reminder:
    """Move a reminder to a new time; it will be delivered again then."""
    reminder = get_reminder(ctx, reminder_id, for_update=True)
    if reminder.status in (ReminderStatus.done, ReminderStatus.cancelled):
        key = (
            "error.reminder_already_done"
            if reminder.status == ReminderStatus.done
            else ("error.reminder_cancelled")
        )
        raise Invalid(key, id=reminder.id)
    if due <= ctx.now():
        raise Invalid("error.reminder_in_past")
    rules.moment("due time", due)
    if reminder.status == ReminderStatus.pending and reminder.due_at == due:
        # "Moved from 09:00 to 09:00" would be a write and a message saying nothing happened.
        owner = ctx.session.get(User, reminder.owner_id)
        tz = zone(owner.timezone if owner is not None else "UTC")
        raise Invalid(
            "error.reminder_same_time",
            id=reminder.id,
            when=f"{due.astimezone(tz):%Y-%m-%d %H:%M} ({tz})",
        )
    before = audit.snapshot(reminder)
    reminder.status = ReminderStatus.pending
    reminder.due_at = due
    reminder.explicit_time = explicit_time
    reminder.attempts = 0
    reminder.sent_at = None
    reminder.late = False
    reminder.last_error = None
    _release(reminder)
    audit.record(ctx.session, ctx.actor, "reminder.snooze", reminder, before)
    return reminder


def cancel(ctx: Ctx, reminder_id: int) -> list[Reminder]:
    """Cancel a reminder, and the coming ones of its series; returns what was cancelled."""
    reminder = get_reminder(ctx, reminder_id, for_update=True)
    if reminder.status == ReminderStatus.cancelled:
        raise Invalid("error.reminder_cancelled", id=reminder.id)
    targets = [reminder]
    if reminder.series_id is not None:
        targets += [
            r
            for r in ctx.session.scalars(
                select(Reminder).where(
                    Reminder.series_id == reminder.series_id,
                    Reminder.id != reminder.id,
                    Reminder.status == ReminderStatus.pending,
                )
            )
        ]
    changed = []
    for r in targets:
        if r is not reminder:
            lock_for_update(ctx.session, r)
        if r.status != ReminderStatus.pending and r is not reminder:
            continue
        if r.status == ReminderStatus.done:
            continue
        before = audit.snapshot(r)
        r.status = ReminderStatus.cancelled
        _release(r)
        audit.record(ctx.session, ctx.actor, "reminder.cancel", r, before)
        changed.append(r)
    if not changed:
        raise Invalid("error.reminder_already_done", id=reminder.id)
    return changed


def _release(reminder: Reminder) -> None:
    reminder.claim_token = None
    reminder.claimed_until = None
    reminder.next_attempt_at = None
