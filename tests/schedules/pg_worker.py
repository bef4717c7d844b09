"""A dispatcher process for the multi-worker tests: the real claim and deliver loop.

    python -m tests.schedules.pg_worker URL OUT PROGRESS

Delivers to a fake notifier that appends each reminder id to OUT (O_APPEND, one write per
line), runs one batch per tick, and after each tick appends "idle <n>" to PROGRESS and sleeps
(the idle time between ticks). Exits after a tick with nothing to do once all work is gone.
With HANG_AFTER=n it delivers n reminders, then writes "sending <id>" to PROGRESS and hangs
inside the next send (a worker to kill mid-send).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from crm_core.db import make_engine, make_session_factory
from schedules.reminders import Due, ReminderDispatcher

TICK_PAUSE = float(os.environ.get("TICK_PAUSE", "0.3"))
BATCH = int(os.environ.get("BATCH", "50"))
HANG_AFTER = int(os.environ.get("HANG_AFTER", "-1"))


def main() -> None:
    """Run ticks until a tick finds nothing due."""
    url, out, progress = sys.argv[1:4]
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    delivered = 0

    async def deliver(due: Due) -> None:
        nonlocal delivered
        if delivered == HANG_AFTER:
            with open(progress, "a", encoding="utf-8") as f:
                f.write(f"sending {due.id}\n")
            time.sleep(600)
        os.write(fd, f"{due.id}\n".encode())
        delivered += 1

    engine = make_engine(url)
    dispatcher = ReminderDispatcher(make_session_factory(engine), deliver, batch=BATCH)
    ticks = 0
    while True:
        stats = asyncio.run(dispatcher.run_once(max_batches=1))
        ticks += 1
        with open(progress, "a", encoding="utf-8") as f:
            f.write(f"idle {ticks} {stats.sent}\n")
        if stats.sent == 0 and stats.lost == 0:
            break
        time.sleep(TICK_PAUSE)
    os.close(fd)
    engine.dispose()


if __name__ == "__main__":
    main()
