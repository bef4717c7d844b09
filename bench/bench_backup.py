"""Backup and restore at scale: archive size, seconds to back up, verify and restore.

    .venv/bin/python bench/bench_backup.py --customers 10000
    .venv/bin/python bench/bench_backup.py --customers 10000 \\
        --pg-url postgresql+psycopg://crmbot:crmbot@127.0.0.1:5432/crmbot_bench   # schema wiped

The book is bench_verbs' demo data at that scale (loaded once into bench/out, then copied).
Times one run of each step, plain and with a key: SQLite -> archive -> SQLite, and with
--pg-url also SQLite archive -> PostgreSQL and PostgreSQL -> archive.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_verbs import OUT, empty_database, sqlite_copy
from crm_core.backup import restore_backup, verify_backup, write_backup
from crm_core.db import make_engine

KEY = "bench key, not a secret"


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    """Run once; the result and the seconds it took."""
    start = time.perf_counter()
    result = step()
    return result, time.perf_counter() - start


def main() -> None:
    """Print a Markdown table of each step."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (its schema is wiped)")
    args = ap.parse_args()

    source = make_engine(f"sqlite:///{sqlite_copy(args.customers, args.seed, 'backup')}")
    rows: list[tuple[str, float, str]] = []
    archives = {}
    for label, key in (("plain", None), ("encrypted", KEY)):
        path = OUT / f"backup-{args.customers}-{label}.crmbak"
        path.unlink(missing_ok=True)
        summary, took = timed(lambda p=path, k=key: write_backup(source, p, key=k))
        archives[label] = (path, key)
        size = f"{path.stat().st_size / 2**20:.1f} MiB, {summary.total:,} rows"
        rows.append((f"backup SQLite ({label})", took, size))
        _, took = timed(lambda p=path, k=key: verify_backup(p, key=k))
        rows.append((f"verify ({label})", took, ""))
        target = OUT / f"restored-{args.customers}-{label}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{target}")
        _, took = timed(lambda e=engine, p=path, k=key: restore_backup(e, p, key=k))
        rows.append((f"restore into SQLite ({label}, verify included)", took, ""))
        engine.dispose()
    if args.pg_url:
        pg, _ = empty_database("unused", args.pg_url)
        with pg.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        path, key = archives["encrypted"]
        _, took = timed(lambda: restore_backup(pg, path, key=key))
        rows.append(("restore SQLite archive into PostgreSQL (encrypted)", took, ""))
        out = OUT / f"backup-{args.customers}-pg.crmbak"
        out.unlink(missing_ok=True)
        summary, took = timed(lambda: write_backup(pg, out, key=key))
        size = f"{out.stat().st_size / 2**20:.1f} MiB, {summary.total:,} rows"
        rows.append(("backup PostgreSQL (encrypted)", took, size))
        pg.dispose()
    source.dispose()
    print(f"{args.customers:,} customers\n")
    print("| step | seconds | archive |\n|---|---:|---|")
    for step, seconds, note in rows:
        print(f"| {step} | {seconds:.1f} | {note} |")


if __name__ == "__main__":
    main()
