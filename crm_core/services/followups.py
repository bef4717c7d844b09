"""Follow-ups: a reminder to the actor to get back to a customer on a given day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from crm_core.access import ensure_customer_access
from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Customer, Deal, Reminder
from crm_core.services.reminders import create_reminder

# A follow-up day means the start of that working day in the actor's zone (or now, for today).
FOLLOW_UP_AT = time(9, 0)


def check_follow_up_day(ctx: Ctx, day: date) -> date:
    """A follow-up day; refuses one before the actor's today."""
    if day < ctx.now().astimezone(ctx.tz).date():
        raise Invalid("error.follow_up_in_past", day=day.isoformat())
    return day


def add_follow_up(
    ctx: Ctx, customer: Customer, day: date, text: str, *, deal: Deal | None = None
) -> Reminder:
    """A pending reminder for the actor on `day` at 09:00 local time (or now, for today)."""
    ensure_customer_access(ctx.actor, customer)
    if not " ".join(text.split()):
        raise Invalid("error.follow_up_text_missing")
    now = ctx.now()
    check_follow_up_day(ctx, day)
    due = max(datetime.combine(day, FOLLOW_UP_AT, tzinfo=ctx.tz).astimezone(UTC), now)
    # A day without a clock time: quiet hours may hold it until the working day starts.
    return create_reminder(
        ctx, ctx.actor, due, text, customer=customer, deal=deal, explicit_time=False
    )
