"""The service desk at 100,000 tickets: `tickets`, `ticket #N` and the SLA sweep.

Seeds a fresh database (SQLite file under bench/out, or the PostgreSQL database named by
--pg-url, whose public schema is dropped first) with 5 teams (a manager and 10 agents each,
New York, Berlin and Shanghai calendars with their holidays), 2,000 customers and 100,000
tickets opened over the last 90 days. Subjects and replies are the abstractive summaries of the
TweetSumm customer-care conversations (../shared/data/tweetsumm, CC0): the customer's sentence
becomes the subject, the agent's the reply. 80 % of the tickets are resolved or closed, the rest
new, open or waiting; SLA due times and the sweep's next alert are computed by crm_core.sla.

Then times, through the real dispatcher, `tickets`, `tickets mine`, `tickets team`,
`tickets breaching`, `tickets <customer>` and `ticket #N` as an agent, a manager and an
admin; and the sweep: the indexed read that finds due tickets, and a whole run (plan, claim,
send to a counting sender, finish, reschedule) over every ticket due.

    .venv/bin/python bench/bench_tickets.py
    .venv/bin/python bench/bench_tickets.py --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import empty_database, percentile  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_core.demo_data import tweetsumm_issues  # noqa: E402
from crm_core.models import (  # noqa: E402
    Customer,
    ServiceCalendar,
    Team,
    Ticket,
    TicketAlert,
    TicketEvent,
    TicketPriority,
    TicketStatus,
    User,
)
from crm_core.services.tickets import (  # noqa: E402
    WAITING_QUEUE,
    alert_moments,
    calendar_for,
)
from crm_core.services.users import add_user  # noqa: E402
from crm_core.sla import DEFAULT_POLICIES, due, running_spans  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from crm_core.text import name_key  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402
from schedules.sla import AUDIENCE, Owed, SlaSweep  # noqa: E402

# ../shared sits beside the checkout (CI, the main checkout and every worktree alike).
TWEETSUMM = ROOT.parent / "shared" / "data" / "tweetsumm"
TEAMS = (
    ("Support NY", "America/New_York", "US"),
    ("Support Berlin", "Europe/Berlin", "DE"),
    ("Support Shanghai", "Asia/Shanghai", "CN"),
    ("Support London", "Europe/London", "GB"),
    ("Support Remote", "UTC", None),
)
AGENTS = 10
CUSTOMERS = 2000
NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # a Wednesday afternoon
# The sweep ran until ten minutes ago: older notices are in ticket_alerts as sent.
CAUGHT_UP = timedelta(minutes=10)


def _chunks(rows: list[dict[str, object]], size: int = 5000) -> Iterator[list[dict[str, object]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def seed(factory: object, tickets: int, rng: random.Random) -> dict[str, object]:
    """Teams, agents, customers and tickets; returns the handles and names the timings use."""
    issues = tweetsumm_issues(TWEETSUMM)
    assert issues, f"no TweetSumm summaries under {TWEETSUMM}"
    with unit_of_work(factory) as s:  # type: ignore[arg-type]
        agents: list[User] = []
        for t, (team, zone, _country) in enumerate(TEAMS):
            add_user(s, f"mgr{t}", f"Manager {t}", role="manager", team=team, timezone=zone)
            for a in range(AGENTS):
                agents.append(
                    add_user(s, f"agent{t}_{a}", f"Agent {t}.{a}", team=team, timezone=zone)
                )
        add_user(s, "admin", "Admin", role="admin")
        s.flush()
        for team, zone, country in TEAMS:
            row = s.scalar(select(Team).where(Team.name == team))
            assert row is not None
            s.add(
                ServiceCalendar(
                    team_id=row.id,
                    timezone=zone,
                    country=country,
                    days="01234",
                    start_minute=540,
                    end_minute=1080,
                    triage_target=f"console:triage-{row.id}",
                )
            )
        s.flush()
        s.execute(
            insert(Customer),
            [
                {
                    "name": f"Customer {i:05d}",
                    "name_key": name_key(f"Customer {i:05d}"),
                    "owner_id": agents[i % len(agents)].id,
                    "tags": [],
                    "created_at": NOW - timedelta(days=400),
                    "updated_at": NOW - timedelta(days=400),
                }
                for i in range(CUSTOMERS)
            ],
        )
        customers = list(s.execute(select(Customer.id, Customer.owner_id)).all())
        team_of = {u.id: u.team_id for u in agents}
        calendars = {tid: calendar_for(s, tid) for tid in set(team_of.values())}
        priorities = ["urgent"] * 5 + ["high"] * 20 + ["normal"] * 55 + ["low"] * 20
        ticket_rows: list[dict[str, object]] = []
        histories: list[list[tuple[str, datetime, str, str | None]]] = []
        for i in range(tickets):
            cid, owner = customers[rng.randrange(len(customers))]
            team_id = team_of[owner]
            created = NOW - timedelta(minutes=rng.randrange(90 * 24 * 60))
            priority = rng.choice(priorities)
            subject, answer = issues[i % len(issues)]
            roll = rng.random()
            assignee = owner if roll > 0.03 else None
            steps: list[tuple[str, datetime, str, str | None]] = [
                ("created", created, "new" if assignee is None else "open", None)
            ]
            first_response = resolved = None
            status = steps[0][2]
            if roll > 0.2:  # answered
                first_response = created + timedelta(minutes=rng.randrange(30, 600))
                if first_response < NOW:
                    steps.append(("reply", first_response, "open", answer))
                else:
                    first_response = None
            if roll > 0.2 and first_response is not None and created < NOW - timedelta(days=3):
                resolved = first_response + timedelta(hours=rng.randrange(1, 72))
                if resolved < NOW:
                    status = "closed" if resolved < NOW - timedelta(days=7) else "resolved"
                    steps.append(("resolve", resolved, "resolved", answer))
                else:
                    resolved = None
            if status == "open" and 0.9 < roll < 0.95:
                wait_at = (first_response or created) + timedelta(minutes=5)
                if wait_at < NOW:
                    status = "waiting"
                    steps.append(("wait", wait_at, "waiting", None))
            ticket_rows.append(
                {
                    "customer_id": cid,
                    "subject": subject,
                    "priority": priority,
                    "status": status if status != "closed" else "closed",
                    "assignee_id": assignee,
                    "team_id": team_id,
                    "created_by_id": owner,
                    "source": "bench",
                    "created_at": created,
                    "updated_at": created,
                    "first_response_at": first_response,
                    "resolved_at": resolved,
                    "closed_at": resolved if status == "closed" else None,
                }
            )
            histories.append(steps)
        # Due times and the next alert, as refresh_sla computes them (pure arithmetic here).
        triage = {r.team_id: r.triage_target for r in s.scalars(select(ServiceCalendar)).all()}
        owed_by_row: dict[int, list[tuple[str, str, datetime]]] = {}
        for n, (row, steps) in enumerate(zip(ticket_rows, histories, strict=True)):
            sent_alerts: list[tuple[int, str, str, datetime]] = []
            alerts_for: list[None] = []
            if row["status"] == "waiting":
                row["queue_at"] = WAITING_QUEUE
            if row["status"] not in ("new", "open"):
                continue
            cal = calendars[row["team_id"]]
            history = [(at, st) for _, at, st, _ in steps]
            targets = DEFAULT_POLICIES[str(row["priority"])]
            first = row["first_response_at"]
            row["response_due_at"] = (
                None if first else due(cal, running_spans(history), targets.first_response)  # type: ignore[arg-type]
            )
            row["resolution_due_at"] = due(cal, running_spans(history), targets.resolution)
            dues = [d for d in (row["response_due_at"], row["resolution_due_at"]) if d]
            row["queue_at"] = min(dues) if dues else WAITING_QUEUE  # type: ignore[type-var]
            fake = Ticket(
                status=TicketStatus(row["status"]),
                priority=TicketPriority(row["priority"]),
                assignee_id=row["assignee_id"],
                created_at=row["created_at"],
                first_response_at=first,
            )
            fake.events = [
                TicketEvent(at=at, status=TicketStatus(st), kind=k) for k, at, st, _ in steps
            ]
            moments = alert_moments(cal, fake)
            # The sweep has been running: what fell due before the last ten minutes went out.
            for kind, at in moments.items():
                if at > NOW - CAUGHT_UP:
                    continue
                for who in AUDIENCE[kind]:
                    if who == "assignee" and row["assignee_id"] is not None:
                        target = f"user:{row['assignee_id']}"
                    else:
                        target = triage[row["team_id"]]  # type: ignore[index]
                    sent_alerts.append((len(alerts_for), kind, target, at))
                alerts_for.append(None)
            later = [at for at in moments.values() if at > NOW - CAUGHT_UP]
            row["next_alert_at"] = min(later) if later else None
            owed_by_row[n] = [(k, tgt, at) for _, k, tgt, at in sent_alerts]
        for chunk in _chunks(ticket_rows):
            s.execute(insert(Ticket), chunk)
        ids = list(s.scalars(select(Ticket.id).order_by(Ticket.id)))
        event_rows = [
            {
                "ticket_id": tid,
                "kind": kind,
                "at": at,
                "actor_id": ticket_rows[n]["assignee_id"] or ticket_rows[n]["created_by_id"],
                "status": status,
                "text": text,
            }
            for n, (tid, steps) in enumerate(zip(ids, histories, strict=True))
            for kind, at, status, text in steps
        ]
        for chunk in _chunks(event_rows):
            s.execute(insert(TicketEvent), chunk)
        alert_rows = [
            {
                "ticket_id": ids[n],
                "kind": kind,
                "target": target,
                "status": "sent",
                "attempts": 1,
                "claimed_at": at,
                "sent_at": at,
            }
            for n, owed in owed_by_row.items()
            for kind, target, at in dict.fromkeys(owed)
        ]
        for chunk in _chunks(alert_rows):
            s.execute(insert(TicketAlert), chunk)
        active = [
            (tid, row)
            for tid, row in zip(ids, ticket_rows, strict=True)
            if row["status"] in ("new", "open", "waiting")
        ]
        agent = next(u for u in agents if any(r["assignee_id"] == u.id for _, r in active))
        return {
            "agent": agent.external_id,
            "manager": "mgr0",
            "admin": "admin",
            "customer": s.get(Customer, ticket_rows[0]["customer_id"]).name,  # type: ignore[union-attr]
            "ticket_ids": [tid for tid, _ in active],
            "events": len(event_rows),
            "alerts": len(alert_rows),
            "active": len(active),
        }


def reused_database(name: str, pg_url: str | None) -> tuple[Engine, str]:
    """The database an earlier run seeded (PostgreSQL at `pg_url`, or bench/out/NAME)."""
    if pg_url:
        return make_engine(pg_url), "PostgreSQL"
    return make_engine(f"sqlite:///{ROOT / 'bench' / 'out' / f'{name}.sqlite'}"), "SQLite"


def seeded(factory: sessionmaker[Session]) -> dict[str, object]:
    """What `seed` returned, read back from a seeded database."""
    with factory() as s:
        active = Ticket.status.in_(("new", "open", "waiting"))
        agent = s.execute(
            select(User.external_id)
            .join(Ticket, Ticket.assignee_id == User.id)
            .where(active, User.external_id.like("agent%"))
            .order_by(User.id)
            .limit(1)
        ).scalar_one()
        first = s.scalar(select(Ticket).order_by(Ticket.id).limit(1))
        assert first is not None
        return {
            "agent": agent,
            "manager": "mgr0",
            "admin": "admin",
            "customer": first.customer.name,
            "ticket_ids": list(s.scalars(select(Ticket.id).where(active).order_by(Ticket.id))),
            "events": s.scalar(select(func.count()).select_from(TicketEvent)),
            "alerts": s.scalar(select(func.count()).select_from(TicketAlert)),
            "active": s.scalar(select(func.count()).select_from(Ticket).where(active)),
        }


def main() -> None:
    """Seed, then time the verbs and the sweep; print Markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (its schema is wiped)")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="time the database a previous run seeded (not yet swept) instead of seeding again",
    )
    args = ap.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    if args.reuse:
        engine, backend = reused_database(f"bench-tickets-{args.tickets}", args.pg_url)
        factory = make_session_factory(engine)
        info = seeded(factory)
    else:
        engine, backend = empty_database(f"bench-tickets-{args.tickets}", args.pg_url)
        factory = make_session_factory(engine)
        info = seed(factory, args.tickets, rng)
    print(
        f"{backend}: {args.tickets:,} tickets ({info['active']:,} active), "
        f"{info['events']:,} events, {info['alerts']:,} notices already sent, "
        + ("reused" if args.reuse else f"seeded in {time.perf_counter() - started:.0f} s")
    )
    dispatcher = Dispatcher(
        factory, default_registry(), Pipeline(DEFAULT_STAGES), clock=lambda: NOW
    )
    with factory() as s:
        ids = {
            h: s.scalar(select(User.id).where(User.external_id == h))
            for h in (info["agent"], info["manager"], info["admin"])
        }
    # Each person opens tickets they may see: the agent's own, the manager's team's, any.
    with factory() as s:
        active = Ticket.status.in_(("new", "open", "waiting"))
        visible = {
            info["agent"]: list(
                s.scalars(select(Ticket.id).where(active, Ticket.assignee_id == ids[info["agent"]]))
            ),
            info["manager"]: list(
                s.scalars(
                    select(Ticket.id).where(
                        active,
                        Ticket.team_id
                        == select(User.team_id)
                        .where(User.id == ids[info["manager"]])
                        .scalar_subquery(),
                    )
                )
            ),
            info["admin"]: list(info["ticket_ids"]),  # type: ignore[call-overload]
        }
    lines = [
        ("tickets", lambda: "tickets"),
        ("tickets mine", lambda: "tickets mine"),
        ("tickets team", lambda: "tickets team"),
        ("tickets breaching", lambda: "tickets breaching"),
        ("tickets <customer>", lambda: f"tickets {info['customer']}"),
    ]
    print()
    print("| command | as | p50 ms | p95 ms | mean ms | replies |")
    print("|---|---|---:|---:|---:|---|")
    lines.append(("ticket #N", lambda: ""))
    for label, make in lines:
        for role, handle in (
            ("agent", info["agent"]),
            ("manager", info["manager"]),
            ("admin", info["admin"]),
        ):
            if label == "tickets team" and role == "admin":
                continue
            samples, statuses = [], set()
            for _ in range(args.runs):
                line = make() if label != "ticket #N" else f"ticket #{rng.choice(visible[handle])}"
                t0 = time.perf_counter()
                reply = dispatcher.dispatch(Command(ids[handle], "bench", text=line))  # type: ignore[arg-type]
                samples.append((time.perf_counter() - t0) * 1000)
                statuses.add(reply.status)
            print(
                f"| {label} | {role} | {percentile(samples, 50):.1f} | "
                f"{percentile(samples, 95):.1f} | {statistics.mean(samples):.1f} | "
                f"{','.join(sorted(statuses))} |"
            )
    sent: list[Owed] = []

    async def send(owed: Owed) -> None:
        sent.append(owed)

    moment = [NOW]
    sweep = SlaSweep(factory, send, clock=lambda: moment[0], batch=100_000)
    finds = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        found = sweep.due_ticket_ids()
        finds.append((time.perf_counter() - t0) * 1000)
    runs = []
    # The last ten minutes' backlog, then one run a minute (the job's interval) for five minutes.
    for step in range(6):
        moment[0] = NOW + timedelta(minutes=step)
        t0 = time.perf_counter()
        stats = asyncio.run(sweep.run_once())
        runs.append((step, time.perf_counter() - t0, stats.tickets, stats.sent))
    print()
    p50, p95 = percentile(finds, 50), percentile(finds, 95)
    print("| sweep step | seconds | tickets | notices sent |")
    print("|---|---:|---:|---:|")
    print(
        f"| find due tickets (indexed read) p50 / p95 | {p50 / 1000:.4f} / {p95 / 1000:.4f} "
        f"| {len(found):,} | — |"
    )
    for step, seconds, tickets, notices in runs:
        what = "catch-up run (10 min backlog)" if step == 0 else f"run at +{step} min"
        print(f"| {what} | {seconds:.3f} | {tickets:,} | {notices:,} |")
    engine.dispose()


if __name__ == "__main__":
    main()
