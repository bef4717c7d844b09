"""Latency of the main verbs through the real dispatcher on a large demo book.

Opens the demo book of the given scale (bench/book.py: built once and kept, a SQLite file under
bench/out or a schema of the PostgreSQL database at --pg-url), then times each verb end to end
(parse, resolve, query, format) as a rep, a manager and an admin. The timed writes (notes,
moves, edits: a few hundred a run) stay in the kept book; `--rebuild` loads it again.

    .venv/bin/python bench/bench_verbs.py --customers 10000
    .venv/bin/python bench/bench_verbs.py --customers 10000 --pg-url postgresql+psycopg://...

`customer (typo) after a change` and `find (typo) after a change` change a customer's city
through a second engine (another worker) before each timed call.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, event, func, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.book import open_book  # noqa: E402
from bot.allocator import freeze_startup_heap  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work, upgrade  # noqa: E402
from crm_core.demo_data import generate  # noqa: E402
from crm_core.exchange import import_jsonl  # noqa: E402
from crm_core.models import Contact, Customer, Deal, Interaction, User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

OUT = ROOT / "bench" / "out"


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[rank]


def empty_database(name: str, pg_url: str | None) -> tuple[Engine, str]:
    """A migrated, empty database: PostgreSQL at `pg_url` (schema wiped) or bench/out/NAME."""
    if pg_url:
        engine = make_engine(pg_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        backend = "PostgreSQL"
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        db_path = OUT / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{db_path}")
        backend = "SQLite"
    upgrade(engine)
    return engine, backend


def sqlite_copy(customers: int, seed: int, name: str) -> Path:
    """A fresh, migrated copy of this scale's loaded SQLite database (loaded once, then reused)."""
    source = OUT / f"bench-{customers}.sqlite"
    if not source.exists():
        engine, _ = empty_database(f"bench-{customers}", None)
        with (
            unit_of_work(make_session_factory(engine)) as session,
            data_file(customers, seed).open(encoding="utf-8") as f,
        ):
            import_jsonl(session, f, stages=DEFAULT_STAGES)
        engine.dispose()
    target = OUT / f"bench-{name}-{customers}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copy(source, target)
    engine = make_engine(f"sqlite:///{target}")
    upgrade(engine)  # the cached copy may predate newer migrations
    engine.dispose()
    return target


def data_file(customers: int, seed: int) -> Path:
    """The demo file for this scale, generated once and cached under bench/out."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"demo-{customers}-{seed}.jsonl"
    if not path.exists():
        with path.open("w", encoding="utf-8") as f:
            for record in generate(customers, seed):
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    """Load, then time each verb; print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=200, help="timed calls per verb and role")
    ap.add_argument(
        "--pg-url", default=None, help="PostgreSQL URL (the book lives in its own schema)"
    )
    ap.add_argument("--rebuild", action="store_true", help="load the book again")
    ap.add_argument(
        "--verbs", default="", help="comma-separated verbs to time (default: all), e.g. 'deal'"
    )
    ap.add_argument(
        "--round-trips",
        action="store_true",
        help="also count SQL statements and connection checkouts per call",
    )
    args = ap.parse_args()

    engine, load_s = open_book(args.customers, args.seed, args.pg_url, rebuild=args.rebuild)
    backend = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    factory = make_session_factory(engine)

    with factory() as s:
        counts = {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (Customer, Deal, Interaction, User)
        }
        roles = {
            r: s.scalar(select(User).where(User.external_id == r))
            for r in ("alice", "bob", "admin")
        }
        owners = {
            r: (
                select(User.id).where(User.team_id == u.team_id)
                if u.role.value == "manager"
                else select(User.id).where(User.id == u.id)
                if u.role.value == "rep"
                else select(User.id)
            )
            for r, u in roles.items()
            if u is not None
        }
        # Subqueries, not lists of ids: an admin's book of 100,000 is past a bind-parameter limit.
        book_ids = {
            r: select(Customer.id).where(Customer.owner_id.in_(q)) for r, q in owners.items()
        }
        books = {
            r: s.execute(select(Customer.id, Customer.name).where(Customer.owner_id.in_(q))).all()
            for r, q in owners.items()
        }
        deals = {
            r: s.execute(
                select(Deal.id).where(
                    Deal.customer_id.in_(ids), Deal.stage.in_(["proposal", "negotiation"])
                )
            )
            .scalars()
            .all()
            for r, ids in book_ids.items()
        }
        contacts = {
            r: s.execute(select(Contact.id).where(Contact.customer_id.in_(ids))).scalars().all()
            for r, ids in book_ids.items()
        }
        any_deals = {
            r: s.execute(select(Deal.id).where(Deal.customer_id.in_(ids))).scalars().all()
            for r, ids in book_ids.items()
        }

    dispatcher = Dispatcher(factory, default_registry(), Pipeline(DEFAULT_STAGES))
    trips = {"statements": 0, "checkouts": 0}
    if args.round_trips:

        def on_statement(*_: object) -> None:
            trips["statements"] += 1

        def on_checkout(*_: object) -> None:
            trips["checkouts"] += 1

        event.listen(engine, "before_cursor_execute", on_statement)
        event.listen(engine.pool, "checkout", on_checkout)
    # As `crmbot serve` does once started: what is loaded by now stays out of full collections.
    freeze_startup_heap()
    rng = random.Random(args.seed)
    stage_flip = {"proposal": "negotiation", "negotiation": "proposal"}
    deal_stage: dict[int, str] = {}

    def move_text(role: str) -> str:
        deal_id = rng.choice(deals[role])
        with factory() as s:
            current = deal_stage.get(deal_id) or s.scalar(
                select(Deal.stage).where(Deal.id == deal_id)
            )
        target = stage_flip[current or "proposal"]
        deal_stage[deal_id] = target
        return f"move #{deal_id} to {target}"

    def typo(name: str) -> str:
        # Swap two inner letters: the worst case, a full scan for suggestions.
        i = rng.randrange(1, max(2, len(name) - 2))
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :] if len(name) > 3 else name + "x"

    verbs: dict[str, Callable[[str], str]] = {
        "customer": lambda r: f"customer {rng.choice(books[r])[1]}",
        "customer (typo)": lambda r: f"customer {typo(rng.choice(books[r])[1])}",
        # A name's first word cut to five letters: several customers may start with it.
        "customer (partial)": lambda r: f"customer {rng.choice(books[r])[1].split()[0][:5]}",
        "find": lambda r: f"find {rng.choice(books[r])[1].split()[0][:5]}",
        "find (typo)": lambda r: f"find {typo(rng.choice(books[r])[1])}",
        "log": lambda r: (
            f"log call #{rng.choice(books[r])[0]}: bench note {rng.random():.6f} about pricing"
        ),
        "move": move_text,
        "pipeline": lambda r: "pipeline",
        # The reports over the whole book the person sees (issue 20: kept totals, 0030).
        "report funnel": lambda r: "report funnel",
        "forecast": lambda r: "forecast",
        # A period's funnel: whole months kept, the cut ones read deal by deal (0031).
        "report funnel 2025": lambda r: "report funnel 2025",
        # Grouped win rates and activity from kept sums (0033, 0034); the book's notes and
        # moves end in mid-2025, so the activity of a month of it as well as the default week.
        "report win rate by rep": lambda r: "report win rate by rep",
        "report win rate by month": lambda r: "report win rate by month",
        "report activity": lambda r: "report activity",
        "report activity 2025-03": lambda r: "report activity 2025-03",
        # Cycle times: counts and means kept (0035), medians read from the ordered cycle index;
        # a month of it cuts UTC days for a person in New York.
        "report cycle": lambda r: "report cycle",
        "report cycle 2025-03": lambda r: "report cycle 2025-03",
        "report cycle 2025": lambda r: "report cycle 2025",
        "report cycle by rep": lambda r: "report cycle by rep",
        # By month on the viewer's calendar: kept UTC months for the UTC admin, the team's
        # closed deals grouped in New York for bob (perf14).
        "report cycle by month": lambda r: "report cycle by month",
        # A year by rep (an admin: every owner's kept rows of twelve months, issue 20), and the
        # viewer's quarters (New York for alice and bob: grouped in their zone, perf14).
        "report cycle 2025 by rep": lambda r: "report cycle 2025 by rep",
        "report cycle by quarter": lambda r: "report cycle by quarter",
        # The customer's own entries and its contacts', deals' and notes' (import + bench writes).
        "history": lambda r: f"history #{rng.choice(books[r])[0]}",
        "history deal": lambda r: f"history deal #{rng.choice(deals[r])}",
        # A changed title each time: lock, check, update, audit.
        "edit contact": lambda r: (
            f"edit contact #{rng.choice(contacts[r])}: title Bench {rng.randrange(10**6)}"
        ),
        # The card of any deal of the book (open or closed), with its history, notes, reminders.
        "deal": lambda r: f"deal #{rng.choice(any_deals[r])}",
        # A write each time: a new amount and close day (lock, access, validate, audit).
        "edit deal": lambda r: (
            f"edit deal #{rng.choice(any_deals[r])}: amount {rng.randrange(1, 999)}k, "
            f"close 2027-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        ),
    }
    # Another worker's write just before each call: a customer's city changes (a column the
    # name index copies) through a second engine, untimed; the typo search then brings its copy
    # of the book up to date (issue 20: the admin's typo path after a change).
    other = make_engine(engine.url.render_as_string(hide_password=False))
    everyone = [cid for cid, _ in books["admin"]]

    def after_a_change(make: Callable[[str], str]) -> Callable[[str], str]:
        def changed(role: str) -> str:
            line = make(role)
            with other.begin() as conn:
                conn.execute(
                    update(Customer)
                    .where(Customer.id == rng.choice(everyone))
                    .values(city=f"Bench {rng.randrange(10**6)}")
                )
            return line

        return changed

    verbs["customer (typo) after a change"] = after_a_change(verbs["customer (typo)"])
    verbs["find (typo) after a change"] = after_a_change(verbs["find (typo)"])
    if args.verbs:
        wanted = [v.strip() for v in args.verbs.split(",")]
        unknown = set(wanted) - set(verbs)
        if unknown:
            ap.error(f"unknown verbs {sorted(unknown)}; known: {', '.join(verbs)}")
        verbs = {v: verbs[v] for v in wanted}
    rows = []
    for verb, make in verbs.items():
        for role, user in roles.items():
            assert user is not None
            if (
                not books[role]
                or (verb in ("move", "history deal") and not deals[role])
                or (verb == "edit contact" and not contacts[role])
            ):
                continue
            if verb in ("deal", "edit deal") and not any_deals[role]:
                continue
            samples = []
            cpu = []
            statuses: dict[str, int] = {}
            counted = {"statements": 0, "checkouts": 0}
            for i in range(args.runs + 10):
                line = make(role)
                before = dict(trips)
                t0, c0 = time.perf_counter(), time.thread_time()
                reply = dispatcher.dispatch(Command(user.id, "bench", text=line))
                elapsed = (time.perf_counter() - t0) * 1000
                # This thread's CPU time: the call's cost without the wait for a busy core.
                used = (time.thread_time() - c0) * 1000
                if i >= 10:  # warm-up calls are not counted
                    samples.append(elapsed)
                    cpu.append(used)
                    for k in counted:
                        counted[k] += trips[k] - before[k]
                    statuses[reply.status] = statuses.get(reply.status, 0) + 1
            rows.append(
                (
                    verb,
                    role,
                    len(books[role]),
                    percentile(samples, 50),
                    percentile(samples, 95),
                    statistics.mean(samples),
                    f"{percentile(cpu, 50):.1f} | {percentile(cpu, 95):.1f}"
                    + (
                        f" | {counted['statements'] / args.runs:.1f}"
                        f" | {counted['checkouts'] / args.runs:.1f}"
                        if args.round_trips
                        else ""
                    ),
                    statuses,
                )
            )

    other.dispose()
    print(
        f"## {backend}: {counts['customers']} customers, {counts['deals']} deals, "
        f"{counts['interactions']} interactions, {counts['users']} users"
    )
    print(
        f"Book of {args.customers} customers (bench/book.py): "
        + ("reused" if load_s is None else f"loaded in {load_s:.1f} s")
        + "\n"
    )
    print(
        f"Load average when the timing ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n"
    )
    extra = " statements | checkouts |" if args.round_trips else ""
    print(
        "| verb | as | customers visible | p50 ms | p95 ms | mean ms | CPU p50 ms | CPU p95 ms |"
        + extra
        + " replies |"
    )
    print(
        "|---|---|---:|---:|---:|---:|---:|---:|"
        + ("---:|---:|" if args.round_trips else "")
        + "---|"
    )
    for verb, role, book, p50, p95, mean, cpu_cols, statuses in rows:
        shown = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        print(
            f"| {verb} | {role} | {book} | {p50:.1f} | {p95:.1f} | {mean:.1f} | {cpu_cols} "
            f"| {shown} |"
        )


if __name__ == "__main__":
    main()
