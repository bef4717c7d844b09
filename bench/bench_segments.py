"""Latency of segments on a large demo book: `list customers` with five filters, `segment`.

Loads `demo-data` at the given scale (the same cached file and SQLite copy as bench_verbs, or
the PostgreSQL database named by --pg-url, whose public schema is dropped first), tops the deals
up to --deals (open deals of random stages and amounts on random customers), gives a fifth of the
customers an NPS score and a custom field `region`, then times through the real dispatcher, as the
admin and as a manager and a rep, each filter line below (p50/p95 over --runs calls) and
`segment "…"` of a saved live segment with the first line's filters. The clock is the demo
file's reference time, so `quiet 30d` splits the book as it would on the day it describes.

    .venv/bin/python bench/bench_segments.py --customers 10000 --deals 30000
    .venv/bin/python bench/bench_segments.py --customers 10000 --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import percentile  # noqa: E402
from bench.book import topped_up_book  # noqa: E402
from crm_core.db import make_session_factory  # noqa: E402
from crm_core.demo_data import REFERENCE_NOW  # noqa: E402
from crm_core.models import Role, User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

# Five filters each; the first is also saved as a live segment.
LINES = (
    "list customers industry logistics quiet 30d tag vip amount >10k region North",
    "list customers city Boston,Chicago not tag at-risk contacted 90d stage proposal nps <9",
    "list customers (tag vip or nps >=9) and deals >=2 quiet 14d not industry retail",
)


def main() -> None:
    """Load, top up, time; print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--deals", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (its schema is wiped)")
    args = ap.parse_args()

    engine, backend, customers, deals = topped_up_book(
        "segments", args.customers, args.deals, args.seed, args.pg_url
    )
    factory = make_session_factory(engine)
    dispatcher = Dispatcher(
        factory, default_registry(), Pipeline(DEFAULT_STAGES), clock=lambda: REFERENCE_NOW
    )
    with factory() as s:
        people = {
            role: s.scalar(select(User.id).where(User.role == role).order_by(User.id).limit(1))
            for role in (Role.admin, Role.manager, Role.rep)
        }

    def run(who: int, line: str) -> tuple[float, str]:
        started = time.perf_counter()
        reply = dispatcher.dispatch(Command(who, "console", text=line))
        took = (time.perf_counter() - started) * 1000
        assert reply.status in ("ok", "info"), (line, reply.text)
        return took, reply.title

    admin = people[Role.admin]
    assert admin is not None
    run(admin, 'save segment "Bench" ' + LINES[0].removeprefix("list customers "))
    rows: list[tuple[str, str, list[float], str]] = []
    for role, who in people.items():
        assert who is not None
        # `customers` (no filter, the same page and count) is the control under the same load.
        for line in ("customers", *LINES, 'segment "Bench"'):
            samples, title = [], ""
            for _ in range(args.runs):
                took, title = run(who, line)
                samples.append(took)
            rows.append((role.value, line, samples, title.split(" (")[0]))

    print(f"{backend}, {customers} customers, {deals} deals, {args.runs} calls each\n")
    print("| as | command | p50 ms | p95 ms | answer |\n|---|---|---|---|---|")
    for role, line, samples, title in rows:
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        print(f"| {role} | `{line}` | {p50:.1f} | {p95:.1f} | {title} |")


if __name__ == "__main__":
    main()
