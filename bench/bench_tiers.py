"""Tiers and care dates on a large demo book: set the rules, the review, the card, a care sweep.

Loads `demo-data` at the given scale (the same cached file and SQLite copy as bench_verbs, or
the PostgreSQL database named by --pg-url, whose public schema is dropped first), then times:
the customer card through the real dispatcher before any tier rule (the control) and after
(p50/p95 over --runs calls as the admin); setting the rules (`tiers: …`, which gives every
customer the tier it earns); one monthly review of every customer; and one care sweep's search
for due pings (`care close 7d` and `care renewal_date 15d` with a renewal date on every deal).

    .venv/bin/python bench/bench_tiers.py --customers 10000
    .venv/bin/python bench/bench_tiers.py --customers 10000 --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import data_file, empty_database, percentile, sqlite_copy  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_core.exchange import import_jsonl  # noqa: E402
from crm_core.models import Customer, CustomerTier, Deal, User  # noqa: E402
from crm_core.services import care, tiers  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

RULES = "tiers: silver 50k, gold 200k, platinum 1M on won value in 12 months"


def main() -> None:
    """Load, time, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (its schema is wiped)")
    args = ap.parse_args()

    if args.pg_url:
        engine, backend = empty_database(f"tiers-{args.customers}", args.pg_url)
        with (
            unit_of_work(make_session_factory(engine)) as session,
            data_file(args.customers, args.seed).open(encoding="utf-8") as f,
        ):
            import_jsonl(session, f, stages=DEFAULT_STAGES)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        engine = make_engine(f"sqlite:///{sqlite_copy(args.customers, args.seed, 'tiers')}")
        backend = "SQLite"
    factory = make_session_factory(engine)
    pipeline = Pipeline(DEFAULT_STAGES)
    dispatcher = Dispatcher(factory, default_registry(), pipeline)
    with factory() as s:
        admin = s.scalar(select(User.id).where(User.external_id == "admin"))
        ids = list(s.scalars(select(Customer.id).where(Customer.merged_into.is_(None))))
        deal_ids = list(s.scalars(select(Deal.id)))
        # The demo book's newest close: the clock the review and the window count from.
        newest = s.scalar(select(func.max(Deal.closed_at)))
    assert admin is not None

    def run(line: str) -> float:
        started = time.perf_counter()
        reply = dispatcher.dispatch(Command(admin, "console", text=line))
        took = (time.perf_counter() - started) * 1000
        assert reply.status in ("ok", "info"), (line, reply.text)
        return took

    rng = random.Random(args.seed)
    control = [run(f"customer #{rng.choice(ids)}") for _ in range(args.runs)]
    set_ms = run(RULES)
    with factory() as s:
        tiered = s.scalar(select(text("count(*)")).select_from(CustomerTier)) or 0
    cards = [run(f"customer #{rng.choice(ids)}") for _ in range(args.runs)]

    now = (newest or datetime.now(UTC)).astimezone(UTC) + timedelta(days=40)
    with unit_of_work(factory) as s:
        started = time.perf_counter()
        changed = tiers.review(s, pipeline, now)
        review_ms = (time.perf_counter() - started) * 1000

    run("field add deal renewal_date date")
    run("care renewal_date 15d")
    run("care close 7d")
    today = now.date()
    with unit_of_work(factory) as s:
        # ORM bulk UPDATE by primary key: one statement, many rows.
        s.execute(
            update(Deal),
            [
                {"id": d, "custom": {"renewal_date": str(today + timedelta(days=d % 60))}}
                for d in deal_ids
            ],
        )
    sweeps = []
    found = 0
    for _ in range(5):
        with factory() as s:
            started = time.perf_counter()
            found = len(care.due_pings(s, pipeline, now))
            sweeps.append((time.perf_counter() - started) * 1000)

    print(f"{backend}, {args.customers:,} customers, {len(deal_ids):,} deals\n")
    print("| measure | p50 ms | p95 ms |")
    print("|---|---:|---:|")
    print(
        f"| customer card, no tier rules (control) | {percentile(control, 50):.1f} | "
        f"{percentile(control, 95):.1f} |"
    )
    print(
        f"| customer card with its tier line | {percentile(cards, 50):.1f} | "
        f"{percentile(cards, 95):.1f} |"
    )
    print(f"| `tiers: …` set ({tiered:,} customers given a tier) | {set_ms:.0f} | |")
    print(f"| monthly review of every customer ({changed:,} changed) | {review_ms:.0f} | |")
    print(
        f"| care sweep: due pings among {len(deal_ids):,} renewal dates and the open "
        f"deals' closes ({found:,} due), 5 runs | {percentile(sweeps, 50):.0f} | "
        f"{max(sweeps):.0f} |"
    )


if __name__ == "__main__":
    main()
