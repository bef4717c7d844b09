"""The lexical note index: BM25 over passages, weighted by and filtered to what one may see."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.passages import NoteMeta, Passage
from retrieval.snapshots import read_snapshot, write_snapshot
from retrieval.tokens import tokens

log = logging.getLogger(__name__)

# The postings are immutable arrays: changes since the bulk build go to a small "fresh" index
# rebuilt on demand, and replaced passages of the bulk one are masked out.
FRESH_LIMIT = 20_000
# A saved index is only valid for the tokenizer, passage splitter and layout that made it.
SNAPSHOT_VERSION = 4
# BM25's constants, Lucene's formula (those of bm25s, which this index used before).
K1 = 1.5
B = 0.75
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


@dataclass(frozen=True)
class Stats:
    """What BM25 weighs a query's terms by, counted over the passages one may see."""

    passages: int
    length: int  # tokens in those passages
    df: tuple[int, ...]  # passages holding each query term

    def __add__(self, other: Stats) -> Stats:
        df = tuple(a + b for a, b in zip(self.df, other.df, strict=True))
        return Stats(self.passages + other.passages, self.length + other.length, df)


class Postings:
    """Term counts per passage, by term: the passages holding each term and how often."""

    def __init__(
        self,
        vocab: dict[str, int],
        indptr: np.ndarray,
        docs: np.ndarray,
        tf: np.ndarray,
        length: np.ndarray,
    ) -> None:
        self.vocab = vocab
        self.indptr = indptr  # term t's postings are docs[indptr[t]:indptr[t + 1]]
        self.docs = docs
        self.tf = tf
        self.length = length  # tokens per passage

    @classmethod
    def build(cls, vocab: dict[str, int], docs: list[list[int]]) -> Postings:
        """Postings of passages given as lists of term ids into `vocab`."""
        n = len(docs)
        length = np.fromiter(map(len, docs), dtype=np.int32, count=n)
        terms = np.fromiter(chain.from_iterable(docs), dtype=np.int64, count=int(length.sum()))
        # One key per (term, passage): sorting them groups each term's passages together.
        keys, counts = np.unique(terms * n + np.repeat(np.arange(n), length), return_counts=True)
        term = keys // max(n, 1)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=len(vocab)), out=indptr[1:])
        return cls(
            vocab,
            indptr,
            (keys % max(n, 1)).astype(np.int32),
            np.minimum(counts, np.iinfo(np.uint16).max).astype(np.uint16),
            length,
        )

    def _span(self, term: str) -> tuple[int, int]:
        t = self.vocab.get(term)
        if t is None:
            return 0, 0
        return int(self.indptr[t]), int(self.indptr[t + 1])

    def stats(self, query: list[str], mask: np.ndarray) -> Stats:
        """Passages let through by `mask`, their tokens, and how many hold each term."""
        df = []
        for term in query:
            lo, hi = self._span(term)
            df.append(int(np.count_nonzero(mask[self.docs[lo:hi]])))
        return Stats(int(np.count_nonzero(mask)), int(self.length[mask].sum()), tuple(df))

    def scores(self, query: list[str], mask: np.ndarray, stats: Stats) -> np.ndarray:
        """BM25 of every passage `mask` lets through (0 elsewhere), weighted by `stats`."""
        scores = np.zeros(len(self.length), dtype=np.float32)
        if stats.passages == 0:
            return scores
        avg = max(stats.length / stats.passages, 1e-9)
        for term, df in zip(query, stats.df, strict=True):
            lo, hi = self._span(term)
            if df == 0:
                continue
            docs = np.asarray(self.docs[lo:hi])
            keep = mask[docs]
            docs = docs[keep]
            tf = np.asarray(self.tf[lo:hi])[keep].astype(np.float32)
            idf = math.log(1 + (stats.passages - df + 0.5) / (df + 0.5))
            norm = K1 * ((1 - B) + B * self.length[docs] / avg)
            # A term's postings name each passage once: plain fancy-index addition is exact.
            scores[docs] += np.float32(idf) * tf / (norm + tf)
        return scores

    def save(self, path: Path) -> None:
        """Write the arrays as .npy files (loaded memory-mapped) and the vocabulary as JSON."""
        for name in ("indptr", "docs", "tf", "length"):
            np.save(path / f"{name}.npy", getattr(self, name))
        (path / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> Postings:
        """Read what `save` wrote; only the postings of the terms asked about are read."""
        arrays = {
            name: np.load(path / f"{name}.npy", mmap_mode="r")
            for name in ("indptr", "docs", "tf", "length")
        }
        vocab = json.loads((path / "vocab.json").read_text())
        if not isinstance(vocab, dict):
            raise ValueError("vocabulary is not an object")
        # Lengths are read for every question (the average over what one may see): in memory.
        arrays["length"] = np.asarray(arrays["length"])
        return cls(vocab, **arrays)


class _Segment:
    """Immutable BM25 postings over some passages, with filter columns as arrays."""

    def __init__(self, postings: Postings, rows: Rows) -> None:
        self.postings = postings
        self.rows = rows
        self.alive = np.ones(len(rows), dtype=bool)

    @classmethod
    def build(cls, notes: Iterable[tuple[list[Passage], NoteMeta]]) -> _Segment:
        """Index notes as they stream in; keeps token ids, not passage text."""
        cols, kinds, codes = Rows.collect()
        # Token ids reuse the vocabulary's int objects: a list of strings per passage would
        # hold hundreds of MB at 200,000 notes while the postings are built.
        vocab: dict[str, int] = {}
        docs: list[list[int]] = []
        for passages, meta in notes:
            for p in passages:
                docs.append([vocab.setdefault(t, len(vocab)) for t in tokens(p.text)])
                Rows.add(cols, kinds, codes, p.interaction_id, p.seq, meta)
        return cls(Postings.build(vocab, docs), Rows.from_lists(cols, kinds))

    def stats(self, query: list[str], flt: Filter) -> tuple[np.ndarray, Stats]:
        """The rows `flt` lets through and BM25's statistics over them."""
        mask = self.rows.mask(flt, self.alive)
        return mask, self.postings.stats(query, mask)

    def search(self, query: list[str], k: int, mask: np.ndarray, stats: Stats) -> list[LexicalHit]:
        if not query or not mask.any():
            return []
        scores = self.postings.scores(query, mask, stats)
        top = np.flatnonzero(scores)
        if len(top) > k:
            kth = np.partition(scores[top], len(top) - k)[len(top) - k]
            top = top[scores[top] >= kth]
        note, seq = np.asarray(self.rows.note)[top], np.asarray(self.rows.seq)[top]
        # Ties go to the newer note whatever the rows' layout: with notes others own deleted,
        # or an index built afresh, the same passages come in the same order.
        best = scores[top]
        order = np.lexsort((seq, -note, -best))[:k]
        return [LexicalHit(int(note[i]), int(seq[i]), float(best[i])) for i in order]


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

    def frequencies(self, terms: list[str], flt: Filter) -> tuple[int, dict[str, int]]:
        """Passages `flt` lets through, and how many of them hold each term."""
        with self._lock:
            if self._fresh and self._fresh_segment is None:
                self._fresh_segment = _Segment.build(self._fresh.values())
            segments = [self._bulk]
            if self._fresh and self._fresh_segment is not None:
                segments.append(self._fresh_segment)
            seen = [seg.stats(terms, flt)[1] for seg in segments]
        stats = seen[0]
        for more in seen[1:]:
            stats = stats + more
        return stats.passages, dict(zip(terms, stats.df, strict=True))

    def search(
        self, query: str, k: int, flt: Filter, *, drop: frozenset[str] = frozenset()
    ) -> list[LexicalHit]:
        """The best `k` passages for `query` (less the terms in `drop`) that `flt` lets through.

        Term weights (IDF) and the average passage length are counted over those passages
        only, so a ranking depends on nothing the asker may not see.
        """
        return self.search_terms([t for t in tokens(query) if t not in drop], k, flt)

    def search_terms(self, terms: list[str], k: int, flt: Filter) -> list[LexicalHit]:
        """The best `k` passages for these index terms that `flt` lets through."""
        with self._lock:
            if self._fresh and self._fresh_segment is None:
                self._fresh_segment = _Segment.build(self._fresh.values())
            segments = [self._bulk]
            if self._fresh and self._fresh_segment is not None:
                segments.append(self._fresh_segment)
            # Masks are taken under the lock: `apply` changes the bulk segment's alive rows.
            seen = [seg.stats(terms, flt) for seg in segments]
        stats = seen[0][1]
        for _, more in seen[1:]:
            stats = stats + more
        hits = [
            h
            for seg, (mask, _) in zip(segments, seen, strict=True)
            for h in seg.search(terms, k, mask, stats)
        ]
        # Both segments are weighted by the same statistics: their scores compare exactly.
        return sorted(hits, key=lambda h: (-h.score, -h.interaction_id, h.seq))[:k]

    # -- snapshots: a restarted process loads the bulk segment instead of re-tokenizing ----

    def save(self, root: Path, meta: dict[str, Any]) -> None:
        """Write the bulk segment (right after a build) and `meta` under `root`."""
        with self._lock:
            bulk = self._bulk

        def fill(path: Path) -> None:
            bulk.postings.save(path)
            bulk.rows.save(path)

        write_snapshot(root, fill, {**meta, "version": SNAPSHOT_VERSION, "kinds": bulk.rows.kinds})

    def load(self, root: Path) -> dict[str, Any] | None:
        """Load the saved bulk segment; its meta, or None when there is no usable snapshot."""
        try:
            path, meta = read_snapshot(root)
            if meta.get("version") != SNAPSHOT_VERSION:
                return None
            rows = Rows.load(path, list(meta["kinds"]))
            postings = Postings.load(path)
        except FileNotFoundError:
            return None  # none saved yet: the usual first start
        except (OSError, ValueError, KeyError) as exc:
            log.info("no usable lexical snapshot (%s)", type(exc).__name__)
            return None
        self._install(_Segment(postings, rows))
        return meta
