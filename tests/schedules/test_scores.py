"""The nightly training of the score model: due after its time, claimed by one worker a day."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.models import Customer, Deal, DealScore, Role, ScoreModel, User
from crm_core.stages import DEFAULT_STAGES, Pipeline
from schedules.scores import STALE, ScoreTrainer

NIGHT = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _trainer(factory: sessionmaker[Session], now: list[datetime]) -> ScoreTrainer:
    return ScoreTrainer(factory, Pipeline(DEFAULT_STAGES), at=time(1, 30), clock=lambda: now[0])


def test_training_runs_once_a_day_after_its_time(session_factory: sessionmaker[Session]) -> None:
    """Before 01:30 nothing; after it one of two workers trains; the next day again."""
    now = [NIGHT]
    first, second = _trainer(session_factory, now), _trainer(session_factory, now)
    assert asyncio.run(first.run_once()) is None
    now[0] = NIGHT + timedelta(hours=1)
    row = asyncio.run(first.run_once())
    assert row is not None and row.status == "ready" and row.day == now[0].date()
    # An empty book: nothing to learn from, the counts say so.
    assert (row.won, row.lost, row.params) == (0, 0, {})
    assert asyncio.run(second.run_once()) is None
    now[0] += timedelta(days=1)
    assert asyncio.run(second.run_once()) is not None
    with session_factory() as s:
        assert [r.status for r in s.scalars(select(ScoreModel).order_by(ScoreModel.day))] == [
            "ready",
            "ready",
        ]


def test_a_claim_left_by_a_dead_worker_is_taken_over(
    session_factory: sessionmaker[Session],
) -> None:
    """A row still "training" after STALE is trained by the next worker that looks."""
    now = [NIGHT + timedelta(hours=1)]
    with unit_of_work(session_factory) as s:
        s.add(ScoreModel(day=now[0].date(), status="training", claimed_at=now[0]))
    trainer = _trainer(session_factory, now)
    assert trainer.claim() is None
    now[0] += STALE + timedelta(minutes=1)
    assert trainer.claim() == now[0].date()
    assert trainer.claim() is None


def test_training_stores_every_open_deals_score(session_factory: sessionmaker[Session]) -> None:
    """After the nightly training each open deal's score is stored with the new model, so the
    segments' `score` filter finds them current; closed deals get none."""
    now = [NIGHT + timedelta(hours=1)]
    with unit_of_work(session_factory) as s:
        owner = User(external_id="ann", name="Ann", role=Role.rep)
        s.add(owner)
        s.flush()
        acme = Customer(name="Acme", name_key="acme", owner_id=owner.id)
        s.add(acme)
        s.flush()
        for title, stage in (("A", "proposal"), ("B", "lead"), ("C", "won")):
            s.add(
                Deal(
                    customer_id=acme.id,
                    title=title,
                    title_key=title.lower(),
                    stage=stage,
                    owner_id=owner.id,
                )
            )
    row = asyncio.run(_trainer(session_factory, now).run_once())
    assert row is not None
    with session_factory() as s:
        stored = s.execute(
            select(Deal.title, DealScore.score, DealScore.model_id).join(
                DealScore, DealScore.deal_id == Deal.id
            )
        ).all()
    # Too few closed deals: the stage's probability.
    assert sorted(stored) == [("A", 50, row.id), ("B", 10, row.id)]
