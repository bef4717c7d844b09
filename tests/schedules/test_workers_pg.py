"""Several dispatcher processes on one PostgreSQL database: each reminder exactly once."""

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
from sqlalchemy import Engine, func, insert, select

from crm_core.models import Reminder, ReminderStatus, User, utcnow
from tests.conftest import PG_URL, _truncate

pytestmark = pytest.mark.skipif(not PG_URL, reason="CRMBOT_TEST_DATABASE_URL is not set")
ROOT = Path(__file__).resolve().parents[2]
COUNT = 1000


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The PostgreSQL test database, emptied, with one user and 1,000 due reminders."""
    engine: Engine = request.getfixturevalue("pg_engine")
    _truncate(engine)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(User).values(
                external_id="w",
                name="W",
                timezone="UTC",
                locale="en",
                role="rep",
                active=True,
                created_at=now,
            )
        )
        uid = conn.execute(select(User.id)).scalar_one()
        conn.execute(
            insert(Reminder),
            [
                {
                    "owner_id": uid,
                    "due_at": now - timedelta(seconds=i),
                    "text": f"r{i}",
                    "status": "pending",
                    "explicit_time": True,
                    "attempts": 0,
                    "late": False,
                    "created_at": now,
                }
                for i in range(COUNT)
            ],
        )
    yield engine
    _truncate(engine)


def _spawn(out: Path, progress: Path, **env: str) -> subprocess.Popen[bytes]:
    assert PG_URL
    return subprocess.Popen(
        [sys.executable, "-m", "tests.schedules.pg_worker", PG_URL, str(out), str(progress)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


def _delivered(*files: Path) -> Counter[int]:
    counts: Counter[int] = Counter()
    for f in files:
        if f.exists():
            counts.update(int(line) for line in f.read_text().split())
    return counts


def _all_sent(engine: Engine) -> bool:
    with engine.connect() as conn:
        left = conn.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.status != ReminderStatus.sent)
        )
    return left == 0


def test_two_processes_deliver_each_reminder_exactly_once(pg: Engine, tmp_path: Path) -> None:
    """Two real dispatcher processes racing over 1,000 due reminders: no loss, no repeat."""
    procs = [
        _spawn(tmp_path / f"out{i}", tmp_path / f"progress{i}", TICK_PAUSE="0", BATCH="25")
        for i in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    counts = _delivered(tmp_path / "out0", tmp_path / "out1")
    assert len(counts) == COUNT and set(counts.values()) == {1}
    assert _delivered(tmp_path / "out0") and _delivered(tmp_path / "out1"), "both took work"
    assert _all_sent(pg)


def test_sigkill_between_batches_then_restart_loses_none_repeats_none(
    pg: Engine, tmp_path: Path
) -> None:
    """A worker killed (SIGKILL) while idle between batches, then restarted, sends each once."""
    out, progress = tmp_path / "out", tmp_path / "progress"
    first = _spawn(out, progress, TICK_PAUSE="0.5", BATCH="50")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = progress.read_text().splitlines() if progress.exists() else []
        if len(lines) >= 3:
            break
        time.sleep(0.01)
    # It has just written "idle 3" and is sleeping: kill it there.
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    partial = _delivered(out)
    assert 0 < len(partial) < COUNT and set(partial.values()) == {1}
    second = _spawn(out, progress, TICK_PAUSE="0", BATCH="100")
    assert second.wait(timeout=120) == 0
    counts = _delivered(out)
    assert len(counts) == COUNT and set(counts.values()) == {1}
    assert _all_sent(pg)
