"""Deal scores: the facts of each deal read from the book, training, storing and scoring.

The model (crm_core/marketing/score_model.py) learns from the whole book's closed deals; a
score is only ever shown for a deal the person may see. Training runs nightly (schedules/
scores.py), on first use when no model is stored, and learns each deal as it closes.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.access import customer_filter, ensure_customer_access
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.marketing import score_model as sm
from crm_core.models import (
    Customer,
    Deal,
    DealScore,
    Interaction,
    Product,
    ScoreModel,
    StageChange,
    Team,
    User,
)
from crm_core.stages import Pipeline

# Below these many won and lost deals the book is too small to learn from: the score is the
# stage's probability, and says so. 200 of each keeps each product's or owner's rate from
# resting on a handful of deals (Odoo starts at far fewer, and its users call it noise).
MIN_WON = 200
MIN_LOST = 200
# Trained models kept; older rows are removed when a new one is stored.
KEEP_MODELS = 7


@dataclass(frozen=True)
class Factor:
    """One reason a score is higher or lower: a feature value and its term in the logit."""

    feature: str
    # The value as the sentence shows it: a product or owner name, a stage, days, a count.
    value: Any
    weight: float
    # Win rate among closed deals with this value, and the book's, as the model smooths them.
    rate: float
    base: float
    seen: int


@dataclass
class Score:
    """A deal's score with the reasons, or the stage's probability when the book is too small."""

    deal_id: int
    # 1-99.
    score: int
    probability: float
    # "model", or "stage" when the model could not learn yet.
    source: str
    up: list[Factor] = field(default_factory=list)
    down: list[Factor] = field(default_factory=list)
    # The calibrated logit's parts: intercept + sum(term weights) = logit(probability).
    intercept: float = 0.0
    terms: list[Factor] = field(default_factory=list)
    won: int = 0
    lost: int = 0
    min_won: int = MIN_WON
    min_lost: int = MIN_LOST


def to_score(p: float) -> int:
    """A probability as a score from 1 to 99."""
    return max(1, min(99, round(p * 100)))


@dataclass
class _Row:
    id: int
    customer_id: int
    owner_id: int
    team_id: int | None
    product_id: int | None
    amount: Decimal | None
    stage: str
    created_at: datetime
    closed_at: datetime | None
    industry: str | None
    city: str | None


def _rows(session: Session, where: Sequence[ColumnElement[bool]]) -> list[_Row]:
    stmt = (
        select(
            Deal.id,
            Deal.customer_id,
            Deal.owner_id,
            User.team_id,
            Deal.product_id,
            Deal.amount,
            Deal.stage,
            Deal.created_at,
            Deal.closed_at,
            Customer.industry,
            Customer.city,
        )
        .join(Customer, Customer.id == Deal.customer_id)
        .join(User, User.id == Deal.owner_id)
        .where(*where)
    )
    return [_Row(*r) for r in session.execute(stmt).all()]


class Book:
    """The deals' histories and the customers' contact times, read in a few queries."""

    def __init__(
        self,
        session: Session,
        pipeline: Pipeline,
        rows: list[_Row],
        *,
        now: datetime | None = None,
    ) -> None:
        """`now`: the open deals as they are now (their stage is the current one; each
        deal's interactions are counted by the database), not as they were at some moment."""
        self.pipeline = pipeline
        self.open_names = [s.name for s in pipeline.open_stages]
        self.open_index = {name: i for i, name in enumerate(self.open_names)}
        self.history: dict[int, list[tuple[datetime, str | None, str]]] = defaultdict(list)
        self.contacts: dict[int, list[datetime]] = defaultdict(list)
        # Deal id -> (interactions since it opened, the last one's time), in the `now` mode.
        self.latest: dict[int, tuple[int, datetime | None]] = {}
        self.now = now
        if not rows:
            return
        ids = [r.id for r in rows]
        if now is not None:
            for chunk in _chunks(ids):
                for deal_id, touches, last in session.execute(
                    select(Deal.id, func.count(Interaction.id), func.max(Interaction.occurred_at))
                    .join(Interaction, Interaction.customer_id == Deal.customer_id)
                    .where(
                        Deal.id.in_(chunk),
                        Interaction.deleted_at.is_(None),
                        Interaction.occurred_at >= Deal.created_at,
                        Interaction.occurred_at <= now,
                    )
                    .group_by(Deal.id)
                ):
                    self.latest[deal_id] = (int(touches), last)
            return
        customers = sorted({r.customer_id for r in rows})
        for chunk in _chunks(ids):
            for deal_id, at, before, after in session.execute(
                select(
                    StageChange.deal_id,
                    StageChange.changed_at,
                    StageChange.from_stage,
                    StageChange.to_stage,
                ).where(StageChange.deal_id.in_(chunk))
            ):
                self.history[deal_id].append((at, before, after))
        for chunk in _chunks(customers):
            for customer_id, at in session.execute(
                select(Interaction.customer_id, Interaction.occurred_at).where(
                    Interaction.customer_id.in_(chunk), Interaction.deleted_at.is_(None)
                )
            ):
                self.contacts[customer_id].append(at)
        for times in self.contacts.values():
            times.sort()
        for changes in self.history.values():
            changes.sort(key=lambda c: c[0])

    def stage_reached(self, row: _Row, won: bool | None, at: datetime) -> int | None:
        """The order (among open stages) of the stage an open deal is in at `at`, or of the
        furthest open stage a closed deal reached (as recorded: a won deal that skipped
        negotiation is not counted as having been there, so open deals in negotiation are
        compared with the deals that really were)."""
        if won is None and self.now is not None:
            return self.open_index.get(row.stage)
        if won is None:
            changes = self.history.get(row.id, [])
            passed = [after for when, _, after in changes if when <= at]
            # Before its first recorded move a deal sat in the stage it was opened in.
            current = passed[-1] if passed else changes[0][2] if changes else row.stage
            return self.open_index.get(current, 0 if current not in self.open_index else None)
        reached = [
            self.open_index[s]
            for _, before, after in self.history.get(row.id, [])
            for s in (before, after)
            if s in self.open_index
        ]
        return max(reached) if reached else None


def _chunks(ids: Sequence[int], size: int = 5000) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def facts_of(
    book: Book,
    row: _Row,
    *,
    won: bool | None,
    at: datetime,
    bounds: Sequence[float],
) -> sm.Facts:
    """What the model reads about one deal: closed (won/lost, at its close) or open at `at`."""
    fact = sm.Facts(row.id, won=won)
    values, shown = fact.values, fact.shown
    stage = book.stage_reached(row, won, at)
    if stage is not None:
        values["stage"] = stage
        shown["stage"] = book.open_names[stage]
    if row.product_id is not None:
        values["product"] = str(row.product_id)
        shown["product"] = row.product_id
    values["owner"] = str(row.owner_id)
    shown["owner"] = row.owner_id
    if row.team_id is not None:
        values["team"] = str(row.team_id)
        shown["team"] = row.team_id
    if row.industry:
        values["industry"] = row.industry.strip().casefold()
        shown["industry"] = row.industry.strip()
    if row.city:
        values["city"] = row.city.strip().casefold()
        shown["city"] = row.city.strip()
    if row.amount is not None and bounds:
        index = sm.amount_band(bounds, float(row.amount))
        values["amount"] = str(index)
        upper = bounds[index + 1] if index + 1 < len(bounds) else None
        shown["amount"] = (bounds[index], upper)
    start = row.created_at
    age = max(0, (at - start).days)
    values["age"] = sm.band("age", age)
    shown["age"] = age
    if book.now is not None:
        touches, last = book.latest.get(row.id, (0, None))
        within = [last] if last is not None else []
    else:
        times = book.contacts.get(row.customer_id, [])
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_right(times, at)
        within = times[lo:hi]
        touches = len(within)
    values["touches"] = sm.band("touches", touches)
    shown["touches"] = touches
    if won is None:
        silence = (at - (within[-1] if within and within[-1] > start else start)).days
    else:
        # The longest silence of its life: an open deal's current silence is at most that.
        marks = [start, *within, at]
        silence = max((b - a).days for a, b in itertools.pairwise(marks))
    values["silence"] = sm.band("silence", max(0, silence))
    shown["silence"] = max(0, silence)
    return fact


def _outcome(pipeline: Pipeline, stage: str) -> bool | None:
    found = pipeline.get(stage)
    if found is None or not found.closed:
        return None
    return found.won


def closed_facts(
    session: Session,
    pipeline: Pipeline,
    *,
    before: datetime | None = None,
    bounds: Sequence[float] | None = None,
    features: Sequence[str] = sm.FEATURES,
) -> tuple[list[sm.Facts], list[sm.Facts], tuple[float, ...]]:
    """The facts of every closed deal (closed before `before`, when given) at its close and
    halfway through its life, and the amount bands."""
    closed = [s.name for s in pipeline.stages if s.closed]
    where: list[ColumnElement[bool]] = [Deal.stage.in_(closed), Deal.closed_at.is_not(None)]
    if before is not None:
        where.append(Deal.closed_at < before)
    rows = _rows(session, where)
    if bounds is None:
        amounts = [float(r.amount) for r in rows if r.amount is not None]
        bounds = sm.amount_bounds(amounts) if "amount" in features else ()
    book = Book(session, pipeline, rows)
    facts, seen_open = [], []
    for r in rows:
        assert r.closed_at is not None
        won = _outcome(pipeline, r.stage)
        facts.append(facts_of(book, r, won=won, at=r.closed_at, bounds=bounds))
        # The same deal as it looked halfway through its life, while still open: what the
        # calibration is fitted on, since open deals are what gets scored.
        middle = r.created_at + (r.closed_at - r.created_at) / 2
        fact = facts_of(book, r, won=None, at=middle, bounds=bounds)
        fact.won = won
        seen_open.append(fact)
    return facts, seen_open, tuple(bounds)


def train(
    session: Session,
    pipeline: Pipeline,
    *,
    before: datetime | None = None,
    features: Sequence[str] = sm.FEATURES,
    min_won: int = MIN_WON,
    min_lost: int = MIN_LOST,
) -> tuple[sm.Model | None, int, int]:
    """Learn from the closed deals; None (with the counts) when there are too few of them."""
    facts, seen_open, bounds = closed_facts(session, pipeline, before=before, features=features)
    won = sum(1 for f in facts if f.won)
    lost = len(facts) - won
    if won < min_won or lost < min_lost:
        return None, won, lost
    return sm.train(facts, features, bounds, seen_open), won, lost


def store(
    session: Session,
    pipeline: Pipeline,
    now: datetime,
    *,
    min_won: int = MIN_WON,
    min_lost: int = MIN_LOST,
    row: ScoreModel | None = None,
) -> ScoreModel:
    """Train and store the model as today's row (the given claimed row, or a new one)."""
    started = time.perf_counter()
    model, won, lost = train(session, pipeline, min_won=min_won, min_lost=min_lost)
    if row is None:
        row = session.scalar(select(ScoreModel).where(ScoreModel.day == now.date()))
    if row is None:
        row = ScoreModel(day=now.date(), claimed_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # Another command stored today's model meanwhile: this one is as good.
            row = ScoreModel(day=now.date(), claimed_at=now)
            _fill(row, model, won, lost, now, started)
            return row
    _fill(row, model, won, lost, now, started)
    _prune(session)
    return row


def _fill(
    row: ScoreModel, model: sm.Model | None, won: int, lost: int, now: datetime, started: float
) -> None:
    row.status = "ready"
    row.trained_at = now
    row.won, row.lost = won, lost
    row.params = model.to_json() if model is not None else {}
    row.version = (row.version or 0) + 1
    row.seconds = round(time.perf_counter() - started, 3)


def _prune(session: Session) -> None:
    old = session.scalars(
        select(ScoreModel).order_by(ScoreModel.day.desc()).offset(KEEP_MODELS)
    ).all()
    for row in old:
        session.delete(row)


def latest(session: Session) -> ScoreModel | None:
    """The newest ready model row."""
    return session.scalar(
        select(ScoreModel)
        .where(ScoreModel.status == "ready")
        .order_by(ScoreModel.day.desc(), ScoreModel.id.desc())
        .limit(1)
    )


def _limits(ctx: Ctx) -> tuple[int, int]:
    config = ctx.config
    return (
        int(getattr(config, "score_min_won", MIN_WON)),
        int(getattr(config, "score_min_lost", MIN_LOST)),
    )


def current_model(ctx: Ctx) -> tuple[sm.Model | None, int, int]:
    """The stored model (trained now when none is stored yet, or when the book has grown past
    the minimum since), with the won and lost deals it knows of."""
    min_won, min_lost = _limits(ctx)
    row = latest(ctx.session)
    if row is None or (not row.params and row.won >= min_won and row.lost >= min_lost):
        row = store(
            ctx.session, ctx.pipeline, ctx.now(), min_won=min_won, min_lost=min_lost, row=row
        )
    if not row.params:
        return None, row.won, row.lost
    return sm.Model.from_json(row.params), row.won, row.lost


def learn_closed(
    session: Session, pipeline: Pipeline, deal: Deal, stage: str, *, sign: int = 1
) -> None:
    """Count a deal that just closed in `stage` into the stored model (sign -1: take back a
    deal that left `stage`, reopened or closed the other way). The nightly training recounts
    everything, so what a deal's facts were when it was learned matters only until then."""
    won = _outcome(pipeline, stage)
    row = latest(session)
    if row is None or won is None:
        return
    lock_for_update(session, row)
    # The scores stored with the model as it was are stale now.
    row.version = (row.version or 0) + 1
    if won:
        row.won = max(0, row.won + sign)
    else:
        row.lost = max(0, row.lost + sign)
    if not row.params:
        return
    model = sm.Model.from_json(row.params)
    r = _rows(session, [Deal.id == deal.id])[0]
    at = deal.closed_at or deal.updated_at
    fact = facts_of(Book(session, pipeline, [r]), r, won=won, at=at, bounds=model.amount_bounds)
    model.learn(fact, sign)
    # A new dict: the JSON column is only written when the attribute changes.
    row.params = model.to_json()


def score_facts(
    model: sm.Model | None,
    fact: sm.Facts,
    stage_probability: float,
    won: int,
    lost: int,
    limits: tuple[int, int],
    *,
    explain: bool = True,
) -> Score:
    """A score from the model, or from the stage's probability when there is no model;
    `explain=False` leaves out the factors (a list needs only the number)."""
    if model is None:
        p = stage_probability
        return Score(
            fact.deal_id,
            to_score(p),
            p,
            "stage",
            won=won,
            lost=lost,
            min_won=limits[0],
            min_lost=limits[1],
        )
    if not explain:
        p = model.probability(fact)
        return Score(
            fact.deal_id,
            to_score(p),
            p,
            "model",
            won=won,
            lost=lost,
            min_won=limits[0],
            min_lost=limits[1],
        )
    terms = model.terms(fact)
    factors = [
        Factor(t.feature, fact.shown.get(t.feature), t.weight, t.rate, t.base, t.seen)
        for t in terms
    ]
    p = model.probability(fact)
    up = sorted((f for f in factors if f.weight > 0), key=lambda f: -f.weight)[:3]
    down = sorted((f for f in factors if f.weight < 0), key=lambda f: f.weight)[:3]
    return Score(
        fact.deal_id,
        to_score(p),
        p,
        "model",
        up,
        down,
        model.intercept(),
        factors,
        won,
        lost,
        limits[0],
        limits[1],
    )


def score_deals(ctx: Ctx, deals: Sequence[Deal], *, explain: bool = False) -> dict[int, Score]:
    """Scores of deals already resolved through the visibility filter (open ones only)."""
    open_deals = [d for d in deals if ctx.pipeline.is_open(d.stage)]
    if not open_deals:
        return {}
    model, won, lost = current_model(ctx)
    rows = _rows(ctx.session, [Deal.id.in_([d.id for d in open_deals])])
    return _score_rows(ctx, rows, model, won, lost, explain=explain)


def _score_rows(
    ctx: Ctx,
    rows: list[_Row],
    model: sm.Model | None,
    won: int,
    lost: int,
    *,
    explain: bool = False,
) -> dict[int, Score]:
    return _score_at(
        ctx.session, ctx.pipeline, ctx.now(), _limits(ctx), rows, model, won, lost, explain=explain
    )


def _score_at(
    session: Session,
    pipeline: Pipeline,
    now: datetime,
    limits: tuple[int, int],
    rows: list[_Row],
    model: sm.Model | None,
    won: int,
    lost: int,
    *,
    explain: bool = False,
    book: Book | None = None,
) -> dict[int, Score]:
    if model is None:
        book = None
    elif book is None:
        book = Book(session, pipeline, rows, now=now)
    stage_ps = {st.name: float(st.probability) for st in pipeline.stages}
    out = {}
    for r in rows:
        stage_p = stage_ps.get(r.stage)
        if stage_p is None:
            found = pipeline.get(r.stage)
            stage_p = float(found.probability) if found is not None else 0.0
        fact = (
            facts_of(book, r, won=None, at=now, bounds=model.amount_bounds)
            if book is not None and model is not None
            else sm.Facts(r.id)
        )
        out[r.id] = score_facts(model, fact, stage_p, won, lost, limits, explain=explain)
    return out


def score_deal(ctx: Ctx, deal: Deal) -> Score:
    """The score of one open deal the actor may see, with its factors."""
    ensure_customer_access(ctx.actor, deal.customer)
    return score_deals(ctx, [deal], explain=True)[deal.id]


def open_deals_by_score(ctx: Ctx, *, limit: int = 25) -> list[tuple[Deal, Customer, Score]]:
    """The open deals the actor may see, likeliest first."""
    scores = score_open(ctx)
    top = sorted(scores.values(), key=lambda r: (-r.probability, r.deal_id))[:limit]
    deals = {
        d.id: (d, c)
        for d, c in ctx.session.execute(
            select(Deal, Customer)
            .join(Customer, Customer.id == Deal.customer_id)
            .where(Deal.id.in_([r.deal_id for r in top]))
        ).all()
    }
    return [(*deals[r.deal_id], r) for r in top]


def score_open(ctx: Ctx) -> dict[int, Score]:
    """The scores of every open deal the actor may see."""
    open_names = [s.name for s in ctx.pipeline.open_stages]
    rows = _rows(ctx.session, [customer_filter(ctx.actor), Deal.stage.in_(open_names)])
    model, won, lost = current_model(ctx)
    return _score_rows(ctx, rows, model, won, lost)


def store_open_scores(
    session: Session,
    pipeline: Pipeline,
    now: datetime,
    *,
    limits: tuple[int, int] = (MIN_WON, MIN_LOST),
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """Store the score of each open deal (of those `where` selects) whose stored one is
    missing or stale; how many were scored.

    What the segment filter `score >60` reads, so it must agree with `score #N`: a stored
    score is stale once anything it read changed: the model (a new one, or a deal learned
    as it closed: the version), the deal or its customer, the deal's interactions (one
    logged, deleted, or come due), or a day-counted factor (age, silence) moved on.
    """
    row = latest(session)
    if row is None:
        return 0
    open_names = [s.name for s in pipeline.open_stages]
    live = (
        Interaction.customer_id == Deal.customer_id,
        Interaction.deleted_at.is_(None),
        Interaction.occurred_at >= Deal.created_at,
        Interaction.occurred_at <= now,
    )
    touches = select(func.count(Interaction.id)).where(*live).scalar_subquery()
    last = select(func.max(Interaction.occurred_at)).where(*live).scalar_subquery()
    fresh = exists().where(
        DealScore.deal_id == Deal.id,
        DealScore.model_id == row.id,
        DealScore.model_version == row.version,
        DealScore.deal_updated_at == Deal.updated_at,
        DealScore.customer_updated_at == Customer.updated_at,
        DealScore.fresh_until > now,
        DealScore.touches == touches,
        or_(
            DealScore.last_touch == last,
            and_(DealScore.last_touch.is_(None), last.is_(None)),
        ),
    )
    stale = session.execute(
        select(Deal.id, Deal.updated_at, Customer.updated_at)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(Deal.stage.in_(open_names), *where, ~fresh)
    ).all()
    if not stale:
        return 0
    model = sm.Model.from_json(row.params) if row.params else None
    versions = {deal_id: (updated, seen) for deal_id, updated, seen in stale}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for chunk in _chunks(sorted(versions), 2000):
        rows = _rows(session, [Deal.id.in_(chunk)])
        book = Book(session, pipeline, rows, now=now)
        scored = _score_at(
            session, pipeline, now, limits, rows, model, row.won, row.lost, book=book
        )
        created = {r.id: r.created_at for r in rows}
        values = []
        # In deal id order: two filters storing at once lock the rows in one order and
        # queue up instead of deadlocking.
        for deal_id, result in sorted(scored.items()):
            count, touched = book.latest.get(deal_id, (0, None))
            values.append(
                {
                    "deal_id": deal_id,
                    "model_id": row.id,
                    "model_version": row.version,
                    "score": result.score,
                    "deal_updated_at": versions[deal_id][0],
                    "customer_updated_at": versions[deal_id][1],
                    "touches": count,
                    "last_touch": touched,
                    "fresh_until": _fresh_until(created[deal_id], touched, now),
                }
            )
        stmt = insert(DealScore).values(values)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[DealScore.deal_id],
                set_={
                    name: getattr(stmt.excluded, name)
                    for name in (
                        "model_id",
                        "model_version",
                        "score",
                        "deal_updated_at",
                        "customer_updated_at",
                        "touches",
                        "last_touch",
                        "fresh_until",
                    )
                },
            )
        )
    return len(versions)


def _fresh_until(created: datetime, touched: datetime | None, now: datetime) -> datetime:
    """When the deal's age or silence (whole days, as facts_of counts them) next changes."""
    silent_since = touched if touched is not None and touched > created else created
    return min(_next_day(created, now), _next_day(silent_since, now))


def _next_day(since: datetime, now: datetime) -> datetime:
    return since + timedelta(days=(now - since).days + 1)


def stored_scores(ctx: Ctx) -> None:
    """Make the stored scores of the open deals in the actor's book current (training a model
    first if none); deals outside it are left as they are."""
    current_model(ctx)
    store_open_scores(
        ctx.session,
        ctx.pipeline,
        ctx.now(),
        limits=_limits(ctx),
        where=[customer_filter(ctx.actor)],
    )


def names(session: Session, factors: Iterable[Factor]) -> dict[tuple[str, Any], str]:
    """Display names of the products, owners and teams the factors name by id."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for f in factors:
        if f.feature in ("product", "owner", "team") and f.value is not None:
            wanted[f.feature].add(int(f.value))
    out: dict[tuple[str, Any], str] = {}
    tables: dict[str, Any] = {"product": Product, "owner": User, "team": Team}
    for feature, ids in wanted.items():
        table = tables[feature]
        for id_, name in session.execute(select(table.id, table.name).where(table.id.in_(ids))):
            out[(feature, id_)] = name
    return out


def model_day(session: Session) -> date | None:
    """The day the current model was trained."""
    row = latest(session)
    return row.day if row is not None else None
