"""Two CSAT askers on one PostgreSQL database at once: each question sent exactly once; an
abandoned claim is taken over after the lease, a fresh one is not."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from crm_core.context import Ctx
from crm_core.db import make_engine, make_session_factory, unit_of_work
from crm_core.models import CsatRequest, User, utcnow
from crm_core.services import csat
from crm_core.services.customers import create_customer
from crm_core.services.tickets import open_ticket
from crm_core.services.users import add_user
from schedules.csat import CsatAsker
from tests.conftest import PG_URL, _truncate

pytestmark = pytest.mark.skipif(not PG_URL, reason="CRMBOT_TEST_DATABASE_URL is not set")
QUESTIONS = 120


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The PostgreSQL test database, emptied, with QUESTIONS due CSAT questions."""
    engine: Engine = request.getfixturevalue("pg_engine")
    _truncate(engine)
    now = utcnow()
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        add_user(s, "w", "W", team="Support")
        s.flush()
        user = s.scalar(select(User))
        assert user is not None
        ctx = Ctx(s, user, clock=lambda: now)
        acme = create_customer(ctx, "Acme")
        for i in range(QUESTIONS):
            ticket, _ = open_ticket(ctx, acme, f"t{i}")
            s.add(
                CsatRequest(
                    ticket_id=ticket.id,
                    platform="slack",
                    chat_id="C1",
                    thread=f"{i}.0",
                    requester_id="UEXT",
                    status="due",
                    attempts=0,
                    created_at=now,
                    expires_at=now + timedelta(days=7),
                )
            )
    yield engine
    _truncate(engine)


def test_two_askers_send_each_question_once(pg: Engine) -> None:
    assert PG_URL
    sent: Counter[int] = Counter()

    async def ask(q: csat.Question) -> None:
        sent[q.id] += 1
        await asyncio.sleep(0)  # let the other worker's claims interleave

    engines = [make_engine(PG_URL), make_engine(PG_URL)]
    askers = [CsatAsker(make_session_factory(e), ask) for e in engines]

    async def both() -> None:
        # A run takes 100 at most: run both until a round sends nothing.
        while True:
            stats = await asyncio.gather(*(a.run_once() for a in askers))
            if not any(st.sent for st in stats):
                return

    try:
        asyncio.run(both())
    finally:
        for e in engines:
            e.dispose()
    assert len(sent) == QUESTIONS and set(sent.values()) == {1}
    with pg.connect() as conn:
        rows = conn.execute(
            select(CsatRequest.status, func.count()).group_by(CsatRequest.status)
        ).all()
    statuses = {str(k): int(v) for k, v in rows}
    assert statuses == {"asked": QUESTIONS}


def test_an_abandoned_claim_is_taken_over_after_the_lease(pg: Engine) -> None:
    factory = make_session_factory(pg)
    now = utcnow()
    with unit_of_work(factory) as s:
        ids = csat.due_ids(s, now, limit=2)
        assert csat.claim(s, ids[0], now - csat.LEASE - timedelta(seconds=1)) is not None
        assert csat.claim(s, ids[1], now) is not None
    with unit_of_work(factory) as s:
        # A restarted worker: the stale claim is due again, the fresh one is someone's.
        due = csat.due_ids(s, now, limit=QUESTIONS)
        assert ids[0] in due and ids[1] not in due
        assert csat.claim(s, ids[0], now) is not None
        assert csat.claim(s, ids[1], now) is None
