"""Latency of the REST API over HTTP: GET /api/v1/customers (and a few more) at a given scale.

Loads `demo-data` at the given scale (a SQLite copy cached under bench/out, or the PostgreSQL
database at --pg-url, whose public schema is wiped), starts `crmbot serve`'s HTTP server with the
api component on 127.0.0.1, and times each request end to end from an HTTP client with
keep-alive, as a rep, a manager and an admin.

    .venv/bin/python bench/bench_api.py --customers 10000
    .venv/bin/python bench/bench_api.py --customers 10000 --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import data_file, empty_database, percentile, sqlite_copy  # noqa: E402
from bot.bootstrap import App, build  # noqa: E402
from bot.serve import run_until  # noqa: E402
from crm_core.db import make_session_factory, unit_of_work  # noqa: E402
from crm_core.exchange import import_jsonl  # noqa: E402
from crm_core.models import Customer, User, utcnow  # noqa: E402
from crm_core.services.api_tokens import create_token  # noqa: E402
from crm_core.settings import Settings  # noqa: E402
from crm_core.stages import DEFAULT_STAGES  # noqa: E402

ROLES = ("alice", "bob", "admin")


def load(customers: int, seed: int, pg_url: str | None) -> str:
    """The database URL of a loaded book at this scale."""
    if not pg_url:
        return f"sqlite:///{sqlite_copy(customers, seed, 'api')}"
    engine, _ = empty_database(f"api-{customers}", pg_url)
    with (
        unit_of_work(make_session_factory(engine)) as session,
        data_file(customers, seed).open(encoding="utf-8") as f,
    ):
        import_jsonl(session, f, stages=DEFAULT_STAGES)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return pg_url


def serve(app: App) -> tuple[asyncio.AbstractEventLoop, asyncio.Event, int]:
    """Run serve's HTTP server (api only) in a thread; its loop, stop event and port."""
    started: queue.Queue[tuple[asyncio.AbstractEventLoop, asyncio.Event, int]] = queue.Queue()

    def run() -> None:
        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            await run_until(
                app, ("api",), stop, on_ready=lambda rt: started.put((loop, stop, rt.port or 0))
            )

        asyncio.run(main())

    threading.Thread(target=run, daemon=True).start()
    return started.get(timeout=60)


def main() -> None:
    """Load, serve, then time each request per role; print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=200, help="timed requests per path and role")
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (its schema is wiped)")
    args = ap.parse_args()

    url = load(args.customers, args.seed, args.pg_url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=Path(tempfile.mkdtemp()),
        http_host="127.0.0.1",
        http_port=0,
        api_rate_per_minute=1_000_000,
    )
    app = build(settings, database_url=url)
    tokens: dict[str, str] = {}
    with unit_of_work(app.session_factory) as session:
        total = session.scalar(select(func.count()).select_from(Customer))
        for handle in ROLES:
            user = session.scalar(select(User).where(User.external_id == handle))
            assert user is not None, handle
            tokens[handle] = create_token(session, user, scope="read", now=utcnow())
    loop, stop, port = serve(app)
    base = f"http://127.0.0.1:{port}/api/v1"
    print(f"{app.engine.dialect.name}, {total} customers, {args.runs} requests per row")
    print("| request | as | items | p50 ms | p95 ms | mean ms |")
    print("|---|---|---:|---:|---:|---:|")
    with httpx.Client(timeout=30) as client:
        for handle in ROLES:
            headers = {"Authorization": f"Bearer {tokens[handle]}"}
            first = client.get(f"{base}/customers", headers=headers).json()
            one = first["items"][0]["id"]
            paths = {
                "GET /customers": ("/customers", {}),
                "GET /customers?cursor=(page 2)": ("/customers", {"cursor": first["next"]}),
                "GET /customers?limit=200": ("/customers", {"limit": 200}),
                "GET /customers?q=tech": ("/customers", {"q": "tech"}),
                "GET /customers/{id}": (f"/customers/{one}", {}),
                "GET /deals?open=true": ("/deals", {"open": "true"}),
            }
            for label, (path, params) in paths.items():
                params = {k: v for k, v in params.items() if v is not None}
                for _ in range(5):
                    client.get(base + path, headers=headers, params=params)
                samples: list[float] = []
                items = 0
                for _ in range(args.runs):
                    started = time.perf_counter()
                    resp = client.get(base + path, headers=headers, params=params)
                    samples.append((time.perf_counter() - started) * 1000)
                    assert resp.status_code == 200, resp.text
                    items = len(resp.json().get("items", [1]))
                print(
                    f"| {label} | {handle} | {items} | {percentile(samples, 50):.1f} | "
                    f"{percentile(samples, 95):.1f} | {statistics.fmean(samples):.1f} |"
                )
    loop.call_soon_threadsafe(stop.set)


if __name__ == "__main__":
    main()
