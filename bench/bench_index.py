"""Where indexing time goes: the model alone, a full reindex, and the worker's outbox drains.

    .venv/bin/python bench/bench_index.py [--data tests/data/ask_notes.jsonl] [--batch 256]

Imports the book into a temporary SQLite database, then times (1) embedding every passage
with the model alone, (2) `reindex`, (3) draining the import's outbox the way the worker does
(BATCH notes a drain: read notes, delete and upsert in Chroma, mark the rows). Same book and
model each time, so the differences are the pipeline's.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sqlalchemy import update

from bot.bootstrap import build
from crm_core import db
from crm_core.exchange import import_jsonl
from crm_core.models import IndexOutbox
from crm_core.settings import Settings
from retrieval import embedders
from retrieval.notes import live_notes
from retrieval.worker import BATCH

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Time the three paths and print notes/s and passages/s for each."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT / "tests/data/ask_notes.jsonl")
    ap.add_argument("--batch", type=int, default=None, help="Embedding batch (default: the code's)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/bench-index")
    args = ap.parse_args()
    if args.batch:
        embedders._BATCH = args.batch
    import shutil

    shutil.rmtree(args.out, ignore_errors=True)
    cfg = Settings(_env_file=None, data_dir=args.out, index_dir=args.out / "index")  # type: ignore[call-arg]
    engine = db.make_engine(cfg.resolved_database_url())
    db.upgrade(engine)
    app = build(cfg)
    with db.unit_of_work(app.session_factory) as session, args.data.open(encoding="utf-8") as f:
        import_jsonl(session, f, stages=app.pipeline.stages)
    index = app.notes()
    with db.unit_of_work(app.session_factory) as session:
        texts = [p.text for batch in live_notes(session) for n in batch for p in n.passages]
    index.search.embedder.question("warm up")  # type: ignore[union-attr]
    started = time.perf_counter()
    index.indexer.embedder.passages(texts)
    model = time.perf_counter() - started
    print(f"model alone: {len(texts)} passages in {model:.1f} s = {len(texts) / model:.1f}/s")
    notes, _, seconds = index.indexer.reindex()
    print(f"reindex: {notes} notes in {seconds:.1f} s = {notes / seconds:.1f} notes/s")
    with db.unit_of_work(app.session_factory) as session:
        session.execute(update(IndexOutbox).values(indexed_at=None))
    index.dense.reset()
    started = time.perf_counter()
    drained = 0
    while True:
        result = index.indexer.drain(BATCH)
        if not result.notes:
            break
        drained += result.notes
    seconds = time.perf_counter() - started
    print(f"worker drains: {drained} notes in {seconds:.1f} s = {drained / seconds:.1f} notes/s")
    engine.dispose()


if __name__ == "__main__":
    main()
