"""Activity: per person, interactions logged by kind, deals moved, won and lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    any_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    union_all,
)

from crm_core.access import (
    archived_customer_ids,
    customer_filter,
    visible_customer_ids,
    visible_owner_ids,
)
from crm_core.analytics.periods import Period, add_months, month_start
from crm_core.analytics.scope import in_period, kept_scope
from crm_core.context import Ctx
from crm_core.models import (
    Customer,
    Deal,
    Interaction,
    InteractionKind,
    MoveDayTotal,
    NoteDayTotal,
    Role,
    StageChange,
    Team,
    User,
)


@dataclass
class ActivityRow:
    """One person's activity in the period."""

    user_id: int
    group: str
    team: str | None
    kinds: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in InteractionKind})
    moved: int = 0
    won: int = 0
    lost: int = 0

    @property
    def logged(self) -> int:
        """Interactions of every kind."""
        return sum(self.kinds.values())


@dataclass
class ActivityReport:
    """What the people in the actor's view did in a period."""

    period: Period
    rows: list[ActivityRow]
    total: ActivityRow


def activity(ctx: Ctx, period: Period) -> ActivityReport:
    """Per person the actor may see (self, team, everyone): notes by kind, moves, wins, losses."""
    start, end = period.bounds(ctx.tz)
    owners = visible_owner_ids(ctx.actor)
    people = select(User.id, User.name, Team.name).outerjoin(Team, Team.id == User.team_id)
    if owners is not None:
        people = people.where(User.id.in_(owners))
    people = people.where(User.active)
    rows = {
        uid: ActivityRow(uid, name, team)
        for uid, name, team in ctx.session.execute(people.order_by(Team.name, User.name))
    }
    # Notes and moves, kept days and cut hours, in one statement: one snapshot (read apart, a
    # note logged or a customer reassigned between them was subtracted and never added).
    parts = [p for what in (_NOTES, _MOVES) for p in _kept_parts(ctx, what, start, end)]
    counts: dict[tuple[int, Any, Any], int] = {}
    if parts:
        for tag, x, y, n in ctx.session.execute(union_all(*parts)):
            key = (int(tag), x or 0, str(y))  # a move with no actor: 0, as the kept rows have it
            counts[key] = counts.get(key, 0) + int(n)
    won = {s.name for s in ctx.pipeline.stages if s.won}
    lost = {s.name for s in ctx.pipeline.stages if s.lost}
    for (tag, who, name), count in counts.items():
        row = rows.get(who) if who else None
        if row is None or not count:
            continue
        if tag == _NOTES.tag:
            row.kinds[name] += count
        elif name in won:
            row.won += count
        elif name in lost:
            row.lost += count
        else:
            row.moved += count
    total = ActivityRow(0, "total", None)
    for row in rows.values():
        for k, n in row.kinds.items():
            total.kinds[k] += n
        total.moved += row.moved
        total.won += row.won
        total.lost += row.lost
    return ActivityReport(period, list(rows.values()), total)


@dataclass(frozen=True)
class Move:
    """A deal moved between stages."""

    deal_id: int
    title: str
    customer: str
    from_stage: str | None
    to_stage: str
    amount: Decimal | None
    currency: str
    at: datetime


def stage_moves(ctx: Ctx, period: Period, *, limit: int = 20) -> tuple[list[Move], int]:
    """Deals the actor may see that changed stage in the period (newest first), and how many."""
    start, end = period.bounds(ctx.tz)
    where = [
        StageChange.from_stage.is_not(None),
        *in_period(StageChange.changed_at, start, end),
    ]
    if visible_owner_ids(ctx.actor) is not None:
        where.append(Deal.customer_id.in_(visible_customer_ids(ctx.actor)))
    else:
        where.append(Deal.customer_id.not_in(archived_customer_ids()))
    total = int(
        ctx.session.scalar(
            select(func.count())
            .select_from(StageChange)
            .join(Deal, Deal.id == StageChange.deal_id)
            .where(*where)
        )
        or 0
    )
    rows = ctx.session.execute(
        select(StageChange, Deal, Customer.name)
        .join(Deal, Deal.id == StageChange.deal_id)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(*where)
        .order_by(StageChange.changed_at.desc(), StageChange.id.desc())
        .limit(limit)
    ).all()
    moves = [
        Move(d.id, d.title, name, c.from_stage, c.to_stage, d.amount, d.currency, c.changed_at)
        for c, d, name in rows
    ]
    return moves, total


@dataclass(frozen=True)
class _Counted:
    """What `_kept_parts` reads: a kept table by UTC day, and the rows it counts."""

    # Tells its rows apart from the other table's in the report's one statement.
    tag: int
    table: Any
    group: tuple[str, str]
    count: str
    # The rows' time column, their two group columns and the conditions keeping them.
    rows: Callable[[Ctx], tuple[Any, tuple[Any, Any], list[Any]]]


def _note_rows(ctx: Ctx) -> tuple[Any, tuple[Any, Any], list[Any]]:
    """Live notes on customers the actor may see, by author and kind."""
    return (
        Interaction.occurred_at,
        (Interaction.author_id, Interaction.kind),
        [
            Interaction.deleted_at.is_(None),
            *_shown(ctx, Interaction.author_id),
            *_visible(ctx, Interaction.customer_id),
        ],
    )


def _move_rows(ctx: Ctx) -> tuple[Any, tuple[Any, Any], list[Any]]:
    """Moves of deals on customers the actor may see, by actor and stage reached."""
    # The deal's customer looked up per move (by the deal's key): joined, PostgreSQL scanned
    # every deal of the company for a few hours' moves.
    # Correlated by name: inside the EXISTS of `_visible` it would otherwise take its own
    # stage_changes and return every deal's customer.
    customer = (
        select(Deal.customer_id)
        .where(Deal.id == StageChange.deal_id)
        .correlate(StageChange)
        .scalar_subquery()
    )
    return (
        StageChange.changed_at,
        (StageChange.actor_id, StageChange.to_stage),
        [
            StageChange.from_stage.is_not(None),
            *_shown(ctx, StageChange.actor_id),
            *_visible(ctx, customer),
        ],
    )


_NOTES = _Counted(0, NoteDayTotal, ("author_id", "kind"), "notes", _note_rows)
_MOVES = _Counted(1, MoveDayTotal, ("actor_id", "to_stage"), "moves", _move_rows)


def _shown(ctx: Ctx, person: Any) -> list[Any]:
    """Only rows by people the report has a row for (a superset: inactive ones too).

    The report drops the others' counts, so this changes no figure; for a rep or a manager it
    lets the cut hours be read from their people's own index ranges (author or actor, time:
    migration 0038), a few rows, instead of a few hours of the whole company's (a thousand
    or two notes and moves from the heap, each then tested against the book).
    """
    owners = visible_owner_ids(ctx.actor)
    if owners is None:
        return []
    if ctx.actor.role == Role.rep or ctx.actor.team_id is None:
        return [person == ctx.actor.id]
    if ctx.session.get_bind().dialect.name == "postgresql":
        # = ANY(ARRAY(...)): the team's ids become index conditions; IN would be a join.
        return [person == any_(func.array(owners.scalar_subquery()))]
    return [person.in_(owners.scalar_subquery())]


def _visible(ctx: Ctx, customer_id: Any) -> list[Any]:
    """Only what happened on customers the actor may see, even by people they may see.

    An admin's: all but archived customers' (merged ones' too). Anyone else's: their book's
    live customers, each row's customer looked up by its key (the rows are their own people's
    few of the cut hours): a scalar subquery, which PostgreSQL runs per row, where EXISTS or
    IN became a hash of the whole book first (3,430 customers for a manager: 1-10 ms).
    """
    if visible_owner_ids(ctx.actor) is None:
        return [customer_id.not_in(archived_customer_ids())]
    seen: Select[Any] = select(literal_column("1")).where(
        Customer.id == customer_id, customer_filter(ctx.actor)
    )
    return [seen.scalar_subquery().is_not(None)]


# Month rows' keys (yyyymm) are below this; day rows' (yyyymmdd) above.
MONTH_KEYS = 1_000_000


def _utc_day(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _day_number(day: datetime) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _kept_days(t: Any, first: datetime | None, last: datetime | None, cut: set[int]) -> Any:
    """Which kept rows hold [first, last] (UTC days, either open): the months wholly inside
    and not cut by a bound as month rows (day yyyymm), the other days as day rows (yyyymmdd),
    as ranges of the day index."""
    # The whole months: [lo, hi) as first days of months, None where the period is open.
    lo = hi = None
    if first is not None:
        day = first.date()
        lo = day if day.day == 1 and _day_number(first) not in cut else add_months(day, 1)
    if last is not None:
        day = last.date()
        after = day + timedelta(days=1)
        hi = after if after.day == 1 and _day_number(last) not in cut else month_start(day)

    def number(day: date) -> int:
        return day.year * 10000 + day.month * 100 + day.day

    def month(day: date) -> int:
        return day.year * 100 + day.month

    assert first is None or lo is not None
    if first is not None and last is not None and lo is not None and hi is not None and lo >= hi:
        ranges = [(number(first.date()), number(last.date()) + 1)]
    else:
        ranges = [(month(lo) if lo else 0, month(hi) if hi else MONTH_KEYS)]
        if first is not None and lo is not None and first.date() < lo:
            ranges.append((number(first.date()), number(lo)))
        if last is not None and hi is not None and hi <= last.date():
            ranges.append((number(hi), number(last.date()) + 1))
    return or_(*(and_(t.day >= a, t.day < b) for a, b in ranges))


def _kept_parts(
    ctx: Ctx, what: _Counted, start: datetime | None, end: datetime | None
) -> list[Select[*tuple[Any, ...]]]:
    """Selects of (tag, group 1, group 2, count) whose sum is the count in [start, end), from
    the kept days (migration 0034); to be read as one statement (UNION ALL).

    Whole UTC months and days are sums; a day a bound cuts (a local midnight) is read row by
    row, the hours inside when they are the fewer (the kept day left out), else the kept day
    less the hours outside (the count negated in SQL).
    """
    t = what.table
    if visible_owner_ids(ctx.actor) is None:
        # Everyone's notes but archived customers', as for an admin whatever their state.
        kept: list[Any] | None = [t.state < 2]
    else:
        kept = kept_scope(ctx, t.owner_id, t.state)
    if kept is None:
        return []
    first = _utc_day(start) if start is not None else None
    last = _utc_day(end - timedelta(microseconds=1)) if end is not None else None
    cut: list[tuple[datetime, datetime, datetime]] = []
    for edge in sorted({d for d in (first, last) if d is not None}):
        after = edge + timedelta(days=1)
        lo = edge if start is None else max(edge, start)
        hi = after if end is None else min(after, end)
        if (lo, hi) != (edge, after):
            cut.append((edge, lo, hi))
    a, b = (getattr(t, c) for c in what.group)
    where = [*kept, _kept_days(t, first, last, {_day_number(e) for e, _, _ in cut})]
    inside: list[int] = []
    spans: list[tuple[datetime, datetime, int]] = []
    for edge, lo, hi in cut:
        after = edge + timedelta(days=1)
        if hi - lo <= (after - edge) / 2:
            inside.append(_day_number(edge))
            spans.append((lo, hi, 1))
        else:
            spans += [(x, y, -1) for x, y in ((edge, lo), (hi, after)) if x < y]
    tag: Any = literal_column(str(what.tag))
    total = cast(func.sum(getattr(t, what.count)), BigInteger)  # an int, not a numeric
    parts: list[Select[*tuple[Any, ...]]] = [
        select(tag, a, cast(b, String), total)
        .where(*where, *([t.day.not_in(inside)] if inside else []))
        .group_by(a, b)
        .having(total > 0)
    ]
    if spans:
        # Every cut span of the table in one read (its ranges OR'd, each row signed by the span
        # it falls in): one scan and one hash of the person's book, not one per span.
        column, (ca, cb), conditions = what.rows(ctx)
        ranges = [(and_(column >= lo, column < hi), sign) for lo, hi, sign in spans]
        signed = case(
            *((inside, literal_column(str(sign))) for inside, sign in ranges),
            else_=literal_column("0"),
        )
        parts.append(
            select(tag, ca, cast(cb, String), cast(func.sum(signed), BigInteger))
            .where(*conditions, or_(*(inside for inside, _ in ranges)))
            .group_by(ca, cb)
        )
    return parts
