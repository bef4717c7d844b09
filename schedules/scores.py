"""The nightly training of the deal-score model: once per UTC day across every worker.

Like the backups, the day's row (score_models.day is unique) is inserted and committed before
training, so only the worker whose insert wins trains; a row left "training" by a worker that
died is taken over once it is older than STALE. A command that finds no model trains one at
once (crm_core/marketing/scores.py); each deal that closes is learned when it closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.marketing import scores
from crm_core.models import ScoreModel, utcnow
from crm_core.stages import Pipeline

log = logging.getLogger(__name__)

# A claim still "training" after this long belongs to a worker that died while training.
STALE = timedelta(hours=1)


class ScoreTrainer:
    """Trains and stores the day's score model after `at` (UTC), in one worker of all."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        pipeline: Pipeline,
        *,
        at: time = time(1, 30),
        min_won: int = scores.MIN_WON,
        min_lost: int = scores.MIN_LOST,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.pipeline = pipeline
        self.at = at
        self.min_won = min_won
        self.min_lost = min_lost
        self.clock = clock

    def claim(self) -> date | None:
        """Today (UTC) when its training is due and this worker took it; else None."""
        now = self.clock()
        if now.time() < self.at:
            return None
        today = now.date()
        try:
            with unit_of_work(self.session_factory) as s:
                s.add(ScoreModel(day=today, status="training", claimed_at=now))
            return today
        except IntegrityError:
            pass
        with unit_of_work(self.session_factory) as s:
            taken = s.execute(
                update(ScoreModel)
                .where(
                    ScoreModel.day == today,
                    ScoreModel.status == "training",
                    ScoreModel.claimed_at < now - STALE,
                )
                .values(claimed_at=now)
            )
            return today if int(getattr(taken, "rowcount", 0) or 0) == 1 else None

    def train(self, day: date) -> ScoreModel:
        """Train on every closed deal and fill in the claimed row (blocking: run in a thread)."""
        with unit_of_work(self.session_factory) as s:
            row = s.scalar(select(ScoreModel).where(ScoreModel.day == day))
            stored = scores.store(
                s,
                self.pipeline,
                self.clock(),
                min_won=self.min_won,
                min_lost=self.min_lost,
                row=row,
            )
            s.flush()
            # The segments' `score` filter reads stored scores: store them with the new model.
            scores.store_open_scores(
                s, self.pipeline, self.clock(), limits=(self.min_won, self.min_lost)
            )
            if stored in s:
                s.expunge(stored)
            return stored

    def fail(self, day: date) -> None:
        """Mark the day's training failed: the stored model before it stays in use."""
        with unit_of_work(self.session_factory) as s:
            s.execute(update(ScoreModel).where(ScoreModel.day == day).values(status="failed"))

    async def run_once(self) -> ScoreModel | None:
        """Train today's model if it is due and this worker wins the claim."""
        day = await asyncio.to_thread(self.claim)
        if day is None:
            return None
        try:
            return await asyncio.to_thread(self.train, day)
        except Exception:
            log.exception("training the deal-score model failed")
            await asyncio.to_thread(self.fail, day)
            return None
