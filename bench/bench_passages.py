"""Splitting and indexing one huge note: what a single imported note costs every index build.

.venv/bin/python bench/bench_passages.py            # 1, 5 and 50 MB notes
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crm_core.models import Interaction, InteractionKind  # noqa: E402
from retrieval.answer import best_sentences, coverage  # noqa: E402
from retrieval.lexical import LexicalIndex  # noqa: E402
from retrieval.passages import split_note  # noqa: E402
from retrieval.store import NoteMeta  # noqa: E402

# A pasted transcript with no sentence ends (the case that was quadratic), and prose.
TOPIC = {"dana", "discount"}
UNITS = {"no sentence ends": "word ", "prose": "Dana asked for 12% off the renewal. "}


def _best(fn: object, repeat: int = 3) -> float:
    """Fastest of `repeat` runs of `fn()`, seconds (the machine is shared)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    """Time split, BM25 build and an extractive answer for one note of each size."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=float, nargs="*", default=[1, 5, 50])
    args = ap.parse_args()
    meta = NoteMeta(customer_id=1, author_id=1, kind="note", occurred_at=0)
    print("| note | size | passages | split ms | BM25 build ms | answer ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, unit in UNITS.items():
        for mb in args.mb:
            size = int(mb * 1_000_000)
            text = (unit * (size // len(unit) + 1))[:size]
            passages = split_note(1, text)
            split = _best(lambda t=text: split_note(1, t))
            build = _best(lambda t=text: LexicalIndex().build([(split_note(1, t), meta)]))
            note = Interaction(
                id=1, kind=InteractionKind.note, occurred_at=datetime.now(UTC), text=text
            )
            answer = _best(lambda n=note: (coverage(n, TOPIC), best_sentences(n, 0, TOPIC)))
            print(
                f"| {label} | {mb:g} MB | {len(passages)} | {split * 1000:.1f} | "
                f"{build * 1000:.1f} | {answer * 1000:.1f} |"
            )


if __name__ == "__main__":
    main()
