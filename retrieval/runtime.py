"""The note index of one process, opened from settings: search, indexer and asker."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.settings import Settings
from retrieval.passages import SPLITTER_VERSION

if TYPE_CHECKING:
    # Chroma, numpy and langchain load when the index is first opened, not at start-up.
    from retrieval.ask import Asker
    from retrieval.embedders import Embedder
    from retrieval.indexer import Indexer
    from retrieval.search import NoteSearch
    from retrieval.store import DenseIndex

log = logging.getLogger(__name__)

# Notes pending beyond this are left to the worker instead of being indexed before an answer.
INLINE_DRAIN = 64


@dataclass
class NoteIndex:
    """Everything `ask`, `reindex` and the indexing worker use."""

    search: NoteSearch
    indexer: Indexer
    asker: Asker
    dense: DenseIndex
    location: str
    # Console and CLI have no worker: they index a small backlog before answering.
    inline_drain: bool = True

    def warm(self) -> None:
        """Load (or build) the in-memory indexes now, so the first question does not wait."""
        try:
            with unit_of_work(self.indexer.session_factory) as session:
                self.search.sync(session)
                self.search.sync_vectors(session)
        except Exception as exc:
            # The store may be down at start; the first question tries again.
            log.warning("note index warm-up incomplete (%s)", type(exc).__name__)

    def behind(self) -> tuple[int, int] | None:
        """(notes indexed, live notes) while the vector index lags the database, else None."""
        progress = self.indexer.progress()
        return None if progress.pending == 0 else (progress.indexed, progress.live)

    def catch_up(self) -> None:
        """Index a small backlog now so a note logged a moment ago is found by meaning too."""
        if self.inline_drain and 0 < self.indexer.pending() <= INLINE_DRAIN:
            self.indexer.drain(INLINE_DRAIN)


def _model_collection(embedder: Embedder) -> str:
    return f"crmbot-notes-{embedder.slug}"[:56].rstrip("-")


def collection_name(embedder: Embedder) -> str:
    """One collection per embedding model and passage splitter: vectors of two never mix."""
    return f"{_model_collection(embedder)}-p{SPLITTER_VERSION}"


def stale_collection_names(embedder: Embedder) -> tuple[str, ...]:
    """The collections this model's notes had under earlier passage splitters."""
    first = f"crmbot-notes-{embedder.slug}"[:60].rstrip("-")  # splitter 1 named none
    base = _model_collection(embedder)
    return (first, *(f"{base}-p{v}" for v in range(2, SPLITTER_VERSION)))


def open_index(
    settings: Settings,
    session_factory: sessionmaker[Session],
    *,
    embedder: Embedder | None = None,
    client: object | None = None,
    inline_drain: bool = True,
) -> NoteIndex:
    """Open the configured note index (nothing is embedded or downloaded here)."""
    from retrieval.ask import Asker
    from retrieval.embedders import load_embedder
    from retrieval.indexer import Indexer
    from retrieval.search import NoteSearch
    from retrieval.store import DenseIndex, open_client

    embedder = embedder or load_embedder(settings.embeddings)
    index_dir = settings.resolved_index_dir()
    if client is None:
        url, path = settings.chroma_url, index_dir / "chroma"
        client = lambda: open_client(url, None if url else path)  # noqa: E731
    location = settings.chroma_url or str(index_dir / "chroma")
    dense = DenseIndex(client, collection_name(embedder), url=settings.chroma_url or None)
    search = NoteSearch(dense, embedder, snapshot_root=index_dir / "snapshots")
    indexer = Indexer(
        session_factory, dense, embedder, lock_dir=index_dir, stale=stale_collection_names(embedder)
    )
    writer = None
    if settings.llm:
        from retrieval.llm import AnswerWriter

        writer = AnswerWriter.from_settings(settings)
    return NoteIndex(search, indexer, Asker(search, writer), dense, location, inline_drain)


class LazyIndex:
    """Opens the note index on first use: most commands never need it."""

    def __init__(
        self, settings: Settings, session_factory: sessionmaker[Session], **kw: object
    ) -> None:
        self._args = (settings, session_factory)
        self._kw = kw
        self._index: NoteIndex | None = None
        self._lock = threading.Lock()

    def __call__(self) -> NoteIndex:
        with self._lock:
            if self._index is None:
                self._index = open_index(*self._args, **self._kw)  # type: ignore[arg-type]
            return self._index

    @property
    def opened(self) -> NoteIndex | None:
        """The index if something already opened it."""
        return self._index
