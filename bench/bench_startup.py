"""CLI start-up: wall and CPU time of `crmbot --help` and `crmbot run --as alice "customer X"`.

Each command runs in a fresh process, N times; the figures are the median and the best. CPU
time (user + system of the child) is printed beside wall time because on a shared machine the
wall time mostly measures the queue for a core.

    .venv/bin/python bench/bench_startup.py [--runs 15] [--cached-bytecode]

By default the children inherit the caller's environment; where PYTHONDONTWRITEBYTECODE is
set (this project's sandboxes set it), crmbot's own modules are compiled from source at every
start. --cached-bytecode removes it, as an installed package or a plain shell has it: the first
(untimed) run writes __pycache__, the timed runs read it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CRMBOT = str(Path(sys.executable).parent / "crmbot")


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([CRMBOT, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Set up a small database, then time each command."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--cached-bytecode",
        action="store_true",
        help="time with bytecode cached (no PYTHONDONTWRITEBYTECODE)",
    )
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRMBOT_")}
        if opts.cached_bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["CRMBOT_DATA_DIR"] = tmp
        for setup in (
            ["db", "upgrade"],
            ["user", "add", "alice", "--name", "Alice Ng", "--team", "East"],
            ["run", "--as", "alice", "new customer Acme Logistics"],
        ):
            subprocess.run([CRMBOT, *setup], env=env, check=True, stdout=subprocess.DEVNULL)
        compiled = (
            "cached"
            if "PYTHONDONTWRITEBYTECODE" not in env
            else "not written (compiled at each start unless a __pycache__ is already there)"
        )
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"bytecode of crmbot's modules: {compiled}")
        print(f"{'command':<42}{'wall p50':>10}{'wall min':>10}{'cpu p50':>10}{'cpu min':>10}")
        for args in (["--help"], ["run", "--as", "alice", "customer Acme"]):
            walls, cpus = zip(*(_timed(args, env) for _ in range(opts.runs)), strict=True)
            name = "crmbot " + " ".join(a if " " not in a else f'"{a}"' for a in args)
            print(
                f"{name:<42}{statistics.median(walls):>9.2f}s{min(walls):>9.2f}s"
                f"{statistics.median(cpus):>9.2f}s{min(cpus):>9.2f}s"
            )


if __name__ == "__main__":
    main()
