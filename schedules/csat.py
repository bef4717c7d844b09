"""CSAT questions to requesters: each `csat_requests` row is claimed (one conditional UPDATE)
before it is sent, so two workers never ask twice; a worker that died mid-send leaves it
"sending" and another takes it after the lease. Past its expiry a question is never sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.models import utcnow
from crm_core.services import csat

log = logging.getLogger(__name__)

# Sends one question; raises on failure (an exception with `retryable = False` is not retried).
Ask = Callable[[csat.Question], Awaitable[object]]


@dataclass
class CsatStats:
    """What one run did."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    expired: int = 0


class CsatAsker:
    """Sends the CSAT questions that are due; safe in many processes."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        ask: Ask,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.ask = ask
        self.clock = clock

    def _due(self) -> tuple[int, list[int]]:
        with unit_of_work(self.session_factory) as s:
            now = self.clock()
            return csat.expire(s, now), csat.due_ids(s, now)

    def _claim(self, request_id: int) -> csat.Question | None:
        with unit_of_work(self.session_factory) as s:
            return csat.claim(s, request_id, self.clock())

    def _finish(self, request_id: int, exc: BaseException | None) -> str:
        with unit_of_work(self.session_factory) as s:
            if exc is None:
                return csat.finish(s, request_id, self.clock(), None, True)
            reason = str(getattr(exc, "reason", type(exc).__name__))
            return csat.finish(
                s, request_id, self.clock(), reason, bool(getattr(exc, "retryable", True))
            )

    async def run_once(self) -> CsatStats:
        """Expire old questions, then claim and send each due one."""
        stats = CsatStats()
        stats.expired, ids = await asyncio.to_thread(self._due)
        for request_id in ids:
            question = await asyncio.to_thread(self._claim, request_id)
            if question is None:
                stats.skipped += 1
                continue
            error: BaseException | None = None
            try:
                await self.ask(question)
            except Exception as exc:
                error = exc
                log.warning("CSAT question %s failed: %s", request_id, type(exc).__name__)
            outcome = await asyncio.to_thread(self._finish, request_id, error)
            if outcome == "asked":
                stats.sent += 1
            else:
                stats.failed += 1
        return stats
