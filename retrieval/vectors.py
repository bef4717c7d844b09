"""Note vectors held in the serving process, for exact search over the notes one may see.

Chroma's filtered query walks its HNSW graph past every note the filter rejects (130-300 ms
at 200,000 notes for one customer's notes) and reads its metadata without an index. A rep's
or a manager's notes are a few thousand rows: scoring exactly those rows here takes a few
milliseconds. Chroma stays the store these vectors are read from and the search for large
sets (an admin's question), where its filter lets most rows through.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.lexical import Filter, Rows
from retrieval.snapshots import read_snapshot, write_snapshot
from retrieval.store import DenseHit, StoredPassage

log = logging.getLogger(__name__)

# Filters that let more rows through than this are searched by Chroma's HNSW index.
EXACT_LIMIT = 30_000
# Notes changed since the load are kept apart until there are this many, then folded in.
FOLD_LIMIT = 20_000
# Rows scored per step: bounds the float32 copy made of the float16 rows.
_STEP = 8_192
# 2: passages of the second splitter (retrieval.passages.SPLITTER_VERSION).
SNAPSHOT_VERSION = 2


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _table(
    parts: Iterable[tuple[list[StoredPassage], np.ndarray]], expected: int = 0
) -> tuple[Rows, np.ndarray]:
    cols, kinds, codes = Rows.collect()
    # Filled in place: a list of pages joined at the end would hold the vectors twice.
    matrix = np.zeros((0, 0), np.float16)
    n = 0
    for stored, vectors in parts:
        if not len(stored):
            continue
        for sp in stored:
            Rows.add(cols, kinds, codes, sp.interaction_id, sp.seq, sp.meta)
        if matrix.shape[1] != vectors.shape[1]:
            matrix = np.empty((max(expected, len(stored)), vectors.shape[1]), np.float16)
        if n + len(stored) > len(matrix):
            # More than expected (written while read): grow by half again.
            rows = max(n + len(stored), len(matrix) * 3 // 2)
            grown = np.empty((rows, matrix.shape[1]), np.float16)
            grown[:n] = matrix[:n]
            matrix = grown
        # Unit length, half precision: 768 bytes a passage with the 384-dim E5 model.
        matrix[n : n + len(stored)] = _unit(vectors)
        n += len(stored)
    return Rows.from_lists(cols, kinds), matrix[:n]


class VectorTable:
    """Unit vectors (float16) of stored passages with their filter columns."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._rows, self._matrix = _table([])
        self._alive = np.ones(0, dtype=bool)
        self._order = np.zeros(0, dtype=np.int64)
        self._sorted_notes = np.zeros(0, dtype=np.int64)
        self._fresh: dict[int, tuple[list[StoredPassage], np.ndarray]] = {}
        self._fresh_table: tuple[Rows, np.ndarray] | None = None
        self.loaded = False
        self.folds = 0

    def load(
        self, parts: Iterable[tuple[list[StoredPassage], np.ndarray]], expected: int = 0
    ) -> None:
        """Replace everything with these passages and vectors (`expected`: about how many)."""
        self._install(*_table(parts, expected))

    def _install(self, rows: Rows, matrix: np.ndarray) -> None:
        note = np.asarray(rows.note)
        order = np.argsort(note, kind="stable")
        with self._lock:
            self._rows, self._matrix = rows, matrix
            self._alive = np.ones(len(rows), dtype=bool)
            self._order, self._sorted_notes = order, note[order]
            self._fresh = {}
            self._fresh_table = None
            self.loaded = True

    def apply(
        self, changed: Iterable[int], stored: list[StoredPassage], vectors: np.ndarray
    ) -> None:
        """Notes that changed in the store, with what the store now holds for them."""
        now: dict[int, tuple[list[StoredPassage], list[int]]] = {}
        for i, sp in enumerate(stored):
            entry = now.setdefault(sp.interaction_id, ([], []))
            entry[0].append(sp)
            entry[1].append(i)
        with self._lock:
            for iid in set(changed) | set(now):
                lo, hi = np.searchsorted(self._sorted_notes, [iid, iid + 1])
                self._alive[self._order[lo:hi]] = False
                if iid in now:
                    passages, rows = now[iid]
                    self._fresh[iid] = (passages, vectors[rows])
                else:
                    self._fresh.pop(iid, None)
            self._fresh_table = None
            if len(self._fresh) > FOLD_LIMIT:
                self._fold()

    def _fold(self) -> None:
        keep = np.flatnonzero(self._alive)
        rows, matrix = self._rows.take(keep), np.asarray(self._matrix[keep])
        fresh = self._fresh_part()
        if fresh is not None:
            rows, matrix = rows.concat(fresh[0]), np.concatenate([matrix, fresh[1]])
        self._install(rows, matrix)
        self.folds += 1

    def _fresh_parts(self) -> tuple[list[StoredPassage], np.ndarray]:
        stored = [sp for ps, _ in self._fresh.values() for sp in ps]
        return stored, np.concatenate([v for _, v in self._fresh.values()])

    def _fresh_part(self) -> tuple[Rows, np.ndarray] | None:
        if not self._fresh:
            return None
        if self._fresh_table is None:
            self._fresh_table = _table([self._fresh_parts()])
        return self._fresh_table

    @property
    def size(self) -> int:
        """Passages held."""
        with self._lock:
            return int(self._alive.sum()) + sum(len(ps) for ps, _ in self._fresh.values())

    def search(
        self, vector: np.ndarray, k: int, flt: Filter, *, limit: int | None = None
    ) -> list[DenseHit] | None:
        """The `k` passages most similar to `vector` among those `flt` lets through (exact);
        None when more than `limit` pass (a search for the HNSW index)."""
        q = _unit(vector.reshape(1, -1))[0]
        with self._lock:
            parts = [(self._rows, self._matrix, self._alive)]
            fresh = self._fresh_part()
        if fresh is not None:
            parts.append((fresh[0], fresh[1], np.ones(len(fresh[0]), dtype=bool)))
        allowed = [np.flatnonzero(rows.mask(flt, alive)) for rows, _, alive in parts]
        if limit is not None and sum(len(idx) for idx in allowed) > limit:
            return None
        found: list[tuple[float, int, int]] = []
        for (rows, matrix, _), idx in zip(parts, allowed, strict=True):
            if not len(idx):
                continue
            sims = np.concatenate(
                [
                    matrix[idx[i : i + _STEP]].astype(np.float32) @ q
                    for i in range(0, len(idx), _STEP)
                ]
            )
            n = min(k, len(idx))
            top = np.argpartition(-sims, n - 1)[:n]
            found.extend(
                (float(sims[t]), int(rows.note[idx[t]]), int(rows.seq[idx[t]])) for t in top
            )
        found.sort(key=lambda f: -f[0])
        return [DenseHit(note, seq, sim) for sim, note, seq in found[:k]]

    # -- snapshots ---------------------------------------------------------------------------

    def save(self, root: Path, meta: dict[str, Any]) -> None:
        """Write the table (folded) and `meta` under `root`."""
        with self._lock:
            if self._fresh or not self._alive.all():
                self._fold()
            rows, matrix = self._rows, self._matrix

        def fill(path: Path) -> None:
            rows.save(path)
            np.save(path / "vectors.npy", matrix)

        write_snapshot(root, fill, {**meta, "version": SNAPSHOT_VERSION, "kinds": rows.kinds})

    def load_snapshot(self, root: Path) -> dict[str, Any] | None:
        """Load a saved table; its meta, or None when there is no usable snapshot."""
        try:
            path, meta = read_snapshot(root)
            if meta.get("version") != SNAPSHOT_VERSION:
                return None
            rows = Rows.load(path, list(meta["kinds"]))
            matrix = np.load(path / "vectors.npy")
        except FileNotFoundError:
            return None  # none saved yet: the usual first start
        except (OSError, ValueError, KeyError) as exc:
            log.info("no usable vector snapshot (%s)", type(exc).__name__)
            return None
        self._install(rows, matrix)
        return meta
