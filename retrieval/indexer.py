"""Keeping the dense index in step with the database: outbox drain, full rebuild, status."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, insert, literal, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.models import IndexOutbox, Interaction, Ticket, utcnow
from retrieval.embedders import Embedder
from retrieval.notes import IndexedNote, current_notes, live_notes
from retrieval.store import DenseIndex

log = logging.getLogger(__name__)

# Drained rows are kept this long: other processes' lexical indexes read them to catch up.
KEEP_DONE = timedelta(days=2)
_ADVISORY_KEY = 0x63726D62  # "crmb": one drainer at a time across a PostgreSQL fleet


@dataclass(frozen=True)
class DrainResult:
    """What one drain did."""

    notes: int
    passages: int
    failed: bool = False
    busy: bool = False


@dataclass(frozen=True)
class IndexStatus:
    """How far the dense index is behind the database."""

    pending: int
    oldest_pending: datetime | None
    last_indexed: datetime | None
    live_notes: int
    passages: int | None
    reachable: bool
    last_error: str | None

    def lag_seconds(self, now: datetime) -> float:
        """Age of the oldest change not yet in the index (0 when caught up)."""
        if self.oldest_pending is None:
            return 0.0
        return max(0.0, (now - self.oldest_pending).total_seconds())


@dataclass(frozen=True)
class Progress:
    """How far the vector index is through the notes, and how fast it has been going."""

    pending: int  # notes waiting for the index
    live: int  # live notes in the database (counted only while some wait)
    rate: float | None  # notes indexed per second over the last few minutes

    @property
    def indexed(self) -> int:
        """Live notes already in the index."""
        return max(0, self.live - self.pending)

    def eta_seconds(self) -> float | None:
        """Seconds until the index has caught up at the recent rate (None: no rate yet)."""
        if self.pending == 0:
            return 0.0
        return None if not self.rate else self.pending / self.rate


# The rate of indexing is read over drains this recent.
RATE_WINDOW = timedelta(minutes=5)


class Indexer:
    """Drains the outbox into the dense index; one drainer runs at a time."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        dense: DenseIndex,
        embedder: Embedder,
        *,
        lock_dir: Path | None = None,
        clock: Callable[[], datetime] = utcnow,
        stale: tuple[str, ...] = (),
    ) -> None:
        self.session_factory = session_factory
        self.dense = dense
        self.embedder = embedder
        self.lock_dir = lock_dir
        self.clock = clock
        # Collections of earlier passage splitters: found once, their notes are embedded again.
        self.stale = stale
        self._stale_checked = not stale
        self._local = threading.Lock()

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[bool]:
        """Hold the drain lock if free: a thread lock, a file lock, an advisory lock on PG."""
        if not self._local.acquire(blocking=False):
            yield False
            return
        try:
            with self._file_lock() as got_file:
                if not got_file:
                    yield False
                    return
                engine = self.session_factory.kw["bind"]
                if engine.dialect.name != "postgresql":
                    yield True
                    return
                with engine.connect() as conn:
                    got = conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": _ADVISORY_KEY})
                    try:
                        yield bool(got)
                    finally:
                        if got:
                            conn.execute(
                                text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY}
                            )
                            conn.commit()
        finally:
            self._local.release()

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[bool]:
        if self.lock_dir is None:
            yield True
            return
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_dir / "drain.lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def pending(self) -> int:
        """Outbox rows not yet in the dense index."""
        with unit_of_work(self.session_factory) as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(IndexOutbox)
                    .where(IndexOutbox.indexed_at.is_(None))
                )
                or 0
            )

    def drain(self, limit: int = 256) -> DrainResult:
        """Index up to `limit` pending changes; failures leave them pending and are counted."""
        with self._exclusive() as mine:
            if not mine:
                return DrainResult(0, 0, busy=True)
            self._retire_stale()
            with unit_of_work(self.session_factory) as session:
                rows = session.execute(
                    select(IndexOutbox.id, IndexOutbox.interaction_id)
                    .where(IndexOutbox.indexed_at.is_(None))
                    .order_by(IndexOutbox.id)
                    .limit(limit)
                ).all()
                if not rows:
                    return DrainResult(0, 0)
                notes = current_notes(session, {r[1] for r in rows})
            row_ids = [r[0] for r in rows]
            try:
                passages = self._write(notes)
            except Exception as exc:
                # Chroma down or refusing: the rows stay pending and are retried; logging of
                # new notes is unaffected because it only ever writes the outbox.
                log.warning(
                    "note index unavailable (%s); %d changes wait", type(exc).__name__, len(row_ids)
                )
                with unit_of_work(self.session_factory) as session:
                    session.execute(
                        update(IndexOutbox)
                        .where(IndexOutbox.id.in_(row_ids))
                        .values(
                            attempts=IndexOutbox.attempts + 1, last_error=type(exc).__name__[:200]
                        )
                    )
                return DrainResult(0, 0, failed=True)
            now = self.clock()
            with unit_of_work(self.session_factory) as session:
                session.execute(
                    update(IndexOutbox)
                    .where(IndexOutbox.id.in_(row_ids))
                    .values(indexed_at=now, last_error=None)
                )
                session.execute(delete(IndexOutbox).where(IndexOutbox.indexed_at < now - KEEP_DONE))
            return DrainResult(len(notes), passages)

    def _retire_stale(self) -> None:
        """Queue every note again if an older splitter's collection exists, then drop it.

        Its vectors belong to passages the answer no longer cuts (passage 2 of the old cut is
        not passage 2 now): the new collection fills through the outbox, and until a note is
        embedded again it is found by its words only, never by a wrong passage.
        """
        if self._stale_checked:
            return
        try:
            old = [name for name in self.stale if self.dense.exists(name)]
        except Exception as exc:
            # The store is down: look again at the next drain.
            log.warning("note index unavailable (%s)", type(exc).__name__)
            return
        if old:
            now = self.clock()
            with unit_of_work(self.session_factory) as session:
                notes = select(
                    Interaction.id, literal(now, IndexOutbox.created_at.type), literal(0)
                ).where(Interaction.deleted_at.is_(None))
                tickets = select(-Ticket.id, literal(now, IndexOutbox.created_at.type), literal(0))
                for query in (notes, tickets):
                    session.execute(
                        insert(IndexOutbox).from_select(
                            ["interaction_id", "created_at", "attempts"], query
                        )
                    )
            for name in old:
                self.dense.drop(name)
            log.info("passages are cut differently now: every note is embedded again")
        self._stale_checked = True

    def _write(self, notes: dict[int, IndexedNote | None]) -> int:
        # A note's passages are replaced whole: an edit may have fewer of them than before.
        self.dense.delete_notes(list(notes))
        live = [n for n in notes.values() if n is not None]
        return self._upsert(live)

    def _upsert(self, notes: list[IndexedNote]) -> int:
        passages = [p for n in notes for p in n.passages]
        metas = [n.meta for n in notes for _ in n.passages]
        if passages:
            vectors = self.embedder.passages([p.text for p in passages])
            self.dense.upsert(passages, metas, vectors)
        return len(passages)

    def reindex(
        self, progress: Callable[[int, int], None] | None = None, *, resume: bool = False
    ) -> tuple[int, int, float]:
        """Rebuild the dense index from the database; returns notes, passages and seconds.

        With `resume`, notes already in the store are kept (an interrupted rebuild goes on).
        """
        started = time.perf_counter()
        with self._exclusive() as mine:
            if not mine:
                raise RuntimeError("another process is indexing; try again when it is done")
            with unit_of_work(self.session_factory) as session:
                # Changes after this point stay pending and are drained after the rebuild.
                watermark = session.scalar(select(func.max(IndexOutbox.id))) or 0
                total = int(
                    session.scalar(
                        select(func.count())
                        .select_from(Interaction)
                        .where(Interaction.deleted_at.is_(None))
                    )
                    or 0
                )
            done: set[int] = self.dense.note_ids() if resume else set()
            if not resume:
                self.dense.reset()
            notes = passages = 0
            with unit_of_work(self.session_factory) as session:
                for batch in live_notes(session, batch=256):
                    passages += self._upsert([n for n in batch if n.interaction_id not in done])
                    notes += len(batch)
                    if progress is not None:
                        progress(notes, total)
            with unit_of_work(self.session_factory) as session:
                session.execute(
                    update(IndexOutbox)
                    .where(IndexOutbox.id <= watermark, IndexOutbox.indexed_at.is_(None))
                    .values(indexed_at=self.clock(), last_error=None)
                )
        return notes, passages, time.perf_counter() - started

    def progress(self) -> Progress:
        """Notes waiting, live notes and the recent rate; two small queries when caught up."""
        with unit_of_work(self.session_factory) as session:
            pending = int(
                session.scalar(
                    select(func.count(func.distinct(IndexOutbox.interaction_id))).where(
                        IndexOutbox.indexed_at.is_(None)
                    )
                )
                or 0
            )
            if pending == 0:
                return Progress(0, 0, None)
            live = int(
                session.scalar(
                    select(func.count())
                    .select_from(Interaction)
                    .where(Interaction.deleted_at.is_(None))
                )
                or 0
            )
            since = self.clock() - RATE_WINDOW
            done, first, last = session.execute(
                select(
                    func.count(func.distinct(IndexOutbox.interaction_id)),
                    func.min(IndexOutbox.indexed_at),
                    func.max(IndexOutbox.indexed_at),
                ).where(IndexOutbox.indexed_at >= since)
            ).one()
        rate = None
        if done and first is not None and last is not None:
            span = (last - first).total_seconds()
            # One drain's rows share a time: a rate needs two drains a second or more apart.
            if span >= 1.0:
                rate = done / span
        return Progress(pending, max(live, pending), rate)

    def status(self) -> IndexStatus:
        """Pending changes, their age, the last drain and what the store holds."""
        with unit_of_work(self.session_factory) as session:
            pending_q = select(func.count(), func.min(IndexOutbox.created_at)).where(
                IndexOutbox.indexed_at.is_(None)
            )
            pending, oldest = session.execute(pending_q).one()
            last = session.scalar(select(func.max(IndexOutbox.indexed_at)))
            error = session.scalar(
                select(IndexOutbox.last_error)
                .where(IndexOutbox.indexed_at.is_(None), IndexOutbox.last_error.is_not(None))
                .order_by(IndexOutbox.id.desc())
                .limit(1)
            )
            live = session.scalar(
                select(func.count())
                .select_from(Interaction)
                .where(Interaction.deleted_at.is_(None))
            )
        try:
            passages: int | None = self.dense.count()
            reachable = True
        except Exception:
            passages, reachable = None, False
        return IndexStatus(
            int(pending or 0), oldest, last, int(live or 0), passages, reachable, error
        )
