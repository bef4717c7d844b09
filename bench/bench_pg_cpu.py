"""Client and PostgreSQL backend CPU per command of the fleet's Slack mix, per plan setting.

Runs the fleet benchmark's Slack mix (40% `customer #id`, 15% `find`, 5% `customers`, 35%
`log call #id`, 5% `new customer`; `--kind R` fixes the draw to one kind: 0.1 card, 0.5 find,
0.57 customers, 0.8 log, 0.97 new) through `Gateway.dispatch_as` as its linked Slack reps, on
the book bench_fleet.py loaded at --url, once per entry of --modes: `default` (the engine as
shipped) or an extra `-c` option for the URL (`plan_cache_mode=auto`). Measures this process's
CPU and that of the database's backends (from /proc: the server must run on this machine)
per command after 30 warm-up commands, and the statements sent.

    .venv/bin/python bench/bench_pg_cpu.py --url postgresql+psycopg://... --commands 300 \
        --modes default,plan_cache_mode=auto,default,plan_cache_mode=auto
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import time
from pathlib import Path

from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_fleet import backend_cpu, backends_used  # noqa: E402
from bot.bootstrap import build  # noqa: E402
from crm_core.db import unit_of_work  # noqa: E402
from crm_core.models import Customer, Identity  # noqa: E402
from crm_core.settings import Settings  # noqa: E402
from handlers.reply import Command  # noqa: E402

WARM_UP = 30


def line(r: float, cid: int, name: str) -> str:
    """The fleet mix's Slack line for a draw `r` in [0, 1)."""
    mark = f"fleetbench-{secrets.token_hex(6)}"
    if r < 0.40:
        return f"customer #{cid}"
    if r < 0.55:
        return f"find {name.split()[0][:5]}"
    if r < 0.60:
        return "customers"
    if r < 0.95:
        return f"log call #{cid}: pricing follow-up {mark}"
    return f"new customer Bench {mark}"


def run(url: str, commands: int, mode: str, seed: int, kind: float | None) -> str:
    """One table row: the mode's CPU per command."""
    full = url if mode == "default" else f"{url}{'&' if '?' in url else '?'}options=-c%20{mode}"
    crm = build(Settings(_env_file=None), database_url=full)  # type: ignore[call-arg]
    sent = [0]

    def count(*_: object) -> None:
        sent[0] += 1

    event.listen(crm.engine, "before_cursor_execute", count)
    gateway = crm.gateway("slack")
    with unit_of_work(crm.session_factory) as s:
        setting = s.execute(text("SHOW plan_cache_mode")).scalar_one()
        linked = s.execute(
            select(Identity.platform_user_id, Identity.user_id).where(Identity.platform == "slack")
        ).all()
        books = {
            pid: s.execute(
                select(Customer.id, Customer.name).where(
                    Customer.owner_id == uid, Customer.merged_into.is_(None)
                )
            ).all()
            for pid, uid in linked
        }
    books = {k: v for k, v in books.items() if v}
    if not books:
        raise SystemExit("no linked Slack reps with customers: run bench_fleet.py first")
    rng = random.Random(seed)
    database = make_url(url).database or ""

    def one() -> None:
        sid = rng.choice(list(books))
        cid, name = rng.choice(books[sid])
        said = line(kind if kind is not None else rng.random(), cid, name)
        done = gateway.dispatch_as(
            sid,
            lambda uid: Command(
                uid, "slack", text=said, chat_id="C1", delivery_id=f"command:{secrets.token_hex(8)}"
            ),
        )
        assert done is not None and done[1].status in ("ok", "info"), said

    for _ in range(WARM_UP):
        one()
    backends, client, statements = backend_cpu(database), time.process_time(), sent[0]
    for _ in range(commands):
        one()
    server = backends_used(backends, backend_cpu(database))
    client = time.process_time() - client
    statements = sent[0] - statements
    crm.engine.dispose()
    return (
        f"| {setting} | {commands} | {client / commands * 1000:.2f} | "
        f"{server / commands * 1000:.2f} | {statements / commands:.2f} |"
    )


def main() -> None:
    """Parse arguments, run each mode in turn, print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="a database bench_fleet.py loaded")
    ap.add_argument("--commands", type=int, default=300)
    ap.add_argument("--modes", default="default")
    ap.add_argument("--kind", type=float, default=None, help="the one draw to use (see above)")
    args = ap.parse_args()
    print(
        "| plan_cache_mode | commands | client CPU ms/command | backends' CPU ms/command "
        "| statements |"
    )
    print("|---|---:|---:|---:|---:|")
    for i, mode in enumerate(args.modes.split(",")):
        print(run(args.url, args.commands, mode, i, args.kind), flush=True)


if __name__ == "__main__":
    main()
