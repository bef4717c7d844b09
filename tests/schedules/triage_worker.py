"""A triage process for the two-worker test: the real due, claim, send and finish loop.

    python -m tests.schedules.triage_worker URL OUT READY GO NOW

Sends to a fake that appends `team day target` to OUT (O_APPEND, one write per line). Writes
READY, waits for GO to exist (so both workers start together), runs three ticks at the fixed
moment NOW (ISO 8601) and exits.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path

from crm_core.db import make_engine, make_session_factory
from schedules.triage import TriageDispatcher


def main() -> None:
    """Wait for the start, then run three ticks."""
    url, out, ready, go, now = sys.argv[1:6]
    moment = datetime.fromisoformat(now)
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def send(team_id: int, day: date, target: str) -> None:
        os.write(fd, f"{team_id} {day.isoformat()} {target}\n".encode())

    engine = make_engine(url)
    job = TriageDispatcher(make_session_factory(engine), send, clock=lambda: moment)
    Path(ready).write_text("ready")
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    for _ in range(3):
        asyncio.run(job.run_once())
    os.close(fd)
    engine.dispose()


if __name__ == "__main__":
    main()
