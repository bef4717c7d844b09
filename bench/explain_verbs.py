"""PostgreSQL's own execution time of each command: the statements the dispatcher sent, explained.

Runs each command line through the real dispatcher as alice (rep), bob (manager) and admin on the
kept book (bench/book.py), records every statement it sent with its parameters, then runs each
again under EXPLAIN (ANALYZE) in a transaction that is rolled back (writes included, each in a
savepoint: a replayed insert may collide with the one just committed and is then left out). On a
loaded machine this is the steadier figure: the time the database worked, not the waits between.

    .venv/bin/python bench/explain_verbs.py --customers 100000 --pg-url postgresql+psycopg://... \\
        --lines "forecast;report funnel 2025;deal #{deal};customer {name}" [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.book import open_book  # noqa: E402
from crm_core.access import visible_owner_ids  # noqa: E402
from crm_core.db import make_session_factory  # noqa: E402
from crm_core.models import Contact, Customer, Deal, User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402


def main() -> None:
    """Explain each line's statements for each role; print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--lines", required=True, help="command lines split by ';'")
    ap.add_argument("--roles", default="alice,bob,admin")
    ap.add_argument("--runs", type=int, default=5, help="explained runs per line and role")
    ap.add_argument("--top", action="store_true", help="print the slowest statement's plan")
    args = ap.parse_args()
    engine, _ = open_book(args.customers, args.seed, args.pg_url)
    factory = make_session_factory(engine)
    dispatcher = Dispatcher(factory, default_registry(), Pipeline(DEFAULT_STAGES))
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    with factory() as s:
        users = {
            r: s.scalar(select(User.id).where(User.external_id == r)) for r in args.roles.split(",")
        }
        # What a line's {customer}, {name}, {deal}, {open_deal} and {contact} stand for: the
        # role's first live customer with an open deal and a contact, its records.
        fills: dict[str, dict[str, Any]] = {}
        for role, uid in users.items():
            actor = s.get(User, uid)
            assert actor is not None
            owners = visible_owner_ids(actor)
            mine = Customer.archived_at.is_(None), Customer.merged_into.is_(None)
            if owners is not None:
                mine = (*mine, Customer.owner_id.in_(owners.scalar_subquery()))
            row = s.execute(
                select(Customer.id, Customer.name, Deal.id, Contact.id)
                .join(Deal, Deal.customer_id == Customer.id)
                .join(Contact, Contact.customer_id == Customer.id)
                .where(*mine, Deal.stage.in_(["proposal", "negotiation"]))
                .order_by(Customer.id)
                .limit(1)
            ).one()
            fills[role] = {
                "customer": row[0],
                "name": row[1],
                "open_deal": row[2],
                "deal": row[2],
                "contact": row[3],
                "first5": row[1].split()[0][:5],
                # Two inner letters swapped: bench_verbs' typo, no substring match.
                "typo": row[1][:1] + row[1][2] + row[1][1] + row[1][3:],
            }
    print("| line | as | statements | DB ms p50 (sum of executions) | slowest statement ms |")
    print("|---|---|---:|---:|---:|")
    for line in [v.strip() for v in args.lines.split(";")]:
        for role, uid in users.items():
            totals, slowest, counts = [], [], []
            plan: list[str] = []
            for _ in range(args.runs):
                sent.clear()
                text = line.format(**fills[role])
                dispatcher.dispatch(Command(uid, "bench", text=text))  # type: ignore[arg-type]
                statements = [
                    (q, p)
                    for q, p in sent
                    if q.lstrip().split()[0].upper()
                    in ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")
                ]
                times = []
                raw = engine.raw_connection()
                try:
                    cur = raw.cursor()
                    for q, p in statements:
                        cur.execute("SAVEPOINT x")
                        try:
                            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + q, p)
                            doc = cur.fetchone()[0]
                            doc = json.loads(doc) if isinstance(doc, str) else doc
                            ms = float(doc[0]["Execution Time"])
                            times.append(ms)
                            if args.top and ms >= max(times):
                                plan = [q[:300], json.dumps(doc[0]["Plan"])]
                            cur.execute("RELEASE SAVEPOINT x")
                        except Exception:  # a replayed write that collides: left out
                            cur.execute("ROLLBACK TO SAVEPOINT x")
                    raw.rollback()
                finally:
                    raw.close()
                totals.append(sum(times))
                slowest.append(max(times, default=0.0))
                counts.append(len(statements))
            print(
                f"| {line} | {role} | {statistics.median(counts):.0f} | "
                f"{statistics.median(totals):.1f} | {statistics.median(slowest):.1f} |",
                flush=True,
            )
            if args.top:
                print("\n".join(plan), file=sys.stderr)


if __name__ == "__main__":
    main()
