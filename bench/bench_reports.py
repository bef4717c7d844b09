"""Latency of the report verbs and charts through the real dispatcher; the Maven CSV import time.

Reports: opens the demo book of the given scale (bench/book.py, as bench_verbs.py does: built once
and kept), gives each team a region (once), then times each report end to end as a rep, a manager
and an admin.

    .venv/bin/python bench/bench_reports.py --customers 10000
    .venv/bin/python bench/bench_reports.py --customers 10000 --pg-url postgresql+psycopg://...
    .venv/bin/python bench/bench_reports.py --maven ../shared/data/maven-crm [--pg-url ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import empty_database, percentile  # noqa: E402
from bench.book import open_book  # noqa: E402
from crm_core.csv_import import import_csv  # noqa: E402
from crm_core.db import make_session_factory, unit_of_work  # noqa: E402
from crm_core.models import Customer, Deal, Interaction, Region, StageChange, Team, User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

REPORTS = (
    "report win rate",
    "report win rate by rep",
    "report win rate by team",
    "report win rate by region",
    "report win rate by month",
    "report win rate by quarter this year",
    "report funnel",
    "report cycle",
    "report cycle by rep",
    "forecast",
    "forecast next quarter",
    "report activity",
)
CHARTS = ("chart funnel", "chart win rate by month", "chart forecast")


def time_maven(data: Path, pg_url: str | None, runs: int) -> None:
    """Import the Maven export into a fresh database `runs` times; print each duration."""
    mapping = ROOT / "examples" / "maven-crm" / "mapping.toml"
    for i in range(runs):
        engine, backend = empty_database(f"maven-{i}", pg_url)
        factory = make_session_factory(engine)
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            report = import_csv(session, mapping, data, stages=DEFAULT_STAGES)
        took = time.perf_counter() - started
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            again = import_csv(session, mapping, data, stages=DEFAULT_STAGES)
        second = time.perf_counter() - started
        assert not again.written.changed
        print(
            f"{backend}: Maven import {took:.1f} s ({report.written.created['deal']} deals, "
            f"{report.written.created['stage_change']} stage changes); re-import {second:.1f} s"
        )
        engine.dispose()


def main() -> None:
    """Load, then time each report and chart; print Markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=50, help="timed calls per report and role")
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (see bench/book.py)")
    ap.add_argument("--rebuild", action="store_true", help="load the book again")
    ap.add_argument("--maven", type=Path, default=None, help="time the Maven CSV import instead")
    ap.add_argument(
        "--only", default=None, help="comma-separated report lines to time (default: all)"
    )
    ap.add_argument("--no-charts", action="store_true", help="skip the charts")
    ap.add_argument("--cpu", action="store_true", help="add the thread's CPU p95 (ms)")
    args = ap.parse_args()
    if args.maven is not None:
        time_maven(args.maven, args.pg_url, 3)
        return

    engine, _ = open_book(args.customers, args.seed, args.pg_url, rebuild=args.rebuild)
    backend = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        # Demo data has no regions: one per team, so `by region` groups something.
        # Once per kept book: a team that has its region already keeps it.
        teams = s.execute(select(Team.id, Team.name).where(Team.region_id.is_(None))).all()
        for team_id, name in teams:
            region = Region(external_id=f"region-{team_id}", name=f"Region {name}")
            s.add(region)
            s.flush()
            s.execute(update(Team).where(Team.id == team_id).values(region_id=region.id))
    with factory() as s:
        counts = {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (Customer, Deal, StageChange, Interaction, User)
        }
        users = {
            r: s.scalar(select(User.id).where(User.external_id == r))
            for r in ("alice", "bob", "admin")
        }
    dispatcher = Dispatcher(factory, default_registry(), Pipeline(DEFAULT_STAGES))

    cpu: list[float] = []

    def timed(line: str, user_id: int, runs: int) -> tuple[list[float], dict[str, int]]:
        samples: list[float] = []
        statuses: dict[str, int] = {}
        cpu.clear()
        for i in range(runs + 5):
            t0, c0 = time.perf_counter(), time.thread_time()
            reply = dispatcher.dispatch(Command(user_id, "bench", text=line))
            elapsed = (time.perf_counter() - t0) * 1000
            if i >= 5:  # warm-up calls are not counted
                samples.append(elapsed)
                cpu.append((time.thread_time() - c0) * 1000)
                statuses[reply.status] = statuses.get(reply.status, 0) + 1
        return samples, statuses

    print(
        f"## {backend}: {counts['customers']} customers, {counts['deals']} deals, "
        f"{counts['stage_changes']} stage changes, {counts['interactions']} interactions\n"
    )
    print("| report | as | p50 ms | p95 ms | mean ms | replies |")
    print("|---|---|---:|---:|---:|---|")
    reports = args.only.split(",") if args.only else REPORTS
    for line in reports:
        for role, uid in users.items():
            assert uid is not None
            samples, statuses = timed(line, uid, args.runs)
            shown = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
            if args.cpu:
                shown += f" | CPU p95 {percentile(cpu, 95):.1f}"
            print(
                f"| {line} | {role} | {percentile(samples, 50):.1f} | "
                f"{percentile(samples, 95):.1f} | {statistics.mean(samples):.1f} | {shown} |",
                flush=True,
            )
    if args.no_charts:
        return
    print("\n| chart (query + PNG) | as | p50 ms | p95 ms | mean ms | replies |")
    print("|---|---|---:|---:|---:|---|")
    admin = users["admin"]
    assert admin is not None
    for line in CHARTS:
        samples, statuses = timed(line, admin, max(10, args.runs // 2))
        shown = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        print(
            f"| {line} | admin | {percentile(samples, 50):.1f} | {percentile(samples, 95):.1f} | "
            f"{statistics.mean(samples):.1f} | {shown} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
