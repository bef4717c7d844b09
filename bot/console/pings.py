"""Reminders at the console: the reminder job in a background thread, pings between prompts."""

from __future__ import annotations

import asyncio
import logging
import threading

from schedules.reminders import ReminderDispatcher

log = logging.getLogger(__name__)


class ReminderPings:
    """Runs the console's reminder job every `interval` seconds until stopped."""

    def __init__(self, job: ReminderDispatcher, interval: float) -> None:
        self.job = job
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start looking: at once (reminders missed while away go out first), then each interval."""
        self._thread = threading.Thread(target=self._run, name="console-reminders", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        """Stop after the run in flight."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while not self._stop.is_set():
                try:
                    loop.run_until_complete(self.job.run_once())
                except Exception:
                    # A database hiccup must not end the console; the next run tries again.
                    log.exception("console reminders: run failed")
                self._stop.wait(self.interval)
        finally:
            loop.close()
