"""Digests and reminder dispatch at the foundation's scale with 1,000 users.

Loads the 10,000-customer demo book (cached under bench/out, as bench_verbs.py does) into a
fresh database, spreads the customers and deals over 1,000 users in 20 teams (each team with
a manager), then times
  1. building every user's digest (the data and the Reply, as the digest job does), and
  2. dispatching 1,000 due reminders through the real claim/deliver/mark loop, the handlers'
     reply builder and the notifier hub to a fake notifier.

    .venv/bin/python bench/bench_schedules.py --customers 10000
    .venv/bin/python bench/bench_schedules.py --customers 10000 --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import data_file, empty_database  # noqa: E402
from bot.notifier_hub import NotifierHub  # noqa: E402
from bot.scheduling import Delivery  # noqa: E402
from crm_core.db import make_session_factory, unit_of_work  # noqa: E402
from crm_core.exchange import import_jsonl  # noqa: E402
from crm_core.models import Customer, Deal, Reminder, Role, Team, User, utcnow  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.notify import Address  # noqa: E402
from handlers.reply import Reply  # noqa: E402
from schedules.quiet import WorkHours  # noqa: E402
from schedules.reminders import ReminderDispatcher  # noqa: E402

USERS = 1000
TEAMS = 20
REMINDERS = 1000


class CountingNotifier:
    """A fake notifier that only counts."""

    platform = "console"

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, address: Address, reply: Reply) -> str:
        """Count and return an id."""
        self.sent += 1
        return str(self.sent)


def main() -> None:
    """Load, spread over 1,000 users, time digests and reminder dispatch."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (its schema is wiped)")
    args = ap.parse_args()
    path = data_file(args.customers, args.seed)
    engine, backend = empty_database(f"bench-schedules-{args.customers}", args.pg_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s, path.open(encoding="utf-8") as f:
        import_jsonl(s, f, stages=DEFAULT_STAGES)
    now = utcnow()
    with unit_of_work(factory) as s:
        teams = []
        for i in range(TEAMS):
            team = Team(external_id=f"bench-team-{i}", name=f"Bench team {i}")
            s.add(team)
            teams.append(team)
        s.flush()
        zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai"]
        existing = s.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0
        s.execute(
            insert(User),
            [
                {
                    "external_id": f"bench-{i}",
                    "name": f"Bench {i}",
                    "role": Role.manager if i % (USERS // TEAMS) == 0 else Role.rep,
                    "team_id": teams[i % TEAMS].id,
                    "timezone": zones[i % len(zones)],
                    "locale": "zh" if i % 3 == 0 else "en",
                    "active": True,
                    "created_at": now,
                }
                for i in range(USERS - existing)
            ],
        )
        users = list(s.scalars(select(User.id).order_by(User.id)))
        customers = list(s.scalars(select(Customer.id).order_by(Customer.id)))
        s.execute(
            update(Customer),
            [{"id": c, "owner_id": users[i % len(users)]} for i, c in enumerate(customers)],
        )
        deals = s.execute(select(Deal.id, Deal.customer_id)).all()
        owner_of = {c: users[i % len(users)] for i, c in enumerate(customers)}
        s.execute(update(Deal), [{"id": d, "owner_id": owner_of[c]} for d, c in deals])
        # Only the bench's own reminders are due (the demo's are marked done).
        s.execute(update(Reminder).values(status="done"))
        s.execute(
            insert(Reminder),
            [
                {
                    "owner_id": users[i % len(users)],
                    "due_at": now - timedelta(seconds=i),
                    "text": f"bench reminder {i}",
                    "status": "pending",
                    "explicit_time": True,
                    "attempts": 0,
                    "late": False,
                    "created_at": now,
                }
                for i in range(REMINDERS)
            ],
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))

    notifier = CountingNotifier()
    hub = NotifierHub(factory, [notifier])
    delivery = Delivery(factory, hub, Pipeline(DEFAULT_STAGES))
    started = time.perf_counter()
    sections = 0
    for uid in users:
        reply = delivery.digest_reply(uid, now.date())
        sections += len(reply.sections)
    digests_s = time.perf_counter() - started

    dispatcher = ReminderDispatcher(
        factory, delivery.reminder, work_hours=WorkHours(days=frozenset(range(7)))
    )
    # Explicitly timed reminders are never held for quiet hours, whatever the hour of the run.
    started = time.perf_counter()
    stats = asyncio.run(dispatcher.run_once())
    dispatch_s = time.perf_counter() - started
    assert stats.sent == REMINDERS == notifier.sent, (stats.sent, stats.held, notifier.sent)
    print(f"backend: {backend}; users: {len(users)}; customers: {len(customers)}")
    print(f"| all {len(users)} digests built | {digests_s:.2f} s | {sections} sections |")
    print(
        f"| {REMINDERS} due reminders dispatched | {dispatch_s:.2f} s | "
        f"{REMINDERS / dispatch_s:.0f} per s |"
    )


if __name__ == "__main__":
    main()
