"""The lexical note index: BM25 (bm25s) over passages, filtered inside the scoring."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from retrieval.passages import Passage
from retrieval.snapshots import read_snapshot, write_snapshot
from retrieval.store import NoteMeta
from retrieval.tokens import tokens

log = logging.getLogger(__name__)

# bm25s cannot add or remove documents: changes since the bulk build go to a small "fresh"
# index rebuilt on demand, and replaced passages of the bulk one are masked out.
FRESH_LIMIT = 20_000
# A saved index is only valid for the tokenizer and passage splitter that made it.
SNAPSHOT_VERSION = 1
_COLUMNS = ("note", "seq", "customer", "at", "kind")


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


class Rows:
    """Filter columns of indexed passages as arrays, one row per passage."""

    def __init__(self, cols: dict[str, np.ndarray], kinds: list[str]) -> None:
        self.note = cols["note"]
        self.seq = cols["seq"]
        self.customer = cols["customer"]
        self.at = cols["at"]
        self.kind = cols["kind"]  # codes into `kinds`: a string per row would cost 10x
        self.kinds = kinds

    @classmethod
    def collect(cls) -> tuple[dict[str, list[int]], list[str], dict[str, int]]:
        """Empty column lists and kind table to fill while reading notes."""
        return {c: [] for c in _COLUMNS}, [], {}

    @classmethod
    def from_lists(cls, cols: dict[str, list[int]], kinds: list[str]) -> Rows:
        """Freeze filled column lists into arrays."""
        types = {"note": np.int64, "seq": np.int32, "customer": np.int64, "at": np.int64}
        arrays = {c: np.asarray(cols[c], dtype=types.get(c, np.int16)) for c in _COLUMNS}
        return cls(arrays, kinds)

    @staticmethod
    def add(
        cols: dict[str, list[int]],
        kinds: list[str],
        codes: dict[str, int],
        interaction_id: int,
        seq: int,
        meta: NoteMeta,
    ) -> None:
        """Append one passage's filter fields."""
        code = codes.get(meta.kind)
        if code is None:
            code = codes[meta.kind] = len(kinds)
            kinds.append(meta.kind)
        cols["note"].append(interaction_id)
        cols["seq"].append(seq)
        cols["customer"].append(meta.customer_id)
        cols["at"].append(meta.occurred_at)
        cols["kind"].append(code)

    def __len__(self) -> int:
        return len(self.note)

    def take(self, idx: np.ndarray) -> Rows:
        """These rows only."""
        return Rows({c: np.asarray(getattr(self, c))[idx] for c in _COLUMNS}, list(self.kinds))

    def concat(self, other: Rows) -> Rows:
        """These rows, then `other`'s (its kind codes renumbered into this table)."""
        kinds = list(self.kinds)
        remap = []
        for k in other.kinds:
            if k not in kinds:
                kinds.append(k)
            remap.append(kinds.index(k))
        cols = {c: np.concatenate([getattr(self, c), getattr(other, c)]) for c in _COLUMNS}
        cols["kind"] = np.concatenate(
            [self.kind, np.asarray(remap, np.int16)[np.asarray(other.kind, np.int64)]]
        ).astype(np.int16)
        return Rows(cols, kinds)

    def mask(self, flt: Filter, alive: np.ndarray) -> np.ndarray:
        """Rows `flt` lets through among the `alive` ones."""
        mask = alive.copy()
        if flt.customers is not None:
            mask &= np.isin(self.customer, np.fromiter(flt.customers, np.int64))
        if flt.kinds is not None:
            wanted = [i for i, k in enumerate(self.kinds) if k in flt.kinds]
            mask &= np.isin(self.kind, np.asarray(wanted, dtype=np.int16))
        if flt.since is not None:
            mask &= self.at >= flt.since
        if flt.until is not None:
            mask &= self.at < flt.until
        return mask

    def save(self, path: Path) -> None:
        """Write the columns as .npy files (loaded memory-mapped)."""
        for c in _COLUMNS:
            np.save(path / f"{c}.npy", getattr(self, c))

    @classmethod
    def load(cls, path: Path, kinds: list[str]) -> Rows:
        """Read columns written by `save`."""
        return cls({c: np.load(path / f"{c}.npy", mmap_mode="r") for c in _COLUMNS}, kinds)


class _Segment:
    """An immutable BM25 index over some passages, with filter columns as arrays."""

    def __init__(self, bm25: bm25s.BM25 | None, rows: Rows) -> None:
        self.bm25 = bm25
        self.rows = rows
        self.alive = np.ones(len(rows), dtype=bool)

    @classmethod
    def build(cls, notes: Iterable[tuple[list[Passage], NoteMeta]]) -> _Segment:
        """Index notes as they stream in; keeps token ids, not passage text."""
        cols, kinds, codes = Rows.collect()
        # Token ids reuse the vocabulary's int objects: a list of strings per passage would
        # hold hundreds of MB at 200,000 notes while bm25s builds.
        vocab: dict[str, int] = {"": 0}
        docs: list[list[int]] = []
        for passages, meta in notes:
            for p in passages:
                docs.append([vocab.setdefault(t, len(vocab)) for t in tokens(p.text)])
                Rows.add(cols, kinds, codes, p.interaction_id, p.seq, meta)
        bm25 = None
        if docs:
            bm25 = bm25s.BM25()
            bm25.index((docs, vocab), show_progress=False)
        return cls(bm25, Rows.from_lists(cols, kinds))

    def search(self, query: list[str], k: int, flt: Filter) -> list[LexicalHit]:
        if self.bm25 is None or not query:
            return []
        mask = self.rows.mask(flt, self.alive)
        if not mask.any():
            return []
        scores = np.where(mask, self.bm25.get_scores(query), 0.0)
        n = min(k, int(np.count_nonzero(scores)))
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        note, seq = self.rows.note, self.rows.seq
        return [LexicalHit(int(note[i]), int(seq[i]), float(scores[i])) for i in top]


class LexicalIndex:
    """BM25 over every live note's passages: a bulk segment plus a small fresh one."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._bulk = _Segment.build([])
        # Rows of a bulk note: order[lo:hi] where sorted_notes[lo:hi] == note (no dict of
        # 200,000 small arrays).
        self._order = np.zeros(0, dtype=np.int64)
        self._sorted_notes = np.zeros(0, dtype=np.int64)
        self._fresh: dict[int, tuple[list[Passage], NoteMeta]] = {}
        self._fresh_segment: _Segment | None = None

    def build(self, notes: Iterable[tuple[list[Passage], NoteMeta]]) -> None:
        """Replace everything with these notes (passages and filter fields)."""
        self._install(_Segment.build(notes))

    def _install(self, bulk: _Segment) -> None:
        note = np.asarray(bulk.rows.note)
        order = np.argsort(note, kind="stable")
        with self._lock:
            self._bulk = bulk
            self._order = order
            self._sorted_notes = note[order]
            self._fresh = {}
            self._fresh_segment = None

    def _rows_of(self, interaction_id: int) -> np.ndarray:
        lo, hi = np.searchsorted(self._sorted_notes, [interaction_id, interaction_id + 1])
        return self._order[lo:hi]

    def apply(self, changes: list[tuple[int, tuple[list[Passage], NoteMeta] | None]]) -> None:
        """Notes that changed since the build: new passages, or None for a note now gone."""
        with self._lock:
            for interaction_id, note in changes:
                self._bulk.alive[self._rows_of(interaction_id)] = False
                if note is None:
                    self._fresh.pop(interaction_id, None)
                else:
                    self._fresh[interaction_id] = note
            self._fresh_segment = None

    @property
    def fresh_size(self) -> int:
        """Notes held outside the bulk segment (a rebuild folds them in)."""
        return len(self._fresh)

    def live_notes(self) -> int:
        """Distinct live notes held."""
        with self._lock:
            # A note in the fresh segment has its bulk rows masked: no note counts twice.
            alive = np.asarray(self._bulk.rows.note)[self._bulk.alive]
            return len(np.unique(alive)) + len(self._fresh)

    def search(self, query: str, k: int, flt: Filter) -> list[LexicalHit]:
        """The best `k` passages for `query` among those `flt` lets through."""
        terms = tokens(query)
        with self._lock:
            bulk = self._bulk
            if self._fresh and self._fresh_segment is None:
                self._fresh_segment = _Segment.build(self._fresh.values())
            fresh = self._fresh_segment if self._fresh else None
            hits = bulk.search(terms, k, flt)
        if fresh is not None:
            # Scores of two BM25 segments differ a little in IDF; close enough to merge by score.
            hits = sorted([*hits, *fresh.search(terms, k, flt)], key=lambda h: -h.score)[:k]
        return hits

    # -- snapshots: a restarted process loads the bulk segment instead of re-tokenizing ----

    def save(self, root: Path, meta: dict[str, Any]) -> None:
        """Write the bulk segment (right after a build) and `meta` under `root`."""
        with self._lock:
            bulk = self._bulk

        def fill(path: Path) -> None:
            if bulk.bm25 is not None:
                bulk.bm25.save(str(path / "bm25"), show_progress=False)
            bulk.rows.save(path)

        write_snapshot(root, fill, {**meta, "version": SNAPSHOT_VERSION, "kinds": bulk.rows.kinds})

    def load(self, root: Path) -> dict[str, Any] | None:
        """Load the saved bulk segment; its meta, or None when there is no usable snapshot."""
        try:
            path, meta = read_snapshot(root)
            if meta.get("version") != SNAPSHOT_VERSION:
                return None
            rows = Rows.load(path, list(meta["kinds"]))
            bm25 = None
            if (path / "bm25").exists():
                # Memory-mapped: only the columns of the words asked about are read.
                bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True)
        except FileNotFoundError:
            return None  # none saved yet: the usual first start
        except (OSError, ValueError, KeyError) as exc:
            log.info("no usable lexical snapshot (%s)", type(exc).__name__)
            return None
        self._install(_Segment(bm25, rows))
        return meta
