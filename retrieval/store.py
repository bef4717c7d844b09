"""The dense note index: passages and their vectors in a Chroma collection."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from retrieval.passages import NoteMeta, Passage

log = logging.getLogger(__name__)

# Chroma's `$in` lists travel inside one request; chunk deletes of many notes.
_CHUNK = 500


@dataclass(frozen=True)
class StoredPassage:
    """Where a stored vector comes from: note, passage number and filter fields."""

    interaction_id: int
    seq: int
    meta: NoteMeta


def _stored(m: Any) -> StoredPassage:
    meta = NoteMeta(
        customer_id=int(m["customer_id"]),
        author_id=int(m["author_id"]),
        kind=str(m["kind"]),
        occurred_at=int(m["occurred_at"]),
    )
    return StoredPassage(int(m["interaction_id"]), int(m["seq"]), meta)


@dataclass(frozen=True)
class DenseHit:
    """One passage found by vector similarity."""

    interaction_id: int
    seq: int
    similarity: float


def open_client(url: str | None, path: Path | None) -> Any:
    """A Chroma client: HTTP to a server when `url` is set, else embedded on disk (or in memory)."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        ssl = parsed.scheme == "https"
        port = parsed.port or (443 if ssl else 8000)
        return chromadb.HttpClient(
            host=parsed.hostname or "localhost", port=port, ssl=ssl, settings=settings
        )
    if path is None:
        return chromadb.EphemeralClient(settings=settings)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class DenseIndex:
    """A Chroma collection of note passages; vectors are always computed by crmbot."""

    def __init__(self, client: Any, name: str, *, url: str | None = None) -> None:
        # A client, or a function making one: an HTTP client connects when made, and a
        # server that is down at start must not stop the bot from starting.
        self._client = client
        self.name = name
        self.url = url  # the Chroma server's, when the store is one
        self._collection: Any = None
        # The indexing worker and a question may be first at once: one client, one collection.
        self._open_lock = threading.RLock()

    @property
    def client(self) -> Any:
        """The Chroma client, made on first use."""
        with self._open_lock:
            if callable(self._client) and not hasattr(self._client, "heartbeat"):
                self._client = self._client()
            return self._client

    @property
    def collection(self) -> Any:
        """The collection, created on first use (cosine space, no embedding function)."""
        with self._open_lock:
            if self._collection is None:
                # No embedding function: Chroma's default one would download a model.
                self._collection = self.client.get_or_create_collection(
                    self.name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                )
            return self._collection

    def upsert(self, passages: list[Passage], metas: list[NoteMeta], vectors: np.ndarray) -> None:
        """Store passages (ids `note:seq`) with their vectors and filter fields."""
        if not passages:
            return
        self.collection.upsert(
            ids=[p.key for p in passages],
            embeddings=vectors,
            metadatas=[
                {
                    "interaction_id": p.interaction_id,
                    "seq": p.seq,
                    "customer_id": m.customer_id,
                    "author_id": m.author_id,
                    "kind": m.kind,
                    "occurred_at": m.occurred_at,
                }
                for p, m in zip(passages, metas, strict=True)
            ],
        )

    def delete_notes(self, interaction_ids: list[int]) -> None:
        """Remove every passage of these notes."""
        for i in range(0, len(interaction_ids), _CHUNK):
            chunk = interaction_ids[i : i + _CHUNK]
            self.collection.delete(where={"interaction_id": {"$in": chunk}})

    def search(self, vector: np.ndarray, k: int, where: dict[str, Any] | None) -> list[DenseHit]:
        """The `k` passages nearest to `vector` among those matching `where`."""
        result = self.collection.query(
            query_embeddings=vector.reshape(1, -1),
            n_results=k,
            where=where,
            include=["metadatas", "distances"],
        )
        hits = []
        for meta, dist in zip(result["metadatas"][0], result["distances"][0], strict=True):
            hits.append(DenseHit(int(meta["interaction_id"]), int(meta["seq"]), 1.0 - float(dist)))
        return hits

    def scan(self, page: int = 1_000) -> Iterator[tuple[list[StoredPassage], np.ndarray]]:
        """Every stored passage with its vector, a page at a time."""
        offset = 0
        while True:
            got = self.collection.get(
                include=["metadatas", "embeddings"], limit=page, offset=offset
            )
            metas = got["metadatas"] or []
            if metas:
                yield [_stored(m) for m in metas], np.asarray(got["embeddings"], np.float32)
            if len(metas) < page:
                return
            offset += page

    def vectors_of(self, interaction_ids: list[int]) -> tuple[list[StoredPassage], np.ndarray]:
        """The stored passages and vectors of these notes (none for a note not stored)."""
        stored: list[StoredPassage] = []
        vectors: list[np.ndarray] = []
        for i in range(0, len(interaction_ids), _CHUNK):
            got = self.collection.get(
                where={"interaction_id": {"$in": interaction_ids[i : i + _CHUNK]}},
                include=["metadatas", "embeddings"],
            )
            metas = got["metadatas"] or []
            if metas:
                stored.extend(_stored(m) for m in metas)
                vectors.append(np.asarray(got["embeddings"], np.float32))
        return stored, (np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32))

    def note_ids(self, page: int = 5_000) -> set[int]:
        """Ids of the notes that have passages in the store."""
        out: set[int] = set()
        offset = 0
        while True:
            got = self.collection.get(include=["metadatas"], limit=page, offset=offset)
            metas = got["metadatas"] or []
            out.update(int(m["interaction_id"]) for m in metas)
            if len(metas) < page:
                return out
            offset += page

    def count(self) -> int:
        """Passages stored."""
        return int(self.collection.count())

    def reset(self) -> None:
        """Drop the collection (reindex starts from nothing)."""
        try:
            self.client.delete_collection(self.name)
        except Exception as exc:  # chromadb raises NotFoundError or ValueError by version
            log.debug("no collection %s to drop: %s", self.name, type(exc).__name__)
        with self._open_lock:
            self._collection = None

    def exists(self, name: str) -> bool:
        """Whether the store holds a collection of this name (raises while it is down)."""
        # chromadb lists Collection objects (1.x) or names (0.6); both answer to this.
        return name in {getattr(c, "name", c) for c in self.client.list_collections()}

    def drop(self, name: str) -> None:
        """Drop another collection of the store (one this index replaced)."""
        self.client.delete_collection(name)

    def heartbeat(self) -> bool:
        """Whether the store answers."""
        try:
            self.client.heartbeat()
            return True
        except Exception:
            return False
