"""Run `crmbot ARGS` with every thread under cProfile (CPU time); merged stats to OUT at exit.

cProfile sees only the thread that enables it, and a worker's commands run in the event
loop's thread and in `asyncio.to_thread` workers: each new thread enables a profiler of its
own on its first call, and at exit they are merged into one pstats file.

    .venv/bin/python bench/profiled_worker.py OUT.prof serve --reuse-port ...
"""

from __future__ import annotations

import atexit
import cProfile
import pstats
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _start(*_: Any) -> None:
    """A new thread's first call: give it a profiler (which replaces this hook)."""
    # The thread's own CPU time: waiting on the database or for the GIL is not cost.
    profile = cProfile.Profile(time.thread_time)
    with _lock:
        _profiles.append(profile)
    profile.enable()


def _dump(out: str) -> None:
    for profile in _profiles:
        profile.disable()
    stats: pstats.Stats | None = None
    for profile in _profiles:
        try:
            stats = pstats.Stats(profile) if stats is None else stats.add(profile)
        except TypeError:  # a thread that made no call yet: nothing to merge
            continue
    if stats is not None:
        stats.dump_stats(out)


def main() -> None:
    """Profile every thread of `crmbot ARGS`."""
    out = sys.argv[1]
    sys.argv = ["crmbot", *sys.argv[2:]]
    atexit.register(_dump, out)
    threading.setprofile(_start)
    _start()
    from bot.cli import main as crmbot

    crmbot()


if __name__ == "__main__":
    main()
