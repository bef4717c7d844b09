"""The scheduled daily backup: once a day across workers, after its time, with retention."""

from __future__ import annotations

import asyncio
from datetime import time
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap import App
from bot.scheduling import scheduler_component
from crm_core.backup import verify_backup
from crm_core.db import make_engine, make_session_factory, unit_of_work
from crm_core.models import BackupLog
from schedules.backups import STALE, BackupDispatcher
from tests.conftest import FakeClock
from tests.schedules.conftest import FakeNotifier


def _worker(
    engine: Engine, folder: Path, clock: FakeClock, *, keep: int = 7, key: str | None = None
) -> BackupDispatcher:
    # Each worker has its own engine and pool, as separate processes would.
    own = make_engine(str(engine.url.render_as_string(hide_password=False)))
    return BackupDispatcher(
        own, make_session_factory(own), folder, keep=keep, key=key, at=time(2, 0), clock=clock
    )


async def _both(a: BackupDispatcher, b: BackupDispatcher) -> int:
    first, second = await asyncio.gather(a.run_once(), b.run_once())
    return len(first.written) + len(second.written)


def test_two_workers_write_one_backup_a_day_after_its_time(
    engine: Engine, session_factory: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    """Before 02:00 nothing; after it exactly one of two workers writes; later ticks nothing."""
    folder = tmp_path / "backups"
    clock.now = clock.now.replace(hour=1, minute=59)
    a, b = _worker(engine, folder, clock), _worker(engine, folder, clock)
    assert asyncio.run(_both(a, b)) == 0
    clock.advance(minutes=2)
    assert asyncio.run(_both(a, b)) == 1
    assert asyncio.run(_both(a, b)) == 0
    day = clock.now.date()
    written = folder / f"crmbot-{day.isoformat()}.crmbak"
    assert sorted(p.name for p in folder.iterdir()) == [written.name]
    assert verify_backup(written).rows["users"] == 0
    # The folder was made for it; the archive is its owner's only.
    assert written.stat().st_mode & 0o777 == 0o600
    with session_factory() as s:
        rows = s.execute(select(BackupLog.day, BackupLog.status)).all()
    assert rows == [(day, "sent")]
    clock.advance(days=1)
    assert asyncio.run(_both(a, b)) == 1
    assert len(list(folder.iterdir())) == 2


def test_retention_keeps_the_newest_and_a_key_seals_them(
    engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    """With KEEP=2, the third day's backup removes the first; each is sealed with the key."""
    folder = tmp_path / "backups"
    clock.now = clock.now.replace(hour=3)
    worker = _worker(engine, folder, clock, keep=2, key="a long enough key")
    days = []
    for _ in range(3):
        stats = asyncio.run(worker.run_once())
        days.append(clock.now.date())
        clock.advance(days=1)
    assert [p.name for p in stats.removed] == [f"crmbot-{days[0].isoformat()}.crmbak"]
    kept = sorted(folder.iterdir())
    assert [p.name for p in kept] == [f"crmbot-{d.isoformat()}.crmbak" for d in days[1:]]
    assert all(verify_backup(p, key="a long enough key").encrypted for p in kept)


def test_a_failed_backup_is_retried_and_a_dead_workers_claim_taken_over(
    engine: Engine, session_factory: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    """A folder that cannot be written: "retry", then written once it can; a stale claim is
    taken over by another worker."""
    clock.now = clock.now.replace(hour=3)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    worker = _worker(engine, blocked, clock)
    stats = asyncio.run(worker.run_once())
    assert stats.failed == 1 and not stats.written
    with session_factory() as s:
        assert s.scalars(select(BackupLog.status)).all() == ["retry"]
    blocked.unlink()
    assert len(asyncio.run(worker.run_once()).written) == 1

    clock.advance(days=1)
    with unit_of_work(session_factory) as s:
        s.add(BackupLog(day=clock.now.date(), status="sending", claimed_at=clock.now))
    other = _worker(engine, blocked, clock)
    assert not asyncio.run(other.run_once()).written
    clock.advance(seconds=STALE.total_seconds() + 60)
    assert len(asyncio.run(other.run_once()).written) == 1
    with session_factory() as s:
        assert s.scalars(select(BackupLog.status).order_by(BackupLog.day)).all() == ["sent"] * 2


def test_the_scheduler_runs_backups_only_when_a_folder_is_set(
    crm_app: App, notifier: FakeNotifier, clock: FakeClock, tmp_path: Path
) -> None:
    """CRMBOT_BACKUP_DIR turns the job on, with CRMBOT_BACKUP_KEEP and CRMBOT_BACKUP_TIME."""
    assert scheduler_component(crm_app, [notifier], clock=clock).jobs.backups is None
    crm_app.settings = crm_app.settings.model_copy(
        update={"backup_dir": tmp_path / "backups", "backup_keep": 3, "backup_time": "04:30"}
    )
    job = scheduler_component(crm_app, [notifier], clock=clock).jobs.backups
    assert job is not None
    assert (job.directory, job.keep, job.at) == (tmp_path / "backups", 3, time(4, 30))
    clock.now = clock.now.replace(hour=4, minute=31)
    assert len(asyncio.run(job.run_once()).written) == 1
