"""Latency of loose commands (sentence -> confirm card) through the real dispatcher, no LLM.

Loads the demo book at the given scale into SQLite (cached under bench/out, as
bench_verbs.py does) or the PostgreSQL database named by --pg-url (its schema is wiped), then
times sentences naming each role's own customers and deals, end to end: reading the sentence,
finding the records among those the person may see, and building the card. Only replies that
are confirm cards count towards the card figures; the others are counted apart.

    .venv/bin/python bench/bench_loose.py --customers 10000
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_verbs import data_file, empty_database, percentile, sqlite_copy  # noqa: E402

from crm_core.access import customer_filter  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_core.exchange import import_jsonl  # noqa: E402
from crm_core.models import Customer, Deal, User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

SENTENCES = (
    "can you move the {customer} {word} deal to {stage} please",
    # Starts like the grammar: `move` runs (and refuses) first, then the sentence is read.
    "move the {customer} {word} deal to {stage} please",
    "{customer} {word} deal is won!",
    "log that I called {customer}, they want 12% off the renewal",
    "new deal for {customer} 48k fleet renewal closing mid January",
    "帮我把{customer}的{word}推进到谈判",
)


def main() -> None:
    """Load, then time loose sentences per role; print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=200, help="timed sentences per role")
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (its schema is wiped)")
    args = ap.parse_args()

    if args.pg_url:
        engine, backend = empty_database("loose", args.pg_url)
        with (
            unit_of_work(make_session_factory(engine)) as session,
            data_file(args.customers, args.seed).open(encoding="utf-8") as f,
        ):
            import_jsonl(session, f, stages=DEFAULT_STAGES)
    else:
        path = sqlite_copy(args.customers, args.seed, "loose")
        engine, backend = make_engine(f"sqlite:///{path}"), "SQLite"
    factory = make_session_factory(engine)
    rng = random.Random(args.seed)
    # Per role: (a customer's name, a distinctive word of one of its open deals).
    targets: dict[str, list[tuple[str, str]]] = {}
    with factory() as s:
        for role in ("alice", "bob", "admin"):
            user = s.scalar(select(User).where(User.external_id == role))
            assert user is not None, role
            rows = s.execute(
                select(Customer.name, Deal.title)
                .join(Deal, Deal.customer_id == Customer.id)
                .where(customer_filter(user), Deal.stage.in_(["lead", "qualified", "proposal"]))
                .limit(2000)
            ).all()
            picked = []
            for name, title in rows:
                words = [w for w in title.split() if len(w) > 4 and w.isalpha()]
                if words:
                    picked.append((name, words[0]))
            targets[role] = picked
        users = {
            r: s.scalar(select(User.id).where(User.external_id == r))
            for r in ("alice", "bob", "admin")
        }

    dispatcher = Dispatcher(factory, default_registry(), Pipeline(DEFAULT_STAGES))
    print(f"{backend}, {args.customers} customers, {args.runs} sentences per role\n")
    print("| role | cards | p50 ms | p95 ms | max ms | other replies |")
    print("|---|---|---|---|---|---|")
    for role, uid in users.items():
        assert uid is not None
        samples: list[float] = []
        other: Counter[str] = Counter()
        for i in range(args.runs + 10):
            customer, word = rng.choice(targets[role])
            text = rng.choice(SENTENCES).format(
                customer=customer, word=word, stage=rng.choice(["negotiation", "proposal"])
            )
            started = time.perf_counter()
            reply = dispatcher.dispatch(Command(uid, "bench", text=text))
            elapsed = (time.perf_counter() - started) * 1000
            if i < 10:
                continue  # warm-up: connection pool, caches
            if reply.status == "confirm":
                samples.append(elapsed)
            else:
                other[reply.status] += 1
        print(
            f"| {role} | {len(samples)} | {statistics.median(samples):.1f} | "
            f"{percentile(samples, 95):.1f} | {max(samples):.1f} | {dict(other)} |"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
