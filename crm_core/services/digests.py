"""The morning digest's data: what a person should look at today, in their own zone."""

from __future__ import annotations

import calendar
import itertools
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from crm_core import audit
from crm_core.access import live_customer
from crm_core.business_calendar import BusinessCalendar
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, PermissionDenied
from crm_core.marketing import campaigns
from crm_core.models import (
    Contact,
    Customer,
    Deal,
    Feedback,
    Interaction,
    Reminder,
    ReminderStatus,
    Role,
    SchedulePrefs,
    StageChange,
    Ticket,
    TicketStatus,
    TierChange,
    User,
)
from crm_core.services import care, tiers
from crm_core.services.care import Coming
from crm_core.services.tickets import alert_moments, calendar_for, policies_for
from crm_core.sla import Policy

DEFAULT_STALLED_DAYS = 14
# A customer is going quiet when the silence is both twice their usual gap and a week longer.
QUIET_FACTOR = 2.0
QUIET_MARGIN = timedelta(days=7)
QUIET_MIN_NOTES = 3
HISTORY = timedelta(days=365)
LIST_LIMIT = 10
OPEN_REMINDERS = (ReminderStatus.pending, ReminderStatus.sent, ReminderStatus.failed)
DIGEST_DAYS = ("weekdays", "daily")
BIRTHDAY_DAYS = 7  # today and the next six days
# A churn risk: a score this low within this many days.
LOW_NPS = 6
LOW_CSAT = 2
LOW_SCORE_DAYS = 30


@dataclass(frozen=True)
class Stalled:
    """An open deal with no activity for longer than its stage allows."""

    deal: Deal
    customer: Customer
    days: int


@dataclass(frozen=True)
class Quiet:
    """A customer silent for clearly longer than their usual interval."""

    customer: Customer
    days_silent: int
    usual_days: int


@dataclass(frozen=True)
class TeamMove:
    """A stage move on a team member's deal."""

    change: StageChange
    deal: Deal
    owner: User


@dataclass(frozen=True)
class Birthday:
    """A contact's birthday falling `days` days from today (0 = today) on local `day`."""

    contact: Contact
    customer: Customer
    day: date
    days: int


@dataclass(frozen=True)
class TicketDue:
    """A ticket assigned to the person past a target (breached) or past 75 % of one."""

    ticket: Ticket
    which: str  # "response" or "resolution"
    due_at: datetime
    breached: bool


@dataclass(frozen=True)
class LowScore:
    """A churn risk: a customer's recent NPS of 6 or less or CSAT of 2 or less."""

    customer: Customer
    feedback: Feedback


@dataclass
class Digest:
    """Everything one person's digest shows for one local day."""

    user: User
    day: date
    due_today: list[Reminder] = field(default_factory=list)
    overdue: list[Reminder] = field(default_factory=list)
    closing: list[tuple[Deal, Customer]] = field(default_factory=list)
    stalled: list[Stalled] = field(default_factory=list)
    quiet: list[Quiet] = field(default_factory=list)
    yesterday: dict[str, int] = field(default_factory=dict)
    yesterday_moves: int = 0
    team_moves: list[TeamMove] = field(default_factory=list)
    team_won: list[TeamMove] = field(default_factory=list)
    team_lost: list[TeamMove] = field(default_factory=list)
    team_activity: list[tuple[User, int]] = field(default_factory=list)
    birthdays: list[Birthday] = field(default_factory=list)
    tickets: list[TicketDue] = field(default_factory=list)
    low_scores: list[LowScore] = field(default_factory=list)
    # Tier changes of the person's customers since yesterday began, and care dates coming.
    tier_changes: list[tuple[TierChange, Customer]] = field(default_factory=list)
    care: list[Coming] = field(default_factory=list)
    # (campaign, open tasks) of the person's own campaign tasks.
    campaign_tasks: list[tuple[str, int]] = field(default_factory=list)
    is_manager: bool = False
    # The moment it was built: ticket badges count from it.
    now: datetime | None = None

    @property
    def empty(self) -> bool:
        """Nothing to show at all."""
        return not (
            self.due_today
            or self.overdue
            or self.closing
            or self.stalled
            or self.quiet
            or self.yesterday
            or self.yesterday_moves
            or self.team_moves
            or self.team_activity
            or self.birthdays
            or self.tickets
            or self.low_scores
            or self.tier_changes
            or self.care
            or self.campaign_tasks
        )


def _bounds(day: date, ctx: Ctx) -> tuple[datetime, datetime]:
    tz = ctx.tz
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def build_digest(ctx: Ctx, stalled_days: dict[str, int] | None = None) -> Digest:
    """The actor's digest for their local today (read only)."""
    s, me, now = ctx.session, ctx.actor, ctx.now()
    today = now.astimezone(ctx.tz).date()
    start, end = _bounds(today, ctx)
    y_start, y_end = _bounds(today - timedelta(days=1), ctx)
    digest = Digest(me, today, now=now)
    open_stages = [st.name for st in ctx.pipeline.open_stages]

    reminders = s.scalars(
        select(Reminder)
        .where(
            Reminder.owner_id == me.id,
            Reminder.status.in_(OPEN_REMINDERS),
            Reminder.due_at < end,
        )
        .order_by(Reminder.due_at, Reminder.id)
    ).all()
    digest.due_today = [r for r in reminders if r.due_at >= start][:LIST_LIMIT]
    digest.overdue = [r for r in reminders if r.due_at < start][:LIST_LIMIT]

    monday = today - timedelta(days=today.weekday())
    digest.closing = [
        (d, c)
        for d, c in s.execute(
            select(Deal, Customer)
            .join(Customer, Customer.id == Deal.customer_id)
            .where(
                Deal.owner_id == me.id,
                live_customer(),
                Deal.stage.in_(open_stages),
                Deal.expected_close >= monday,
                Deal.expected_close <= monday + timedelta(days=6),
            )
            .order_by(Deal.expected_close, Deal.id)
            .limit(LIST_LIMIT)
        ).all()
    ]
    digest.stalled = _stalled(ctx, open_stages, stalled_days or {}, now)
    digest.quiet = _quiet(ctx, now)
    digest.birthdays = _birthdays(ctx, today)
    digest.tickets = _tickets_due(ctx, now)
    digest.low_scores = _low_scores(ctx, now)
    digest.tier_changes = tiers.changes_since(ctx, y_start)
    digest.care = care.coming(ctx, today, LIST_LIMIT)
    digest.campaign_tasks = campaigns.open_task_counts(ctx)[:LIST_LIMIT]

    kinds = s.execute(
        select(Interaction.kind, func.count())
        .where(
            Interaction.author_id == me.id,
            Interaction.deleted_at.is_(None),
            Interaction.occurred_at >= y_start,
            Interaction.occurred_at < y_end,
        )
        .group_by(Interaction.kind)
    ).all()
    digest.yesterday = {str(k.value if hasattr(k, "value") else k): int(n) for k, n in kinds}
    digest.yesterday_moves = int(
        s.scalar(
            select(func.count()).where(
                StageChange.deal_id.in_(select(Deal.id).where(Deal.owner_id == me.id)),
                StageChange.actor_id == me.id,
                StageChange.changed_at >= y_start,
                StageChange.changed_at < y_end,
            )
        )
        or 0
    )
    if me.role == Role.manager and me.team_id is not None:
        digest.is_manager = True
        _team(ctx, digest, y_start, y_end)
    return digest


def _stalled(
    ctx: Ctx, open_stages: list[str], days: dict[str, int], now: datetime
) -> list[Stalled]:
    s, me = ctx.session, ctx.actor
    deals = s.execute(
        select(Deal, Customer)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(Deal.owner_id == me.id, live_customer(), Deal.stage.in_(open_stages))
    ).all()
    if not deals:
        return []
    deal_ids = [d.id for d, _ in deals]
    cust_ids = sorted({c.id for _, c in deals})
    last_note = dict(
        s.execute(
            select(Interaction.customer_id, func.max(Interaction.occurred_at))
            .where(Interaction.customer_id.in_(cust_ids), Interaction.deleted_at.is_(None))
            .group_by(Interaction.customer_id)
        ).all()
    )
    last_move = dict(
        s.execute(
            select(StageChange.deal_id, func.max(StageChange.changed_at))
            .where(StageChange.deal_id.in_(deal_ids))
            .group_by(StageChange.deal_id)
        ).all()
    )
    out = []
    for deal, customer in deals:
        moments = [deal.created_at, last_note.get(customer.id), last_move.get(deal.id)]
        last = max(_aware(m) for m in moments if m is not None)
        idle = (now - last).days
        if idle >= days.get(deal.stage, DEFAULT_STALLED_DAYS):
            out.append(Stalled(deal, customer, idle))
    out.sort(key=lambda x: (-x.days, x.deal.id))
    return out[:LIST_LIMIT]


def _tickets_due(ctx: Ctx, now: datetime) -> list[TicketDue]:
    """The person's running tickets past a target or past the 75 % warning, breached first."""
    s, me = ctx.session, ctx.actor
    tickets = s.scalars(
        select(Ticket)
        .where(
            Ticket.assignee_id == me.id,
            Ticket.status.in_((TicketStatus.new, TicketStatus.open)),
        )
        .order_by(Ticket.queue_at, Ticket.id)
        .options(selectinload(Ticket.events), joinedload(Ticket.customer))
    ).all()
    calendars: dict[int | None, BusinessCalendar] = {}
    policies: dict[int | None, dict[str, Policy]] = {}
    out: list[TicketDue] = []
    for ticket in tickets:
        if ticket.team_id not in calendars:
            calendars[ticket.team_id] = calendar_for(s, ticket.team_id)
            policies[ticket.team_id] = policies_for(s, ticket.team_id)
        moments = alert_moments(calendars[ticket.team_id], ticket, policies[ticket.team_id])
        # The first-response target comes first; one line per ticket, its most pressing.
        for which in ("response", "resolution"):
            breach, warn = moments.get(f"{which}_breach"), moments.get(f"{which}_warn")
            if breach is not None and warn is not None and warn <= now:
                out.append(TicketDue(ticket, which, breach, breach <= now))
                break
    out.sort(key=lambda d: (not d.breached, d.due_at, d.ticket.id))
    return out[:LIST_LIMIT]


def _low_scores(ctx: Ctx, now: datetime) -> list[LowScore]:
    """The person's customers whose latest low score came within LOW_SCORE_DAYS."""
    s, me = ctx.session, ctx.actor
    low = or_(
        (Feedback.kind == "nps") & (Feedback.score <= LOW_NPS),
        (Feedback.kind == "csat") & (Feedback.score <= LOW_CSAT),
    )
    rows = s.execute(
        select(Feedback, Customer)
        .join(Customer, Customer.id == Feedback.customer_id)
        .where(
            Customer.owner_id == me.id,
            live_customer(),
            low,
            Feedback.created_at >= now - timedelta(days=LOW_SCORE_DAYS),
        )
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
    ).all()
    seen: set[int] = set()
    out: list[LowScore] = []
    for fb, customer in rows:
        if customer.id not in seen:
            seen.add(customer.id)
            out.append(LowScore(customer, fb))
    return out[:LIST_LIMIT]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _quiet(ctx: Ctx, now: datetime) -> list[Quiet]:
    s, me = ctx.session, ctx.actor
    mine = select(Customer.id).where(Customer.owner_id == me.id, live_customer()).scalar_subquery()
    rows = s.execute(
        select(Interaction.customer_id, Interaction.occurred_at)
        .where(
            Interaction.customer_id.in_(mine),
            Interaction.deleted_at.is_(None),
            Interaction.occurred_at >= now - HISTORY,
        )
        .order_by(Interaction.customer_id, Interaction.occurred_at)
    ).all()
    times: dict[int, list[datetime]] = defaultdict(list)
    for cust_id, moment in rows:
        times[cust_id].append(_aware(moment))
    found: list[tuple[float, int, int, int]] = []
    for cust_id, moments in times.items():
        if len(moments) < QUIET_MIN_NOTES:
            continue
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
        usual = timedelta(seconds=statistics.median(gaps))
        silent = now - moments[-1]
        if silent > usual * QUIET_FACTOR and silent > usual + QUIET_MARGIN:
            ratio = silent / max(usual, timedelta(days=1))
            found.append((-ratio, cust_id, silent.days, max(1, round(usual / timedelta(days=1)))))
    found.sort()
    found = found[:LIST_LIMIT]
    customers = {
        c.id: c for c in s.scalars(select(Customer).where(Customer.id.in_([f[1] for f in found])))
    }
    return [Quiet(customers[cid], silent, usual) for _, cid, silent, usual in found]


def _birthdays(ctx: Ctx, today: date) -> list[Birthday]:
    """Birthdays of contacts at the actor's own customers, today and the next six days.

    Only month and day count (a year-less birthday is stored in 1904); a Feb 29 birthday
    falls on Feb 28 in a year without Feb 29.
    """
    upcoming: dict[tuple[int, int], date] = {}
    for offset in range(BIRTHDAY_DAYS):
        day = today + timedelta(days=offset)
        upcoming[(day.month, day.day)] = day
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            upcoming[(2, 29)] = day
    rows = ctx.session.execute(
        select(Contact, Customer)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(Customer.owner_id == ctx.actor.id, live_customer(), Contact.birthday.is_not(None))
    ).all()
    found = []
    for contact, customer in rows:
        born = contact.birthday
        falls = upcoming.get((born.month, born.day)) if born is not None else None
        if falls is not None:
            found.append(Birthday(contact, customer, falls, (falls - today).days))
    found.sort(key=lambda b: (b.days, b.contact.name, b.contact.id))
    return found[:LIST_LIMIT]


def _team(ctx: Ctx, digest: Digest, y_start: datetime, y_end: datetime) -> None:
    s, me = ctx.session, ctx.actor
    members = s.scalars(
        select(User).where(User.team_id == me.team_id, User.active.is_(True)).order_by(User.name)
    ).all()
    by_id = {u.id: u for u in members}
    moves = s.execute(
        select(StageChange, Deal)
        .join(Deal, Deal.id == StageChange.deal_id)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(
            Deal.owner_id.in_(list(by_id)),
            live_customer(),
            StageChange.changed_at >= y_start,
            StageChange.changed_at < y_end,
        )
        .order_by(StageChange.changed_at, StageChange.id)
    ).all()
    for change, deal in moves:
        move = TeamMove(change, deal, by_id[deal.owner_id])
        stage = ctx.pipeline.get(change.to_stage)
        if stage is not None and stage.won:
            digest.team_won.append(move)
        elif stage is not None and stage.lost:
            digest.team_lost.append(move)
        else:
            digest.team_moves.append(move)
    counts = Counter(
        dict(
            s.execute(
                select(Interaction.author_id, func.count())
                .where(
                    Interaction.author_id.in_(list(by_id)),
                    Interaction.deleted_at.is_(None),
                    Interaction.occurred_at >= y_start,
                    Interaction.occurred_at < y_end,
                )
                .group_by(Interaction.author_id)
            ).all()
        )
    )
    digest.team_activity = [(u, int(counts.get(u.id, 0))) for u in members if u.id != me.id]


# --- preferences ------------------------------------------------------------------------------


def prefs_of(ctx: Ctx) -> SchedulePrefs:
    """The actor's digest settings (defaults when never set; not added to the session)."""
    found = ctx.session.get(SchedulePrefs, ctx.actor.id)
    return found or SchedulePrefs(
        user_id=ctx.actor.id, digest_minute=None, digest_days="weekdays", digest_off=False
    )


def set_digest(
    ctx: Ctx,
    *,
    minute: int | None = None,
    days: str | None = None,
    off: bool | None = None,
    user: User | None = None,
) -> SchedulePrefs:
    """Change a person's digest time, days or on/off (the actor's own by default); audited.

    Only an admin changes someone else's (as language, time zone and quiet hours), checked
    here as well as where the person is named (preferences.whose).
    """
    user = user or ctx.actor
    if user.id != ctx.actor.id and ctx.actor.role != Role.admin:
        raise PermissionDenied("error.settings_admin_only", user=user.external_id)
    if minute is not None and not 0 <= minute < 24 * 60:
        raise Invalid("usage.digest")
    if days is not None and days not in DIGEST_DAYS:
        raise Invalid("usage.digest")
    prefs = ctx.session.get(SchedulePrefs, user.id)
    if prefs is not None:
        # The audited "before" is what this change replaces, not what an earlier read saw.
        lock_for_update(ctx.session, prefs)
    before = audit.snapshot(prefs) if prefs is not None else None
    if prefs is None:
        prefs = SchedulePrefs(
            user_id=user.id, digest_minute=None, digest_days="weekdays", digest_off=False
        )
        ctx.session.add(prefs)
    if minute is not None:
        prefs.digest_minute = minute
    if days is not None:
        prefs.digest_days = days
    if off is not None:
        prefs.digest_off = off
    prefs.updated_at = ctx.now()
    audit.record(ctx.session, ctx.actor, "digest.settings", prefs, before)
    return prefs
