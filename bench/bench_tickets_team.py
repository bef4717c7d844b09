"""`tickets team` on PostgreSQL at 100,000 tickets: the old customer index against the covering one.

Runs on a database `bench_tickets.py --pg-url URL` seeded (it is reused, not reseeded). For each
index in turn, old, new, old, new (so drift under a loaded machine hits both alike), it times
`tickets team` through the real dispatcher as the bench's agent and manager, and reads the plan
of the agent's slowest branch (tickets of the customers in their book, in the team) with
EXPLAIN (ANALYZE, BUFFERS) for every agent of the first team. Leaves the covering index in place.

    .venv/bin/python bench/bench_tickets_team.py --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_tickets import NOW, seeded  # noqa: E402
from bench.bench_verbs import percentile  # noqa: E402
from crm_core.access import ticket_branches  # noqa: E402
from crm_core.db import make_engine, make_session_factory  # noqa: E402
from crm_core.models import Role, Ticket, User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

INDEXES = {
    "old (customer_id, queue_at)": "(customer_id, queue_at)",
    "new (customer_id, queue_at, id) INCLUDE (team_id)": "(customer_id, queue_at, id) "
    "INCLUDE (team_id)",
}


def use(engine: Engine, columns: str) -> None:
    """Swap ix_tickets_customer_queue for one on these columns; vacuum so both start alike."""
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX IF EXISTS ix_tickets_customer_queue"))
        conn.execute(text(f"CREATE INDEX ix_tickets_customer_queue ON tickets {columns}"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE tickets"))


def plans(engine: Engine, agents: list[User]) -> tuple[list[float], list[int]]:
    """Execution ms and shared buffers of each agent's customers branch of `tickets team`."""
    ms, buffers = [], []
    with engine.connect() as conn:
        for user in agents:
            way = ticket_branches(user)[0]
            stmt = (
                select(Ticket.queue_at, Ticket.id)
                .where(way, Ticket.queue_at.is_not(None), Ticket.team_id == user.team_id)
                .order_by(Ticket.queue_at, Ticket.id)
                .limit(26)
            )
            sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
            lines = [r[0] for r in conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql))]
            ms.append(float(re.search(r"Execution Time: ([\d.]+)", lines[-1]).group(1)))  # type: ignore[union-attr]
            top = next(line for line in lines if "Buffers:" in line)
            buffers.append(sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", top)))
    return ms, buffers


def main() -> None:
    """Time both indexes, twice each, interleaved."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    engine = make_engine(args.pg_url)
    factory = make_session_factory(engine)
    info = seeded(factory)
    dispatcher = Dispatcher(
        factory, default_registry(), Pipeline(DEFAULT_STAGES), clock=lambda: NOW
    )
    with factory() as s:
        people = {
            role: s.scalar(select(User.id).where(User.external_id == info[role]))
            for role in ("agent", "manager")
        }
        agent = s.get(User, people["agent"])
        assert agent is not None
        agents = list(
            s.scalars(select(User).where(User.role == Role.rep, User.team_id == agent.team_id))
        )
        s.expunge_all()
    times: dict[tuple[str, str], list[float]] = {}
    explained: dict[str, tuple[list[float], list[int]]] = {}
    started = datetime.now().astimezone()
    for label in [*INDEXES, *INDEXES]:
        use(engine, INDEXES[label])
        ms, buffers = plans(engine, agents)
        seen = explained.setdefault(label, ([], []))
        seen[0].extend(ms)
        seen[1].extend(buffers)
        for role, uid in people.items():
            for _ in range(5):  # warm the connection and the pages alike for both
                dispatcher.dispatch(Command(uid, "bench", text="tickets team"))  # type: ignore[arg-type]
            for _ in range(args.runs):
                t0 = time.perf_counter()
                dispatcher.dispatch(Command(uid, "bench", text="tickets team"))  # type: ignore[arg-type]
                times.setdefault((label, role), []).append((time.perf_counter() - t0) * 1000)
    use(engine, INDEXES["new (customer_id, queue_at, id) INCLUDE (team_id)"])
    print(f"{started:%Y-%m-%d %H:%M %Z}, load average {os.getloadavg()[0]:.1f} at the end")
    print()
    print("| index | as | p50 ms | p95 ms | mean ms | runs |")
    print("|---|---|---:|---:|---:|---:|")
    for (label, role), v in times.items():
        print(
            f"| {label} | {role} | {percentile(v, 50):.1f} | {percentile(v, 95):.1f} | "
            f"{statistics.mean(v):.1f} | {len(v)} |"
        )
    print()
    print("| index | agents' customers branch: execution p50 / max ms | buffers p50 / max |")
    print("|---|---|---|")
    for label, (ms, buffers) in explained.items():
        print(
            f"| {label} | {statistics.median(ms):.2f} / {max(ms):.2f} | "
            f"{statistics.median(buffers):.0f} / {max(buffers)} |"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
