"""Latency of custom fields on a large demo book: edit with a custom value, the card, remove.

Loads `demo-data` at the given scale (the same cached file and SQLite copy as bench_verbs, or
the PostgreSQL database named by --pg-url, whose public schema is dropped first), declares three
customer fields as an admin, then times through the real dispatcher: `edit customer #N: region
…, employees …` and `customer #N` (p50/p95 over --runs calls as the admin; the same two verbs
before any field is declared are the control), and one `field remove customer region confirm`
with a value on every customer.

    .venv/bin/python bench/bench_custom_fields.py --customers 10000
    .venv/bin/python bench/bench_custom_fields.py --customers 10000 --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from sqlalchemy import select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import data_file, empty_database, percentile, sqlite_copy  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_core.exchange import import_jsonl  # noqa: E402
from crm_core.models import Customer, User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

REGIONS = ("North", "South", "East")


def main() -> None:
    """Load, declare, time; print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (its schema is wiped)")
    args = ap.parse_args()

    if args.pg_url:
        engine, backend = empty_database(f"fields-{args.customers}", args.pg_url)
        with (
            unit_of_work(make_session_factory(engine)) as session,
            data_file(args.customers, args.seed).open(encoding="utf-8") as f,
        ):
            import_jsonl(session, f, stages=DEFAULT_STAGES)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        engine = make_engine(f"sqlite:///{sqlite_copy(args.customers, args.seed, 'fields')}")
        backend = "SQLite"
    factory = make_session_factory(engine)
    dispatcher = Dispatcher(factory, default_registry(), Pipeline(DEFAULT_STAGES))
    with factory() as s:
        admin = s.scalar(select(User.id).where(User.external_id == "admin"))
        ids = list(s.scalars(select(Customer.id).where(Customer.merged_into.is_(None))))
    assert admin is not None

    def run(line: str) -> float:
        started = time.perf_counter()
        reply = dispatcher.dispatch(Command(admin, "console", text=line))
        took = (time.perf_counter() - started) * 1000
        assert reply.status in ("ok", "info"), (line, reply.text)
        return took

    rng = random.Random(args.seed)
    # The same verbs before any field is declared: the control, under the same machine load.
    control: list[tuple[str, list[float]]] = [
        ("edit customer (no fields declared)", []),
        ("customer card (no fields declared)", []),
    ]
    for _ in range(args.runs):
        cid = rng.choice(ids)
        control[0][1].append(run(f"edit customer #{cid}: city Bench {rng.randrange(10**6)}"))
        control[1][1].append(run(f"customer #{cid}"))
    for line in (
        "field add customer region choice North, South, East",
        "field add customer employees number",
        "field add customer renewal date",
    ):
        run(line)
    rows = [("edit customer (custom values)", []), ("customer card (custom values)", [])]
    for _ in range(args.runs):
        cid = rng.choice(ids)
        rows[0][1].append(
            run(
                f"edit customer #{cid}: region {rng.choice(REGIONS)}, "
                f"employees {rng.randrange(1, 5000)}, renewal 2027-0{rng.randrange(1, 10)}-15"
            )
        )
        rows[1][1].append(run(f"customer #{cid}"))
    # Every customer holds a region: the worst case for a removal.
    with unit_of_work(factory) as s:
        s.execute(update(Customer).values(custom={"region": "North"}))
    remove_ms = run("field remove customer region confirm")

    print(f"{backend}, {len(ids)} customers, {args.runs} calls each, as an admin\n")
    print("| what | p50 ms | p95 ms |\n|---|---|---|")
    for name, samples in control + rows:
        print(f"| {name} | {percentile(samples, 50):.1f} | {percentile(samples, 95):.1f} |")
    print(f"| field remove, {len(ids)} values (one call) | {remove_ms:.0f} | |")


if __name__ == "__main__":
    main()
