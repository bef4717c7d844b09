"""How cost grows with the book: the verb and report benchmarks at several sizes, one table.

Runs bench_verbs.py and bench_reports.py for each size on SQLite and, with --pg-url, on
PostgreSQL (each on its kept book, bench/book.py: built on first use), keeps every run's full
output under bench/out/scaling/, and prints one Markdown table: p95 per verb (and report) and
person at each size and database, with the thread's CPU p95 beside the verbs' (the part of the
time that is not waiting for a busy core).

    .venv/bin/python bench/scaling.py --pg-url postgresql+psycopg://USER:PW@HOST/DB
    .venv/bin/python bench/scaling.py --sizes 1000 10000 --runs 50 --report-runs 10
    .venv/bin/python bench/scaling.py --saved      # the table again from the kept outputs
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "scaling"

Key = tuple[str, str]  # (verb or report, person)
Cell = tuple[float, float | None]  # (wall p95, CPU p95)


def _run(script: str, size: int, runs: int, pg_url: str | None) -> str:
    cmd = [sys.executable, str(ROOT / "bench" / script), "--customers", str(size)]
    cmd += ["--runs", str(runs)] + (["--pg-url", pg_url] if pg_url else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout


def _rows(output: str, verbs: bool) -> dict[Key, Cell]:
    """The p95 (and CPU p95) of each `| name | person | ...` row of a bench's table."""
    out: dict[Key, Cell] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or cells[1] not in ("alice", "bob", "admin"):
            continue
        if verbs:  # verb | as | visible | p50 | p95 | mean | CPU p50 | CPU p95 | replies
            out[(cells[0], cells[1])] = (float(cells[4]), float(cells[7]))
        else:  # report | as | p50 | p95 | mean | replies
            out[(cells[0], cells[1])] = (float(cells[3]), None)
    return out


def main() -> None:
    """Run every size on every database; print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--pg-url", default=None)
    ap.add_argument("--runs", type=int, default=100, help="timed calls per verb and person")
    ap.add_argument("--report-runs", type=int, default=10, help="timed calls per report")
    ap.add_argument("--no-reports", action="store_true")
    ap.add_argument(
        "--saved", action="store_true", help="only build the table from bench/out/scaling/"
    )
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    backends = [("SQLite", None)] + (
        [("PostgreSQL", args.pg_url)] if args.pg_url or args.saved else []
    )
    columns: list[str] = []
    table: dict[Key, dict[str, Cell]] = {}
    order: list[Key] = []
    for name, url in backends:
        for size in args.sizes:
            column = f"{name} {size:,}"
            columns.append(column)
            jobs = [("bench_verbs.py", args.runs, True)]
            if not args.no_reports:
                jobs.append(("bench_reports.py", args.report_runs, False))
            for script, runs, verbs in jobs:
                saved = OUT / f"{script[6:-3]}-{name.lower()}-{size}.md"
                if args.saved:
                    output = saved.read_text() if saved.exists() else ""
                else:
                    print(f"{column}: {script} ...", file=sys.stderr, flush=True)
                    output = _run(script, size, runs, url)
                    saved.write_text(output)
                for key, cell in _rows(output, verbs).items():
                    if key not in table:
                        order.append(key)
                    table.setdefault(key, {})[column] = cell
    print(f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| command | as | " + " | ".join(columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for key in order:
        cells = []
        for column in columns:
            cell = table[key].get(column)
            if cell is None:
                cells.append("")
            elif cell[1] is None:
                cells.append(f"{cell[0]:.1f}")
            else:
                cells.append(f"{cell[0]:.1f} ({cell[1]:.1f})")
        print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
