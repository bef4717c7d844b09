"""The lexical note index: BM25 (bm25s) over passages, filtered inside the scoring."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import bm25s
import numpy as np

from retrieval.passages import Passage
from retrieval.store import NoteMeta
from retrieval.tokens import tokens

# bm25s cannot add or remove documents: changes since the bulk build go to a small "fresh"
# index rebuilt on demand, and replaced passages of the bulk one are masked out.
FRESH_LIMIT = 20_000


@dataclass(frozen=True)
class Filter:
    """What a search may return: customers (None: all), kinds (None: all), a time window."""

    customers: frozenset[int] | None = None
    kinds: frozenset[str] | None = None
    since: int | None = None  # epoch seconds, inclusive
    until: int | None = None  # epoch seconds, exclusive


@dataclass(frozen=True)
class LexicalHit:
    """One passage found by BM25."""

    interaction_id: int
    seq: int
    score: float


class _Segment:
    """An immutable BM25 index over some passages, with filter columns as arrays."""

    def __init__(self, passages: list[Passage], metas: list[NoteMeta]) -> None:
        self.passages = passages
        self.note = np.fromiter((p.interaction_id for p in passages), np.int64, len(passages))
        self.customer = np.fromiter((m.customer_id for m in metas), np.int64, len(metas))
        self.at = np.fromiter((m.occurred_at for m in metas), np.int64, len(metas))
        self.kind = np.array([m.kind for m in metas], dtype=object)
        self.alive = np.ones(len(passages), dtype=bool)
        self.bm25 = bm25s.BM25()
        if passages:
            self.bm25.index([tokens(p.text) for p in passages], show_progress=False)

    def search(self, query: list[str], k: int, flt: Filter) -> list[LexicalHit]:
        if not self.passages or not query:
            return []
        mask = self.alive.copy()
        if flt.customers is not None:
            mask &= np.isin(self.customer, np.fromiter(flt.customers, np.int64))
        if flt.kinds is not None:
            mask &= np.isin(self.kind, list(flt.kinds))
        if flt.since is not None:
            mask &= self.at >= flt.since
        if flt.until is not None:
            mask &= self.at < flt.until
        if not mask.any():
            return []
        scores = np.where(mask, self.bm25.get_scores(query), 0.0)
        n = min(k, int(np.count_nonzero(scores)))
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [LexicalHit(int(self.note[i]), self.passages[i].seq, float(scores[i])) for i in top]


class LexicalIndex:
    """BM25 over every live note's passages: a bulk segment plus a small fresh one."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._bulk = _Segment([], [])
        self._bulk_rows: dict[int, np.ndarray] = {}
        self._fresh: dict[int, tuple[list[Passage], NoteMeta]] = {}
        self._fresh_segment: _Segment | None = None

    def build(self, notes: list[tuple[list[Passage], NoteMeta]]) -> None:
        """Replace everything with these notes (passages and filter fields)."""
        passages = [p for ps, _ in notes for p in ps]
        metas = [m for ps, m in notes for _ in ps]
        bulk = _Segment(passages, metas)
        rows: dict[int, list[int]] = {}
        for i, p in enumerate(passages):
            rows.setdefault(p.interaction_id, []).append(i)
        with self._lock:
            self._bulk = bulk
            self._bulk_rows = {k: np.array(v) for k, v in rows.items()}
            self._fresh = {}
            self._fresh_segment = None

    def apply(self, changes: list[tuple[int, tuple[list[Passage], NoteMeta] | None]]) -> None:
        """Notes that changed since the build: new passages, or None for a note now gone."""
        with self._lock:
            for interaction_id, note in changes:
                rows = self._bulk_rows.get(interaction_id)
                if rows is not None:
                    self._bulk.alive[rows] = False
                if note is None:
                    self._fresh.pop(interaction_id, None)
                else:
                    self._fresh[interaction_id] = note
            self._fresh_segment = None

    @property
    def fresh_size(self) -> int:
        """Notes held outside the bulk segment (a rebuild folds them in)."""
        return len(self._fresh)

    @property
    def size(self) -> int:
        """Live passages."""
        with self._lock:
            fresh = sum(len(ps) for ps, _ in self._fresh.values())
            return int(self._bulk.alive.sum()) + fresh

    def search(self, query: str, k: int, flt: Filter) -> list[LexicalHit]:
        """The best `k` passages for `query` among those `flt` lets through."""
        terms = tokens(query)
        with self._lock:
            bulk = self._bulk
            if self._fresh and self._fresh_segment is None:
                notes = list(self._fresh.values())
                self._fresh_segment = _Segment(
                    [p for ps, _ in notes for p in ps], [m for ps, m in notes for _ in ps]
                )
            fresh = self._fresh_segment if self._fresh else None
            hits = bulk.search(terms, k, flt)
        if fresh is not None:
            # Scores of two BM25 segments differ a little in IDF; close enough to merge by score.
            hits = sorted([*hits, *fresh.search(terms, k, flt)], key=lambda h: -h.score)[:k]
        return hits
