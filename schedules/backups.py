"""The scheduled daily backup: once per UTC day across every worker, with retention.

Like the digests, the day's log row is inserted and committed before the archive is written,
so only the worker whose insert wins writes it. A failure (a full disk, say) marks the row
"retry" and a later tick tries again; a worker killed while writing leaves the row "sending",
and once that is older than STALE another worker takes the day over (a backup, unlike a
message, is harmless to write twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.backup import prune_backups, write_backup
from crm_core.models import BackupLog, utcnow
from schedules import sendlog

log = logging.getLogger(__name__)

# A claim still "sending" after this long belongs to a worker that died mid-backup.
STALE = timedelta(hours=1)


@dataclass
class BackupStats:
    """What one run did."""

    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    failed: int = 0
    skipped: int = 0


def backup_name(day: date) -> str:
    """The file a day's scheduled backup is written to."""
    return f"crmbot-{day.isoformat()}.crmbak"


class BackupDispatcher:
    """Writes the day's backup into `directory` after `at` (UTC), then keeps the newest `keep`."""

    def __init__(
        self,
        engine: Engine,
        session_factory: sessionmaker[Session],
        directory: Path,
        *,
        keep: int = 7,
        key: str | None = None,
        at: time = time(2, 0),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.session_factory = session_factory
        self.directory = directory
        self.keep = keep
        self.key = key
        self.at = at
        self.clock = clock

    def due(self) -> date | None:
        """Today (UTC) when its backup is due and nobody has it; else None."""
        now = self.clock()
        if now.time() < self.at:
            return None
        today = now.date()
        with self.session_factory() as s:
            row = s.scalar(select(BackupLog).where(BackupLog.day == today))
        # A claim older than STALE is retaken however often it was tried: a day's backup is
        # never given up on while its writer keeps dying.
        again = row is None or sendlog.may_take(
            row.status, row.attempts, row.claimed_at, now, lease=STALE, cap_stale=False
        )
        return today if again else None

    def claim(self, day: date) -> bool:
        """Take the day's backup; False when another worker has it."""
        key = {"day": day}
        # cap_stale=False: as before, a dead writer's day is taken over however often it died.
        taken = sendlog.claim(
            self.session_factory, BackupLog, key, self.clock(), lease=STALE, cap_stale=False
        )
        return taken is not None

    def write(self, day: date) -> tuple[Path, list[Path]]:
        """Write the archive and prune the old ones (blocking: run in a thread)."""
        path = self.directory / backup_name(day)
        write_backup(self.engine, path, key=self.key, now=self.clock(), make_folder=True)
        return path, prune_backups(self.directory, self.keep)

    async def run_once(self) -> BackupStats:
        """Write today's backup if it is due and this worker wins the claim."""
        stats = BackupStats()
        day = await asyncio.to_thread(self.due)
        if day is None:
            return stats
        if not await asyncio.to_thread(self.claim, day):
            stats.skipped += 1
            return stats
        error: BaseException | None = None
        try:
            path, removed = await asyncio.to_thread(self.write, day)
            stats.written.append(path)
            stats.removed.extend(removed)
        except Exception as exc:
            error = exc
            stats.failed += 1
            # The class only: messages may name paths, never data, but keep logs predictable.
            log.warning("scheduled backup for %s failed: %s", day, type(exc).__name__)
        await asyncio.to_thread(
            sendlog.finish, self.session_factory, BackupLog, {"day": day}, self.clock(), error
        )
        return stats
