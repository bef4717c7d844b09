"""How prepared statements' plans age: a command's database time call by call, on one connection.

psycopg prepares a statement on a connection after its `prepare_threshold` executions (5), and
PostgreSQL plans a prepared statement with its parameters five times, then may switch to a
generic plan. `EXPLAIN ANALYZE` never shows that plan (it plans with the parameters), so this
runs each command line `--calls` times through the real dispatcher on an engine whose pool holds
one connection, and times the statements the dispatcher sent (client side, each from its send
to its result), under three settings of the kept book's engine, taking turns call by call:

- `auto`: as shipped (psycopg's threshold 5, PostgreSQL's `plan_cache_mode = auto`);
- `custom`: `-c plan_cache_mode=force_custom_plan` (prepared, but planned with the parameters);
- `unprepared`: psycopg's `prepare_threshold=None` (every statement parsed and planned anew).

    .venv/bin/python bench/bench_plan_cache.py --customers 100000 \\
        --pg-url postgresql+psycopg://... --lines "report cycle by month;report cycle 2025" \\
        [--calls 20]

Prints, per line, role and setting, the median database time of the first five calls and of
the calls from the eleventh on (when a generic plan, if any, is in use).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine, create_engine, event, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.book import book_url, open_book  # noqa: E402
from crm_core.db import make_session_factory  # noqa: E402
from crm_core.models import User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

SETTINGS = ("auto", "custom", "unprepared")


def engine_for(url: str, setting: str) -> Engine:
    """The book's engine with one pooled connection, under one plan setting."""
    options = "-c timezone=UTC"
    connect: dict[str, Any] = {}
    if setting == "custom":
        options += " -c plan_cache_mode=force_custom_plan"
    if setting == "unprepared":
        connect["prepare_threshold"] = None
    # The book's URL names its schema in `options`; appended here, the later -c settings win.
    schema = url.split("options=", 1)[1]
    base = url.split("?", 1)[0]
    connect["options"] = f"{unquote(schema)} {options}"
    return create_engine(base, connect_args=connect, pool_size=1, hide_parameters=True)


def main() -> None:
    """Time each line's statements call by call under each setting; print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--lines", required=True, help="command lines split by ';'")
    ap.add_argument("--roles", default="alice,bob,admin")
    ap.add_argument("--calls", type=int, default=20, help="calls per line, role and setting")
    ap.add_argument("--settings", default=",".join(SETTINGS))
    args = ap.parse_args()
    book, _ = open_book(args.customers, args.seed, args.pg_url)  # built and migrated
    book.dispose()
    url = book_url(args.customers, args.seed, args.pg_url)
    settings = args.settings.split(",")
    engines = {s: engine_for(url, s) for s in settings}
    spent: list[float] = []
    started: dict[int, float] = {}

    def before(_c: Any, cursor: Any, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(_c: Any, cursor: Any, *_: Any) -> None:
        spent.append((time.perf_counter() - started.pop(id(cursor))) * 1000)

    dispatchers = {}
    for setting, engine in engines.items():
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        factory = make_session_factory(engine)
        dispatchers[setting] = Dispatcher(factory, default_registry(), Pipeline(DEFAULT_STAGES))
    with make_session_factory(engines[settings[0]])() as s:
        users = {
            r: s.scalar(select(User.id).where(User.external_id == r)) for r in args.roles.split(",")
        }
    print("| line | as | setting | DB ms calls 1-5 (median) | DB ms calls 11+ (median) | max |")
    print("|---|---|---|---:|---:|---:|")
    for line in [v.strip() for v in args.lines.split(";")]:
        for role, uid in users.items():
            # Fresh connections for each line and role: their prepared statements start cold.
            for engine in engines.values():
                engine.dispose()
            per_call: dict[str, list[float]] = {s: [] for s in settings}
            # The settings take turns call by call, so the machine's load falls on each alike.
            for _ in range(args.calls):
                for setting in settings:
                    spent.clear()
                    command = Command(uid, "bench", text=line)  # type: ignore[arg-type]
                    dispatchers[setting].dispatch(command)
                    per_call[setting].append(sum(spent))
            for setting, calls in per_call.items():
                first = statistics.median(calls[:5])
                late = statistics.median(calls[10:]) if len(calls) > 10 else float("nan")
                print(
                    f"| {line} | {role} | {setting} | {first:.1f} | {late:.1f} | "
                    f"{max(calls):.1f} |",
                    flush=True,
                )
    for engine in engines.values():
        engine.dispose()


if __name__ == "__main__":
    main()
