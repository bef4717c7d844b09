"""The indexing worker: drains the outbox in batches, backing off while the store is down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from retrieval.indexer import Indexer, Progress

log = logging.getLogger(__name__)

BATCH = 128
# Seconds to wait after consecutive failures (the store down): retry soon, then less often.
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)


class IndexWorker:
    """A daemon thread that keeps the dense index within a second or two of the database."""

    def __init__(
        self,
        indexer: Indexer,
        interval: float = 1.0,
        *,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.indexer = indexer
        self.interval = interval
        # Told after each batch and once when the backlog is gone (the console says so).
        self.on_progress = on_progress
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start draining in the background."""
        self._thread = threading.Thread(target=self._run, name="crmbot-indexer", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now instead of at the next interval."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the current batch and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        busy = False
        while not self._stop.is_set():
            try:
                result = self.indexer.drain(BATCH)
            except Exception:
                # A database hiccup: log it with its traceback and keep the worker alive.
                log.exception("index worker: drain failed")
                result = None
            if result is not None and result.notes and not result.failed:
                failures = 0
                busy = True
                self._report()
                continue
            if busy and result is not None and not result.failed and not result.busy:
                busy = False
                self._report()
            if result is None or result.failed:
                wait = BACKOFF[min(failures, len(BACKOFF) - 1)]
                failures += 1
            else:
                failures, wait = 0, self.interval
            self._wake.wait(wait)
            self._wake.clear()

    def _report(self) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(self.indexer.progress())
        except Exception:
            # Progress is a courtesy: a failed count must not stop the indexing.
            log.exception("index worker: progress report failed")
