"""Activity: per person, interactions logged by kind, deals moved, won and lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from crm_core.access import archived_customer_ids, visible_customer_ids, visible_owner_ids
from crm_core.analytics.periods import Period
from crm_core.analytics.scope import in_period
from crm_core.context import Ctx
from crm_core.models import Customer, Deal, Interaction, InteractionKind, StageChange, Team, User


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
    # Only what happened on customers the actor may see, even by people they may see.
    customers = (
        [Interaction.customer_id.not_in(archived_customer_ids())]
        if owners is None
        else [Interaction.customer_id.in_(visible_customer_ids(ctx.actor))]
    )
    notes = (
        select(Interaction.author_id, Interaction.kind, func.count())
        .where(
            Interaction.deleted_at.is_(None),
            *in_period(Interaction.occurred_at, start, end),
            *customers,
        )
        .group_by(Interaction.author_id, Interaction.kind)
    )
    for author, kind, count in ctx.session.execute(notes):
        if author in rows:
            rows[author].kinds[str(kind)] += int(count)
    won = {s.name for s in ctx.pipeline.stages if s.won}
    lost = {s.name for s in ctx.pipeline.stages if s.lost}
    deal_scope = (
        [Deal.customer_id.not_in(archived_customer_ids())]
        if owners is None
        else [Deal.customer_id.in_(visible_customer_ids(ctx.actor))]
    )
    moves = (
        select(StageChange.actor_id, StageChange.to_stage, func.count())
        .join(Deal, Deal.id == StageChange.deal_id)
        .where(
            StageChange.from_stage.is_not(None),
            *in_period(StageChange.changed_at, start, end),
            *deal_scope,
        )
        .group_by(StageChange.actor_id, StageChange.to_stage)
    )
    for actor, to_stage, count in ctx.session.execute(moves):
        row = rows.get(actor) if actor is not None else None
        if row is None:
            continue
        if to_stage in won:
            row.won += int(count)
        elif to_stage in lost:
            row.lost += int(count)
        else:
            row.moved += int(count)
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
