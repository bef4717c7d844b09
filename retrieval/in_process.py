"""The note indexes this process holds in memory (BM25, vectors) and how they stay current."""

# The BM25 index is built from the database, the vectors are read from Chroma; both follow the
# index outbox, are saved as snapshots so a restart loads them, and are built in a child process
# when the book is large. Querying them is `retrieval.search`.

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.db import make_engine
from crm_core.models import IndexOutbox, Interaction, utcnow
from retrieval.indexer import KEEP_DONE
from retrieval.lexical import FRESH_LIMIT, LexicalIndex
from retrieval.notes import current_notes, live_notes
from retrieval.store import DenseIndex, open_client
from retrieval.vectors import VectorTable

log = logging.getLogger(__name__)

# Outbox rows whose transaction committed after a later id was read are caught by looking back.
_LOOKBACK = 500
# Done outbox rows are kept KEEP_DONE: a snapshot or a process idle for longer than half of
# that could miss changes, so it starts over from the database.
MAX_GAP = KEEP_DONE.total_seconds() / 2
# Books with more live notes than this build their lexical index in a child process.
CHILD_BUILD_NOTES = 20_000
# Outbox rows marked done up to this long before the last look are read again: a drain's
# commit lands a moment after the time it writes, and workers' clocks differ a little.
_DENSE_SLACK = timedelta(seconds=30)


class InProcessIndexes:
    """The lexical index and vector table of one process, kept in step with the database."""

    def __init__(self, dense: DenseIndex | None, *, snapshot_root: Path | None = None) -> None:
        self.dense = dense
        self.lexical = LexicalIndex()
        self.vectors = VectorTable()
        self.snapshot_dir = None if snapshot_root is None else snapshot_root / "lexical"
        self.vector_dir = None if snapshot_root is None else snapshot_root / "vectors"
        self._dense_cursor = utcnow()
        self._dense_synced_at = 0.0
        # Outbox rows already applied that are still inside the slack window, and when done.
        self._dense_seen: dict[int, datetime] = {}
        self._dense_lock = threading.Lock()
        # Where each in-memory index last came from ("database", "child", "store" or "snapshot").
        self.lexical_origin = ""
        self.vectors_origin = ""
        self._built = False
        self._synced_at = 0.0
        self._watermark = 0
        self._seen: deque[int] = deque(maxlen=4 * _LOOKBACK)
        self._seen_set: set[int] = set()
        self._sync_lock = threading.Lock()

    # -- keeping the lexical index current -------------------------------------------------

    def sync(self, session: Session) -> None:
        """Build the lexical index on first use, then apply the outbox rows since last time."""
        with self._sync_lock:
            idle = time.monotonic() - self._synced_at > MAX_GAP
            if not self._built or idle:
                if not self._load_snapshot(session):
                    self._rebuild(session)
            elif self.lexical.fresh_size > FRESH_LIMIT:
                self._rebuild(session)
            else:
                self._tail(session)
            self._synced_at = time.monotonic()

    def _tail(self, session: Session) -> None:
        """Apply the outbox rows not seen yet."""
        rows = session.execute(
            select(IndexOutbox.id, IndexOutbox.interaction_id)
            .where(IndexOutbox.id > self._watermark - _LOOKBACK)
            .order_by(IndexOutbox.id)
        ).all()
        new = [(rid, iid) for rid, iid in rows if rid not in self._seen_set]
        if not new:
            return
        notes = current_notes(session, {iid for _, iid in new})
        self.lexical.apply(
            [(iid, None if n is None else (n.passages, n.meta)) for iid, n in notes.items()]
        )
        for rid, _ in new:
            self._remember(rid)
        self._watermark = max(self._watermark, new[-1][0])

    def _remember(self, row_id: int) -> None:
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(row_id)
        self._seen_set.add(row_id)

    def _rebuild(self, session: Session) -> None:
        # Read the watermark first: a change committed during the read is applied again later.
        watermark = session.scalar(select(func.max(IndexOutbox.id))) or 0
        if self._build_in_child(session, watermark):
            origin = "child"
        else:
            self.lexical.build((n.passages, n.meta) for batch in live_notes(session) for n in batch)
            origin = "database"
            if self.snapshot_dir is not None:
                try:
                    self.lexical.save(self.snapshot_dir, _snapshot_meta(session, watermark))
                except OSError as exc:
                    # A read-only or full disk costs the next start its head start, nothing more.
                    log.warning("could not save the lexical snapshot (%s)", type(exc).__name__)
        self._watermark = watermark
        self._seen.clear()
        self._seen_set.clear()
        self._built = True
        self.lexical_origin = origin

    def _build_in_child(self, session: Session, watermark: int) -> bool:
        """Build and save the lexical index in a child process and load what it saved.

        The build's working memory (token lists, the arrays sorted into postings: 200 MB or so at
        200,000 notes) is the child's and goes with it; the serving process maps the result.
        """
        url = session.get_bind().engine.url
        if self.snapshot_dir is None or url.database in (None, "", ":memory:"):
            return False
        live = session.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.deleted_at.is_(None))
        )
        if (live or 0) < CHILD_BUILD_NOTES:
            return False
        # The URL travels through the spawn pipe, not the command line: it may hold a password.
        child = multiprocessing.get_context("spawn").Process(
            target=build_lexical_snapshot,
            args=(url.render_as_string(hide_password=False), str(self.snapshot_dir), watermark),
            name="crmbot-lexical-build",
        )
        child.start()
        child.join()
        meta = self.lexical.load(self.snapshot_dir) if child.exitcode == 0 else None
        if meta is None or meta.get("watermark") != watermark:
            log.warning("lexical build in a child process failed; building here")
            return False
        return True

    def _load_snapshot(self, session: Session) -> bool:
        """Start from the saved lexical index and the outbox since; False if it is not usable."""
        if self.snapshot_dir is None:
            return False
        meta = self.lexical.load(self.snapshot_dir)
        if meta is None:
            return False
        newest = session.scalar(select(func.max(IndexOutbox.id))) or 0
        if (
            meta.get("database") != _database(session)
            or int(meta.get("watermark", -1)) > newest
            or time.time() - float(meta.get("taken", 0)) > MAX_GAP
        ):
            log.info("lexical snapshot is for another database or too old; rebuilding")
            return False
        self._watermark = int(meta["watermark"])
        self._seen.clear()
        self._seen_set.clear()
        self._built = True
        self._tail(session)
        live = session.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.deleted_at.is_(None))
        )
        if self.lexical.live_notes() != live:
            log.info("lexical snapshot disagrees with the database; rebuilding")
            return False
        self.lexical_origin = "snapshot"
        return True

    # -- keeping the in-process vectors current -----------------------------------------------

    def sync_vectors(self, session: Session) -> None:
        """Load the vectors on first use, then those of notes the indexer wrote since."""
        if self.dense is None:
            return
        with self._dense_lock:
            idle = time.monotonic() - self._dense_synced_at > MAX_GAP
            if not self.vectors.loaded or idle:
                if not self._load_vectors_snapshot(session):
                    self._load_vectors(session)
            else:
                self._tail_vectors(session)
            self._dense_synced_at = time.monotonic()

    def _load_vectors(self, session: Session) -> None:
        assert self.dense is not None
        # Before reading the store: rows marked done by now are in what it returns.
        self._start_cursor(session)
        if self._vectors_in_child(session):
            self.vectors_origin = "child"
            return
        self.vectors.load(self.dense.scan(), expected=self.dense.count())
        self.vectors_origin = "store"
        self._save_vectors(session)

    def _vectors_in_child(self, session: Session) -> bool:
        """Read a Chroma server's vectors in a child process that saves them; map the result.

        Reading 200,000 vectors over HTTP goes through JSON: the child's memory, not ours. An
        embedded store stays in this process (one process owns its files).
        """
        assert self.dense is not None
        if self.vector_dir is None or self.dense.url is None:
            return False
        if self.dense.count() < CHILD_BUILD_NOTES:
            return False
        meta = self._vector_meta(session)
        child = multiprocessing.get_context("spawn").Process(
            target=build_vector_snapshot,
            args=(self.dense.url, self.dense.name, str(self.vector_dir), meta),
            name="crmbot-vector-read",
        )
        child.start()
        child.join()
        got = self.vectors.load_snapshot(self.vector_dir) if child.exitcode == 0 else None
        if got is None or got.get("cursor") != meta["cursor"]:
            log.warning("reading vectors in a child process failed; reading them here")
            return False
        return True

    def _vector_meta(self, session: Session) -> dict[str, object]:
        assert self.dense is not None
        return {
            "database": _database(session),
            "collection": self.dense.name,
            "cursor": self._dense_cursor.isoformat(),
            "taken": time.time(),
        }

    def _save_vectors(self, session: Session) -> None:
        if self.vector_dir is None or self.dense is None:
            return
        meta = self._vector_meta(session)
        try:
            self.vectors.save(self.vector_dir, meta)
        except OSError as exc:
            log.warning("could not save the vector snapshot (%s)", type(exc).__name__)

    def _load_vectors_snapshot(self, session: Session) -> bool:
        assert self.dense is not None
        if self.vector_dir is None:
            return False
        meta = self.vectors.load_snapshot(self.vector_dir)
        if meta is None:
            return False
        if (
            meta.get("database") != _database(session)
            or meta.get("collection") != self.dense.name
            or time.time() - float(meta.get("taken", 0)) > MAX_GAP
        ):
            log.info("vector snapshot is for another database or model, or too old; reloading")
            return False
        self._dense_cursor = datetime.fromisoformat(str(meta["cursor"]))
        self._dense_seen = {}
        self._tail_vectors(session)
        # Notes being written right now explain a small difference; anything more is a store
        # that was rebuilt or replaced behind the snapshot's back.
        pending = session.scalar(
            select(func.count()).select_from(IndexOutbox).where(IndexOutbox.indexed_at.is_(None))
        )
        if abs(self.vectors.size - self.dense.count()) > 8 * (pending or 0):
            log.info("vector snapshot disagrees with the store; reloading")
            return False
        self.vectors_origin = "snapshot"
        return True

    def _start_cursor(self, session: Session) -> None:
        """Look at the outbox from now on; rows done in the slack window count as applied."""
        self._dense_cursor = utcnow()
        since = self._dense_cursor - _DENSE_SLACK
        done = session.execute(
            select(IndexOutbox.id, IndexOutbox.indexed_at).where(IndexOutbox.indexed_at >= since)
        )
        self._dense_seen = {rid: at for rid, at in done if at is not None}

    def _tail_vectors(self, session: Session) -> None:
        """Apply the notes whose outbox rows were marked done since the last look."""
        assert self.dense is not None
        cursor = utcnow()
        since = self._dense_cursor - _DENSE_SLACK
        rows = [
            (rid, iid, at)
            for rid, iid, at in session.execute(
                select(IndexOutbox.id, IndexOutbox.interaction_id, IndexOutbox.indexed_at).where(
                    IndexOutbox.indexed_at >= since
                )
            )
            if rid not in self._dense_seen and at is not None
        ]
        if rows:
            changed = sorted({iid for _, iid, _ in rows})
            stored, vectors = self.dense.vectors_of(changed)
            folds = self.vectors.folds
            self.vectors.apply(changed, stored, vectors)
            self._dense_seen.update((rid, at) for rid, _, at in rows)
            if self.vectors.folds != folds:
                # Folding made a new whole table: the next start can begin from it.
                self._save_vectors(session)
        self._dense_cursor = cursor
        # Rows older than the next window are never read again: forget them.
        horizon = cursor - _DENSE_SLACK
        self._dense_seen = {r: at for r, at in self._dense_seen.items() if at >= horizon}


def _snapshot_meta(session: Session, watermark: int) -> dict[str, object]:
    return {"watermark": watermark, "database": _database(session), "taken": time.time()}


def build_lexical_snapshot(url: str, root: str, watermark: int) -> None:
    """Build the lexical index of the database at `url` and save it under `root` (a child)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            index = LexicalIndex()
            index.build((n.passages, n.meta) for batch in live_notes(session) for n in batch)
            index.save(Path(root), _snapshot_meta(session, watermark))
    finally:
        engine.dispose()


def build_vector_snapshot(url: str, name: str, root: str, meta: dict[str, object]) -> None:
    """Read every vector of collection `name` from the Chroma server at `url` and save them
    under `root` with `meta` (a child process)."""
    dense = DenseIndex(open_client(url, None), name)
    table = VectorTable()
    table.load(dense.scan(), expected=dense.count())
    table.save(Path(root), meta)


def _database(session: Session) -> str:
    """Which database a snapshot belongs to: its URL (no password) and its first note.

    The first note tells a database recreated at the same path from the one the snapshot was
    taken of; only a hash of it is kept.
    """
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    first = session.execute(
        select(Interaction.id, Interaction.occurred_at, Interaction.text)
        .order_by(Interaction.id)
        .limit(1)
    ).first()
    key = repr((url, None if first is None else tuple(first)))
    return hashlib.sha256(key.encode()).hexdigest()[:16]
