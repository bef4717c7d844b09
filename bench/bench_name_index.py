"""CPU of bringing the name index's copy of the customers up to date after one change: patched
(`NameBook.updated`) against built whole, rows in memory.

The rows are the kept 10,000-customer SQLite book's (bench/book.py), repeated `--copies` times
with ids and keys made distinct (10 copies: 100,000 customers).

    .venv/bin/python bench/bench_name_index.py --copies 1
    .venv/bin/python bench/bench_name_index.py --copies 10
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.book import open_book  # noqa: E402
from crm_core import name_index  # noqa: E402
from crm_core.db import make_session_factory  # noqa: E402
from crm_core.services.duplicates import dedup_key  # noqa: E402


def main() -> None:
    """Time both ways; print one line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    engine, _ = open_book(10_000, 1, None)
    with make_session_factory(engine)() as session:
        base = session.connection().execute(name_index._NAME_ROWS).all()
    engine.dispose()
    rows = [
        (r[0] + k * 10_000_000, r[1], r[2] + (f" {k}" if k else ""), *r[3:])
        for k in range(args.copies)
        for r in base
    ]
    rows.sort(key=lambda r: r[0])
    rng = random.Random(1)
    book = name_index.NameBook(1, rows, seq=1, epoch=1)
    book._scoring_arrays()
    book.dedup_keys(dedup_key)
    whole, patched = [], []
    for run in range(args.runs):
        started = time.thread_time()
        fresh = name_index.NameBook(2, rows, seq=2, epoch=1)
        fresh._scoring_arrays()
        fresh.dedup_keys(dedup_key)
        whole.append(time.thread_time() - started)
        r = rng.choice(rows)
        row = (r[0], r[1] + " x", r[2] + " x", r[3], r[4], r[5], "Leeds")
        started = time.thread_time()
        book = book.updated(3 + run, 3 + run, 1, {int(r[0]): row})
        patched.append(time.thread_time() - started)
    print(
        f"{len(rows)} customers: built whole (lists, scoring arrays, blocking keys) p50 "
        f"{statistics.median(whole) * 1000:.1f} ms; one row patched p50 "
        f"{statistics.median(patched) * 1000:.2f} ms, max {max(patched) * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
