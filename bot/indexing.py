"""The indexing worker as a `serve` component: keeps the note index up with the database."""

from __future__ import annotations

import asyncio
import threading

from bot.bootstrap import App
from retrieval.worker import IndexWorker


class IndexerComponent:
    """Runs the outbox drain in its own thread (embedding is CPU work, not event-loop work)."""

    name = "indexer"

    def __init__(self, app: App) -> None:
        self.app = app
        self.worker: IndexWorker | None = None

    async def start(self) -> None:
        """Open the index (off the loop: Chroma opens files) and start draining."""
        index = await asyncio.to_thread(self.app.notes)
        # The worker indexes; answers no longer stop to index a backlog themselves.
        index.inline_drain = False
        self.worker = IndexWorker(index.indexer, self.app.settings.index_interval_seconds)
        self.worker.start()
        # Building or loading the in-memory indexes takes seconds at scale: not on the loop,
        # not in the first asker's reply.
        threading.Thread(target=index.warm, name="crmbot-index-warm", daemon=True).start()

    async def stop(self) -> None:
        """Let the current batch finish."""
        if self.worker is not None:
            await asyncio.to_thread(self.worker.stop)
