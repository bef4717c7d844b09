"""Latency of campaigns on a large demo book: freezing a segment with a holdout, and the report.

Loads `demo-data` at the given scale (the same cached SQLite copy as bench_verbs, or the
PostgreSQL database named by --pg-url, whose public schema is dropped first), tops the deals up
to --deals like bench_segments, saves a live segment holding nearly every customer, then times
through the real dispatcher as the admin: the preview (`campaign "…" segment … holdout 10%`),
the confirmed freeze (--freezes campaigns, each a new name), then, ten days later with a third
of the contacted customers and a fifth of the holdout given a new won deal, the report
(`campaign "…"`, p50/p95 over --runs calls) and a rep's `campaign tasks`.

    .venv/bin/python bench/bench_campaigns.py --customers 10000 --deals 30000
    .venv/bin/python bench/bench_campaigns.py --customers 10000 --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import percentile  # noqa: E402
from bench.book import deal_row, topped_up_book  # noqa: E402
from crm_core.db import make_session_factory, unit_of_work  # noqa: E402
from crm_core.demo_data import REFERENCE_NOW  # noqa: E402
from crm_core.models import CampaignMember, Customer, Deal, Role, User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

SEGMENT = 'save segment "Bench all" not tag bench-none'


class Clock:
    """The dispatcher's clock, moved on by hand."""

    def __init__(self) -> None:
        self.now = REFERENCE_NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def main() -> None:
    """Load, freeze, simulate, report; print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--deals", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--freezes", type=int, default=5)
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (its schema is wiped)")
    args = ap.parse_args()

    engine, backend, customers, deals = topped_up_book(
        "campaigns", args.customers, args.deals, args.seed, args.pg_url
    )
    factory = make_session_factory(engine)
    clock = Clock()
    dispatcher = Dispatcher(factory, default_registry(), Pipeline(DEFAULT_STAGES), clock=clock)
    with factory() as s:
        admin = s.scalar(select(User.id).where(User.role == Role.admin).order_by(User.id).limit(1))
        rep = s.scalar(select(User.id).where(User.role == Role.rep).order_by(User.id).limit(1))
    assert admin is not None and rep is not None

    def run(who: int, line: str) -> tuple[float, str]:
        started = time.perf_counter()
        reply = dispatcher.dispatch(Command(who, "console", text=line))
        took = (time.perf_counter() - started) * 1000
        assert reply.status in ("ok", "info"), (line, reply.text)
        return took, reply.text or reply.title or ""

    run(admin, SEGMENT)
    rows: list[tuple[str, list[float], str]] = []
    previews, freezes, said = [], [], ""
    for i in range(args.freezes):
        line = f'campaign "Bench {i}" segment "Bench all" message "Hi {{contact}}" holdout 10%'
        took, _ = run(admin, line)
        previews.append(took)
        took, said = run(admin, f"{line} seed {1000 + i} confirm")
        freezes.append(took)
    rows.append(("campaign … holdout 10% (preview)", previews, ""))
    rows.append(("campaign … holdout 10% confirm (freeze)", freezes, said))

    clock.now = REFERENCE_NOW + timedelta(days=10)
    rng = random.Random(args.seed)
    with unit_of_work(factory) as s:
        members = s.execute(
            select(CampaignMember.customer_id, CampaignMember.holdout, Customer.owner_id)
            .join(Customer, Customer.id == CampaignMember.customer_id)
            .where(CampaignMember.campaign_id == 1)
        ).all()
        new = [
            deal_row(
                cid,
                owner,
                f"Upsell {cid}",
                Decimal(rng.randrange(1, 50) * 1000),
                "won",
                REFERENCE_NOW + timedelta(days=2),
                closed_at=REFERENCE_NOW + timedelta(days=5),
            )
            for cid, held, owner in members
            if rng.random() < (0.2 if held else 0.33)
        ]
        s.execute(insert(Deal), new)
    report = [run(admin, 'campaign "Bench 0"') for _ in range(args.runs)]
    rows.append(('campaign "Bench 0" (report, admin)', [t for t, _ in report], report[-1][1]))
    tasks = [run(rep, "campaign tasks") for _ in range(args.runs)]
    rows.append(("campaign tasks (a rep)", [t for t, _ in tasks], tasks[-1][1]))

    print(f"{backend}, {customers} customers, {deals} deals, {len(members)} frozen a campaign\n")
    print("| command | calls | p50 ms | p95 ms | answer |\n|---|---|---|---|---|")
    for line, samples, answer in rows:
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        print(f"| `{line}` | {len(samples)} | {p50:.0f} | {p95:.0f} | {answer[:120]} |")


if __name__ == "__main__":
    main()
