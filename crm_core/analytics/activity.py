"""Activity: per person, interactions logged by kind, deals moved, won and lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from crm_core.access import archived_customer_ids, visible_customer_ids, visible_owner_ids
from crm_core.analytics.periods import Period
from crm_core.analytics.scope import in_period, kept_scope
from crm_core.context import Ctx
from crm_core.models import (
    Customer,
    Deal,
    Interaction,
    InteractionKind,
    MoveDayTotal,
    NoteDayTotal,
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
    for (author, kind), count in _kept_counts(ctx, _NOTES, start, end).items():
        if author in rows:
            rows[author].kinds[str(kind)] += count
    won = {s.name for s in ctx.pipeline.stages if s.won}
    lost = {s.name for s in ctx.pipeline.stages if s.lost}
    for (actor, to_stage), count in _kept_counts(ctx, _MOVES, start, end).items():
        row = rows.get(actor) if actor else None
        if row is None:
            continue
        if to_stage in won:
            row.won += count
        elif to_stage in lost:
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
    """What `_kept_counts` reads: a kept table by UTC day, and the rows it counts."""

    table: Any
    group: tuple[str, str]
    count: str
    rows: Callable[[Ctx, datetime, datetime], Select[Any, Any, Any]]


def _note_rows(ctx: Ctx, lo: datetime, hi: datetime) -> Select[Any, Any, Any]:
    """Live notes on customers the actor may see in [lo, hi), counted by author and kind."""
    return (
        select(Interaction.author_id, Interaction.kind, func.count())
        .where(
            Interaction.deleted_at.is_(None),
            *in_period(Interaction.occurred_at, lo, hi),
            *_visible(ctx, Interaction.customer_id),
        )
        .group_by(Interaction.author_id, Interaction.kind)
    )


def _move_rows(ctx: Ctx, lo: datetime, hi: datetime) -> Select[Any, Any, Any]:
    """Moves of deals on customers the actor may see in [lo, hi), by actor and stage reached."""
    # The deal's customer looked up per move (by the deal's key): joined, PostgreSQL scanned
    # every deal of the company for a few hours' moves.
    customer = select(Deal.customer_id).where(Deal.id == StageChange.deal_id).scalar_subquery()
    return (
        select(StageChange.actor_id, StageChange.to_stage, func.count())
        .where(
            StageChange.from_stage.is_not(None),
            *in_period(StageChange.changed_at, lo, hi),
            *_visible(ctx, customer),
        )
        .group_by(StageChange.actor_id, StageChange.to_stage)
    )


_NOTES = _Counted(NoteDayTotal, ("author_id", "kind"), "notes", _note_rows)
_MOVES = _Counted(MoveDayTotal, ("actor_id", "to_stage"), "moves", _move_rows)


def _visible(ctx: Ctx, customer_id: Any) -> list[Any]:
    """Only what happened on customers the actor may see, even by people they may see.

    An admin's: all but archived customers' (merged ones' too). Anyone else's: their book's
    live customers, hashed once and each row's customer tested (`IS true`: not joined), as the
    rows read are a few hours' of the whole company's.
    """
    if visible_owner_ids(ctx.actor) is None:
        return [customer_id.not_in(archived_customer_ids())]
    return [customer_id.in_(visible_customer_ids(ctx.actor)).is_(True)]


def _utc_day(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _day_number(day: datetime) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _kept_counts(
    ctx: Ctx, what: _Counted, start: datetime | None, end: datetime | None
) -> dict[tuple[Any, Any], int]:
    """Counts in [start, end) by the two group columns, from the kept days (migration 0034).

    Whole UTC days are sums; a day a bound cuts (a local midnight) is read row by row, the
    hours inside when they are the fewer, else the kept day less the hours outside.
    """
    t = what.table
    out: dict[tuple[Any, Any], int] = {}
    if visible_owner_ids(ctx.actor) is None:
        # Everyone's notes but archived customers', as for an admin whatever their state.
        kept: list[Any] | None = [t.state < 2]
    else:
        kept = kept_scope(ctx, t.owner_id, t.state)
    if kept is None:
        return out
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
    where = [*kept]
    if first is not None:
        where.append(t.day >= _day_number(first))
    if last is not None:
        where.append(t.day <= _day_number(last))

    def kept_sums(*conditions: Any) -> Any:
        total = func.sum(getattr(t, what.count))
        stmt = select(a, b, total).where(*where, *conditions).group_by(a, b).having(total > 0)
        return ctx.session.execute(stmt)

    def add(counts: Any, sign: int = 1) -> None:
        for x, y, n in counts:
            key = (x or 0, y)  # a move with no actor: 0, as the kept rows have it
            out[key] = out.get(key, 0) + sign * int(n)

    add(kept_sums(*(t.day != _day_number(edge) for edge, _, _ in cut)))
    for edge, lo, hi in cut:
        after = edge + timedelta(days=1)
        if hi - lo <= (after - edge) / 2:
            add(ctx.session.execute(what.rows(ctx, lo, hi)))
            continue
        add(kept_sums(t.day == _day_number(edge)))
        for out_lo, out_hi in ((edge, lo), (hi, after)):
            if out_lo < out_hi:
                add(ctx.session.execute(what.rows(ctx, out_lo, out_hi)), -1)
    return {k: n for k, n in out.items() if n}
