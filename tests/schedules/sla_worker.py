"""A sweep process for the multi-worker SLA tests: the real claim, send and finish loop.

    python -m tests.schedules.sla_worker URL OUT PROGRESS

Sends to a fake that appends `ticket kind target` to OUT (O_APPEND, one write per line), runs
one batch per tick, appends "idle <n>" to PROGRESS after each tick and sleeps. Exits after a
tick that sent nothing and found nothing due.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from crm_core.db import make_engine, make_session_factory
from schedules.sla import Owed, SlaSweep

TICK_PAUSE = float(os.environ.get("TICK_PAUSE", "0.3"))
BATCH = int(os.environ.get("BATCH", "50"))


def main() -> None:
    """Run ticks until one finds nothing due."""
    url, out, progress = sys.argv[1:4]
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def send(owed: Owed) -> None:
        os.write(fd, f"{owed.ticket_id} {owed.kind} {owed.target}\n".encode())

    engine = make_engine(url)
    sweep = SlaSweep(make_session_factory(engine), send, batch=BATCH)
    ticks = 0
    while True:
        stats = asyncio.run(sweep.run_once())
        ticks += 1
        with open(progress, "a", encoding="utf-8") as f:
            f.write(f"idle {ticks} {stats.sent}\n")
        if stats.tickets == 0:
            break
        time.sleep(TICK_PAUSE)
    os.close(fd)
    engine.dispose()


if __name__ == "__main__":
    main()
