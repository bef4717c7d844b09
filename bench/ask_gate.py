"""Evidence the answer gate weighs, for every question of the three read sets, in one run.

    .venv/bin/python bench/ask_gate.py            # writes bench/out/ask_gate.json

The book is imported and indexed once; each question's evidence, gold notes and ranking are
saved so gate thresholds can be chosen on the tuning set (and only reported on the held-out one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path

from bot.asking import ask_one, batch_lines, eval_book, score
from crm_core.errors import CrmError

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "tuning": ROOT / "tests/data/ask_questions.jsonl",
    "heldout": ROOT / "tests/data/ask_heldout_questions.jsonl",
    "blind2": ROOT / "tests/data/ask_blind2_questions.jsonl",
}


def main() -> None:
    """Run both sets over one imported book and save what each question saw."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT / "tests/data/ask_notes.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/ask_gate.json")
    args = ap.parse_args()
    out: dict[str, object] = {}
    with eval_book(args.data) as (app, moment, figures):
        out["index"] = figures
        for name, path in SETS.items():
            items = [i for _, i in batch_lines(path.read_text(encoding="utf-8").splitlines())]
            started = time.perf_counter()
            report = score(app, items, moment)
            report["seconds"] = round(time.perf_counter() - started, 2)
            for r, item in zip(report["results"], items, strict=True):
                r["lang"] = item.get("lang")
                r["question"] = item["question"]
            out[name] = report
            print(name, report["overall"], "leaks", report["permission_leaks"], report["seconds"])
            # Each question asked once more, timed alone: what one `ask` costs on this book.
            took = []
            for item in items:
                started = time.perf_counter()
                with contextlib.suppress(CrmError):
                    ask_one(
                        app,
                        str(item["asker"]),
                        item.get("customer"),
                        str(item["question"]),
                        now=moment,
                    )
                took.append((time.perf_counter() - started) * 1000)
            took.sort()
            report["ask_ms"] = {
                "p50": round(took[len(took) // 2], 1),
                "p95": round(took[int(len(took) * 0.95)], 1),
            }
            print(name, "ask ms", report["ask_ms"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
