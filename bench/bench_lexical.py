"""The lexical (BM25) step of `ask` alone: build time and search time per filter size.

Reads the loaded database `bench/bench_ask.py` (or `bench_verbs.py`) made for that scale.

    .venv/bin/python bench/bench_lexical.py --customers 1000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session  # noqa: E402

from bench.bench_ask import QUESTIONS  # noqa: E402
from bench.bench_verbs import OUT, percentile  # noqa: E402
from crm_core.db import make_engine  # noqa: E402
from retrieval.lexical import Filter, LexicalIndex  # noqa: E402
from retrieval.notes import live_notes  # noqa: E402


def main() -> None:
    """Build the lexical index of the loaded book, then time searches under four filters."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    db = OUT / f"bench-{args.customers}.sqlite"
    if not db.exists():
        raise SystemExit(f"{db} is missing: run bench/bench_ask.py --customers {args.customers}")
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        notes = [n for batch in live_notes(s) for n in batch]
    engine.dispose()
    started = time.perf_counter()
    index = LexicalIndex()
    index.build((n.passages, n.meta) for n in notes)
    print(f"built over {len(notes)} notes in {time.perf_counter() - started:.2f} s")
    customers = sorted({n.meta.customer_id for n in notes})
    rng = random.Random(1)
    filters: dict[str, Callable[[], Filter]] = {
        "one customer": lambda: Filter(customers=frozenset({rng.choice(customers)})),
        "20 customers": lambda: Filter(customers=frozenset(rng.sample(customers, 20))),
        "300 customers": lambda: Filter(customers=frozenset(rng.sample(customers, 300))),
        "every note": Filter,
    }
    print("| filter | p50 ms | p95 ms |")
    print("|---|---:|---:|")
    for label, make in filters.items():
        times = []
        for _ in range(args.rounds):
            flt, question = make(), rng.choice(QUESTIONS)
            t0 = time.perf_counter()
            index.search(question, 50, flt)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"| {label} | {percentile(times, 50):.2f} | {percentile(times, 95):.2f} |")


if __name__ == "__main__":
    main()
