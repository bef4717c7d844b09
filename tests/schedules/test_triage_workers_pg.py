"""Two triage processes on one PostgreSQL database: each team's summary posted exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from crm_core.db import make_session_factory, unit_of_work
from crm_core.models import ServiceCalendar, Team, TriageSummaryLog
from tests.conftest import PG_URL, _truncate

pytestmark = pytest.mark.skipif(not PG_URL, reason="CRMBOT_TEST_DATABASE_URL is not set")
ROOT = Path(__file__).resolve().parents[2]
TEAMS = 40
# A Tuesday, 10:00 UTC: inside the business day of every team below.
NOW = "2026-11-24T10:00:00+00:00"


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The PostgreSQL test database, emptied, with 40 teams that each have a triage channel."""
    engine: Engine = request.getfixturevalue("pg_engine")
    _truncate(engine)
    with unit_of_work(make_session_factory(engine)) as s:
        for i in range(TEAMS):
            team = Team(external_id=f"t{i}", name=f"Team {i}")
            s.add(team)
            s.flush()
            s.add(
                ServiceCalendar(
                    team_id=team.id,
                    timezone="Europe/London" if i % 2 else "UTC",
                    days="01234",
                    start_minute=540,
                    end_minute=1080,
                    triage_target=f"console:triage-{i}",
                )
            )
    yield engine
    _truncate(engine)


def test_two_workers_post_each_team_summary_once(pg: Engine, tmp_path: Path) -> None:
    """Two real processes started together over 40 due summaries: no loss, no repeat."""
    assert PG_URL
    go = tmp_path / "go"
    procs = []
    for i in range(2):
        cmd = [
            sys.executable,
            "-m",
            "tests.schedules.triage_worker",
            PG_URL,
            str(tmp_path / f"out{i}"),
            str(tmp_path / f"ready{i}"),
            str(go),
            NOW,
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(
        (tmp_path / f"ready{i}").exists() for i in range(2)
    ):
        time.sleep(0.01)
    go.write_text("go")
    for p in procs:
        assert p.wait(timeout=120) == 0
    counts: Counter[str] = Counter()
    for i in range(2):
        out = tmp_path / f"out{i}"
        if out.exists():
            counts.update(out.read_text().splitlines())
    assert len(counts) == TEAMS and set(counts.values()) == {1}
    assert {line.split()[1] for line in counts} == {"2026-11-24"}
    with pg.connect() as conn:
        statuses = dict(
            conn.execute(
                select(TriageSummaryLog.status, func.count()).group_by(TriageSummaryLog.status)
            ).all()
        )
    assert statuses == {"sent": TEAMS}
