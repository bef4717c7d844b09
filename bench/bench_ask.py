"""`ask` at scale: indexing throughput, answer latency (no language model) and serving memory.

Loads `demo-data` at the given scale into a SQLite copy, rebuilds the note index with the
bundled multilingual E5 model (the slow step: it is kept under bench/out and reused), then, in
a fresh process that only serves, times questions as reps, managers and the admin.

    .venv/bin/python bench/bench_ask.py --customers 1000
    .venv/bin/python bench/bench_ask.py --customers 1000 --serve-only   # reuse the index
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import OUT, percentile, sqlite_copy  # noqa: E402

QUESTIONS = (
    "what did they say about pricing?",
    "what discount did they ask for?",
    "who is the decision maker?",
    "any concerns about the competitor?",
    "what happened in the last call?",
    "what are the next steps?",
    "客户对价格有什么意见？",
    "上次拜访时客户关心什么？",
    "did they mention a security review?",
    "when do they plan to renew?",
)


def _app(customers: int, chroma_url: str | None = None):  # type: ignore[no-untyped-def]
    from bot.bootstrap import build
    from crm_core.settings import Settings

    db = OUT / f"bench-ask-{customers}.sqlite"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=OUT,
        index_dir=OUT / f"ask-index-{customers}",
        chroma_url=chroma_url,
    )
    return build(settings, database_url=f"sqlite:///{db}")


def index(customers: int, seed: int) -> dict[str, float]:
    """Copy the loaded database and rebuild its note index; notes per second."""
    path = sqlite_copy(customers, seed, "ask")
    os.replace(path, OUT / f"bench-ask-{customers}.sqlite")
    from crm_core.db import make_engine, upgrade

    upgrade(make_engine(f"sqlite:///{OUT / f'bench-ask-{customers}.sqlite'}"))
    app = _app(customers)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 5120 < 256:
            rate = done / (time.perf_counter() - started)
            print(f"  {done}/{total} notes, {rate:.1f}/s", file=sys.stderr, flush=True)

    notes, passages, seconds = app.notes().indexer.reindex(progress)
    return {
        "notes": notes,
        "passages": passages,
        "seconds": seconds,
        "notes_per_s": notes / seconds,
    }


def serve(customers: int, rounds: int, seed: int, chroma_url: str | None) -> dict[str, float | str]:
    """Time questions in a process that only answers; peak RSS of that process."""
    from sqlalchemy import select

    from bot.asking import ask_one
    from crm_core.db import unit_of_work
    from crm_core.models import Customer, Role, User

    app = _app(customers, chroma_url)
    rng = random.Random(seed)
    with unit_of_work(app.session_factory) as s:
        users = {
            r: [u.external_id for u in s.scalars(select(User).where(User.role == r))] for r in Role
        }
        owned = {
            ext: [
                c
                for c in s.scalars(
                    select(Customer.external_id)
                    .join(User, User.id == Customer.owner_id)
                    .where(User.external_id == ext)
                )
            ]
            for ext in users[Role.rep]
        }
    started = time.perf_counter()
    ask_one(app, users[Role.admin][0], None, "warm up: pricing")
    first = time.perf_counter() - started
    search = app.notes().search
    origins = f"lexical from {search.lexical_origin}, vectors from {search.vectors_origin}"
    samples: dict[str, list[float]] = {"rep": [], "manager": [], "admin": []}
    for _ in range(rounds):
        q = rng.choice(QUESTIONS)
        rep = rng.choice([r for r in users[Role.rep] if owned.get(r)])
        for role, who, customer in (
            ("rep", rep, rng.choice(owned[rep])),
            ("manager", rng.choice(users[Role.manager]), None),
            ("admin", users[Role.admin][0], None),
        ):
            t0 = time.perf_counter()
            ask_one(app, who, customer, q)
            samples[role].append((time.perf_counter() - t0) * 1000)
    fresh = freshness(app, rng)
    every = [x for v in samples.values() for x in v]
    out: dict[str, float | str] = {
        "first_ask": origins,
        "first_ask_s": first,
        "p50_ms": percentile(every, 50),
        "p95_ms": percentile(every, 95),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    out["fresh_p50_s"] = percentile(fresh, 50)
    out["fresh_max_s"] = max(fresh)
    for role, v in samples.items():
        out[f"{role}_p50_ms"] = percentile(v, 50)
        out[f"{role}_p95_ms"] = percentile(v, 95)
    return out


def freshness(app, rng: random.Random, probes: int = 10) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from logging a note to its vectors being searchable, with serve's worker.

    Searchable: the indexer stored its vector and this process's vector table holds it (what
    the next question sees after its own outbox check).
    """
    from sqlalchemy import func, select

    from crm_core.db import unit_of_work
    from crm_core.models import Customer, Interaction
    from handlers.reply import Command
    from retrieval.lexical import Filter
    from retrieval.worker import IndexWorker

    index = app.notes()
    index.inline_drain = False
    worker = IndexWorker(index.indexer, app.settings.index_interval_seconds)
    worker.start()
    lags = []
    try:
        with unit_of_work(app.session_factory) as s:
            owner, cid = s.execute(select(Customer.owner_id, Customer.id).limit(1)).one()
        for i in range(probes):
            # Log at a random point of the worker's one-second cycle.
            time.sleep(rng.uniform(0, 1))
            # Earlier runs left probes on this customer: look only at notes from now on.
            since = int(time.time()) - 1
            t0 = time.perf_counter()
            app.dispatcher.dispatch(
                Command(
                    owner, "cli", text=f"log call #{cid}: freshness probe {i}, robots on dock 4"
                )
            )
            with unit_of_work(app.session_factory) as s:
                note = s.scalar(select(func.max(Interaction.id)))
            probe = index.search.embedder.question("robots on the dock")
            while True:
                with unit_of_work(app.session_factory) as s:
                    index.search.sync_vectors(s)
                new = Filter(customers=frozenset({cid}), since=since)
                near = index.search.vectors.search(probe, 50, new)
                if note in {h.interaction_id for h in near}:
                    break
                time.sleep(0.01)
            lags.append(time.perf_counter() - t0)
    finally:
        worker.stop()
    return lags


def _chroma_server(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`chroma run` over the bench's store, as the fleet layout runs it; its URL once up."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("chroma run did not come up")


def _peak_mb(pid: int) -> float:
    """Peak resident memory of another process (VmHWM), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    """Index (unless --serve-only), then measure answering in a fresh process."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--serve-only", action="store_true")
    ap.add_argument(
        "--server",
        action="store_true",
        help="serve with the store in a `chroma run` server (the fleet layout), not embedded",
    )
    ap.add_argument(
        "--cold",
        action="store_true",
        help="delete the saved in-memory indexes first: the serving process builds them",
    )
    ap.add_argument("--_serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_chroma-url", dest="chroma_url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    if args._serve:
        print(json.dumps(serve(args.customers, args.rounds, args.seed, args.chroma_url)))
        return
    if not args.serve_only:
        built = index(args.customers, args.seed)
        print(
            f"indexed {built['notes']} notes ({built['passages']} passages) in "
            f"{built['seconds']:.0f} s: {built['notes_per_s']:.1f} notes/s"
        )
    store = OUT / f"ask-index-{args.customers}"
    if args.cold:
        import shutil

        shutil.rmtree(store / "snapshots", ignore_errors=True)
    command = [
        sys.executable,
        __file__,
        "--customers",
        str(args.customers),
        "--rounds",
        str(args.rounds),
        "--seed",
        str(args.seed),
        "--_serve",
    ]
    server = None
    if args.server:
        server, url = _chroma_server(store / "chroma")
        command += ["--_chroma-url", url]
    try:
        out = subprocess.run(command, check=True, capture_output=True, text=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        if server is not None:
            figures["chroma_server_peak_rss_mb"] = _peak_mb(server.pid)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
