"""The fleet-wide lock (bot/leader.py): one holder, free again when the holder dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.leader import Elected, LeaderLock

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time
from crm_core.db import make_engine
from bot.leader import LeaderLock
lock = LeaderLock(make_engine(sys.argv[1]), "probe")
assert lock.try_acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_one_holder_at_a_time(engine: Engine) -> None:
    """A second lock of the same name is refused until the first is released."""
    first, second = LeaderLock(engine, "probe"), LeaderLock(engine, "probe")
    other = LeaderLock(engine, "another")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert other.try_acquire(), "locks of other names are independent"
    assert first.still_held()
    first.release()
    assert not first.still_held()
    assert second.try_acquire()
    second.release()
    other.release()


def test_a_killed_holder_frees_the_lock(engine: Engine) -> None:
    """A worker killed with SIGKILL (no clean-up at all) lets a standby take the lock."""
    url = engine.url.render_as_string(hide_password=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        standby = LeaderLock(engine, "probe")
        assert not standby.try_acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        # The server notices the closed connection (the kernel, the closed file) at once.
        deadline = time.monotonic() + 10
        while not standby.try_acquire():
            assert time.monotonic() < deadline, "the dead holder's lock was never freed"
            time.sleep(0.02)
        standby.release()
    finally:
        holder.kill()
        holder.wait(timeout=10)


async def test_elected_gains_and_hands_over(engine: Engine) -> None:
    """Of two Elected components one leads; when it stops, the other takes over."""
    events: list[str] = []

    def elected(who: str) -> Elected:
        async def gain() -> None:
            events.append(f"{who} gains")

        async def lose() -> None:
            events.append(f"{who} loses")

        return Elected(LeaderLock(engine, "probe"), gain, lose, interval=0.02)

    a, b = elected("a"), elected("b")
    await a.start()
    await asyncio.wait_for(a.changed.wait(), 10)
    await b.start()
    await asyncio.sleep(0.2)
    assert (a.leading, b.leading) == (True, False)
    await a.stop()
    await asyncio.wait_for(b.changed.wait(), 10)
    await b.stop()
    assert events == ["a gains", "a loses", "b gains", "b loses"]


async def test_a_leader_whose_connection_dies_steps_down(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL: when the leader's session is killed (the lock gone with it) it stops its
    work at the next check, and a standby leads."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a session of its own holds the lock on PostgreSQL only")
    events: list[str] = []

    def elected(who: str) -> Elected:
        async def gain() -> None:
            events.append(f"{who} gains")

        async def lose() -> None:
            events.append(f"{who} loses")

        return Elected(LeaderLock(engine, "probe"), gain, lose, interval=0.02)

    a, b = elected("a"), elected("b")
    await a.start()
    await asyncio.wait_for(a.changed.wait(), 10)
    a.changed.clear()
    await b.start()
    assert a.lock._conn is not None
    pid = a.lock._conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    a.lock._conn.commit()
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    await asyncio.wait_for(a.changed.wait(), 10)
    await asyncio.wait_for(b.changed.wait(), 10)
    assert (a.leading, b.leading) == (False, True)
    await a.stop()
    await b.stop()
    # The standby may win before the old leader's next check notices (one interval at most).
    assert events[0] == "a gains" and events[-1] == "b loses"
    assert sorted(events[1:3]) == ["a loses", "b gains"]
