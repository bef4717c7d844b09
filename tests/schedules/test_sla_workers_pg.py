"""Two SLA sweep processes on one PostgreSQL database: each notice exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from crm_core.context import Ctx
from crm_core.db import make_session_factory, unit_of_work
from crm_core.models import Customer, TicketAlert, TicketPriority, User, utcnow
from crm_core.services.customers import create_customer
from crm_core.services.tickets import open_ticket
from crm_core.services.users import add_user
from tests.conftest import PG_URL, _truncate

pytestmark = pytest.mark.skipif(not PG_URL, reason="CRMBOT_TEST_DATABASE_URL is not set")
ROOT = Path(__file__).resolve().parents[2]
TICKETS = 250
# Opened two weeks ago, assigned, never answered: both warnings and both breaches are owed.
PER_TICKET = 4


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The PostgreSQL test database, emptied, with 250 long-breached tickets."""
    engine: Engine = request.getfixturevalue("pg_engine")
    _truncate(engine)
    opened = utcnow() - timedelta(days=14)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        add_user(s, "w", "W", team="Support")
        s.flush()
        user = s.scalar(select(User))
        assert user is not None
        ctx = Ctx(s, user, clock=lambda: opened)
        acme = create_customer(ctx, "Acme")
        for i in range(TICKETS):
            open_ticket(ctx, acme, f"t{i}", priority=TicketPriority.urgent, assignee=user)
    assert isinstance(acme, Customer)
    yield engine
    _truncate(engine)


def _spawn(out: Path, progress: Path, **env: str) -> subprocess.Popen[bytes]:
    assert PG_URL
    return subprocess.Popen(
        [sys.executable, "-m", "tests.schedules.sla_worker", PG_URL, str(out), str(progress)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


def _sent(*files: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for f in files:
        if f.exists():
            counts.update(f.read_text().splitlines())
    return counts


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(TicketAlert.status, func.count()).group_by(TicketAlert.status)
            ).all()
        )


def test_two_sweeps_send_each_notice_exactly_once(pg: Engine, tmp_path: Path) -> None:
    """Two real sweep processes racing over 1,000 owed notices: no loss, no repeat."""
    procs = [
        _spawn(tmp_path / f"out{i}", tmp_path / f"progress{i}", TICK_PAUSE="0", BATCH="20")
        for i in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0
    counts = _sent(tmp_path / "out0", tmp_path / "out1")
    assert len(counts) == TICKETS * PER_TICKET and set(counts.values()) == {1}
    assert _rows(pg) == {"sent": TICKETS * PER_TICKET}


def test_sigkill_between_ticks_then_restart_loses_none_repeats_none(
    pg: Engine, tmp_path: Path
) -> None:
    """A sweep killed while idle between ticks, then restarted, sends each notice once."""
    out, progress = tmp_path / "out", tmp_path / "progress"
    first = _spawn(out, progress, TICK_PAUSE="0.5", BATCH="20")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        lines = progress.read_text().splitlines() if progress.exists() else []
        if len(lines) >= 3:
            break
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    partial = _sent(out)
    assert 0 < len(partial) < TICKETS * PER_TICKET and set(partial.values()) == {1}
    second = _spawn(out, progress, TICK_PAUSE="0", BATCH="50")
    assert second.wait(timeout=300) == 0
    counts = _sent(out)
    assert len(counts) == TICKETS * PER_TICKET and set(counts.values()) == {1}
    assert _rows(pg) == {"sent": TICKETS * PER_TICKET}
