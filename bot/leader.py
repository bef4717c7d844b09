"""One holder across a fleet, for work that must run in exactly one worker (Telegram polling).

PostgreSQL: a session-level advisory lock held on a connection of its own. The server lets it go
the moment that connection ends, so a killed worker's lock is free at once and a standby takes
over at its next try. SQLite (one machine): an fcntl lock on a file beside the database, which
the kernel releases when the holding process dies. An in-memory database has one process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

# How often a standby tries to take the lock, and a holder checks it still has it (seconds).
RETRY_SECONDS = 5.0


def lock_key(name: str) -> int:
    """The advisory lock number of a named role (stable across processes and versions)."""
    return zlib.crc32(f"crmbot:{name}".encode())


class LeaderLock:
    """A try-lock held until released or until this process (or its connection) ends."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = lock_key(name)
        self._conn: Connection | None = None
        self._file: IO[str] | None = None
        self._held = False

    @property
    def held(self) -> bool:
        """Whether this process took the lock and has not released it."""
        return self._held

    def _lock_path(self) -> Path | None:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return None
        return Path(f"{database}.{self.name}.lock")

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        if self._held:
            return True
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            try:
                got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}))
                # Out of the transaction: the lock belongs to the session, not to a transaction
                # left idle (which a server's idle timeout would end).
                conn.commit()
            except Exception:
                conn.invalidate()
                conn.close()
                raise
            if not got:
                conn.close()
                return False
            self._conn = conn
        else:
            path = self._lock_path()
            if path is not None:
                handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held while leading)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    return False
                self._file = handle
        self._held = True
        return True

    def still_held(self) -> bool:
        """Whether the lock is still ours: on PostgreSQL, whether its connection still answers."""
        if not self._held:
            return False
        if self._conn is None:
            return True
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
        except Exception:
            # The connection is gone and the server has let the lock go with it.
            self._drop()
            return False
        return True

    def release(self) -> None:
        """Let the lock go (a standby may take it at its next try)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.commit()
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            # Closed for good, not returned to the pool: an unlock that failed must not leave a
            # pooled connection still holding the lock.
            with contextlib.suppress(Exception):
                self._conn.invalidate()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self._held = False


class Elected:
    """A `serve` component that runs `gain` while this worker holds the lock and `lose` after."""

    def __init__(
        self,
        lock: LeaderLock,
        gain: Callable[[], Awaitable[object]],
        lose: Callable[[], Awaitable[object]],
        *,
        interval: float | None = None,
    ) -> None:
        self.name = f"elected:{lock.name}"
        self.lock = lock
        self.gain = gain
        self.lose = lose
        self.interval = RETRY_SECONDS if interval is None else interval
        self.leading = False
        # Set on each change of leadership (tests and the log wait on it).
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Try for the lock now and then every `interval` seconds, in the background."""
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database unreachable: stay (or become) a standby and try again later.
                log.exception("%s: leadership check failed", self.lock.name)
                await self._step_down()
            await asyncio.sleep(self.interval)

    async def _step(self) -> None:
        if not self.leading:
            if await asyncio.to_thread(self.lock.try_acquire):
                self.leading = True
                log.info("%s: this worker leads", self.lock.name)
                await self.gain()
                self.changed.set()
        elif not await asyncio.to_thread(self.lock.still_held):
            log.warning("%s: lost the lock; standing by", self.lock.name)
            await self._step_down()

    async def _step_down(self) -> None:
        if self.leading:
            self.leading = False
            try:
                await self.lose()
            finally:
                await asyncio.to_thread(self.lock.release)
                self.changed.set()

    async def stop(self) -> None:
        """Stop trying; a leader stops its work first, then lets the lock go."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._step_down()
        await asyncio.to_thread(self.lock.release)
