"""The indexing worker as a `serve` component: keeps the note index up with the database."""

from __future__ import annotations

import asyncio
import threading

from bot.bootstrap import App
from retrieval.worker import IndexWorker

# How long stopping waits for a warm-up still loading the index (seconds at 200,000 notes).
WARM_UP_WAIT = 120.0


class IndexerComponent:
    """Runs the outbox drain in its own thread (embedding is CPU work, not event-loop work)."""

    name = "indexer"

    def __init__(self, app: App) -> None:
        self.app = app
        self.worker: IndexWorker | None = None
        self.warming: threading.Thread | None = None

    async def start(self) -> None:
        """Open the index (off the loop: Chroma opens files) and start draining."""
        index = await asyncio.to_thread(self.app.notes)
        # The worker indexes; answers no longer stop to index a backlog themselves.
        index.inline_drain = False
        self.worker = IndexWorker(index.indexer, self.app.settings.index_interval_seconds)
        self.worker.start()
        # Building or loading the in-memory indexes takes seconds at scale: not on the loop,
        # not in the first asker's reply.
        self.warming = threading.Thread(target=index.warm, name="crmbot-index-warm", daemon=True)
        self.warming.start()

    async def stop(self) -> None:
        """Let the current batch and the warm-up finish."""
        if self.worker is not None:
            await asyncio.to_thread(self.worker.stop)
        if self.warming is not None:
            # A process that exits while this thread is inside Chroma's or the model's native
            # code can crash on the way out (a SIGTERM right after start did: exit -11).
            await asyncio.to_thread(self.warming.join, WARM_UP_WAIT)
