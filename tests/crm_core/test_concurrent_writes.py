"""Two processes changing one record at once: history and audit stay one unbroken chain."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, InteractionKind, StageChange
from crm_core.services.customers import create_customer
from crm_core.services.deals import create_deal
from crm_core.services.interactions import log_interaction
from crm_core.services.reminders import create_reminder
from crm_core.services.users import add_user

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 30
# Well after the real clock the worker processes run on, so every snooze is accepted.
LATER = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)


def _seed(factory: sessionmaker[Session]) -> dict[str, int]:
    """One rep with a customer, a deal in `qualified`, a note and a pending reminder."""
    with unit_of_work(factory) as session:
        alice = add_user(session, "alice", "Alice")
        session.flush()
        ctx = Ctx(session, alice)
        customer = create_customer(ctx, "Acme Logistics")
        deal = create_deal(ctx, customer, "Fleet renewal", stage="qualified")
        note, _ = log_interaction(ctx, customer, InteractionKind.call, "first text")
        reminder = create_reminder(ctx, alice, LATER, "call Dana", customer=customer)
        session.flush()
        return {"user": alice.id, "deal": deal.id, "note": note.id, "reminder": reminder.id}


def _race(engine: Engine, user: int, *scripts: list[str]) -> None:
    """Run one worker process per script at the same time; each must finish cleanly."""
    url = engine.url.render_as_string(hide_password=False)
    worker = [sys.executable, "-m", "tests.crm_core.write_worker", url, str(user), str(ROUNDS)]
    procs = [
        subprocess.Popen(
            [*worker, *script],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for script in scripts
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0, "a worker got an internal error"


def _audit_chain(factory: sessionmaker[Session], action: str, field: str) -> list[list[Any]]:
    """[before, after] of `field` in each `action` entry, in the order they were written."""
    with factory() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()
        return [e.changes[field] for e in entries if field in e.changes]


def _broken_links(pairs: list[list[Any]]) -> list[int]:
    """Positions where a change does not start from where the previous one ended."""
    return [i for i in range(1, len(pairs)) if pairs[i][0] != pairs[i - 1][1]]


def test_two_processes_changing_one_deal_note_and_reminder_keep_history_and_audit_chained(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    """Two processes move one deal back and forth, edit one note, snooze one reminder.

    Every stage change starts where the previous one ended, and every audited "before" is
    the previous entry's "after": no write was made from a stale read.
    """
    ids = _seed(session_factory)
    deal, note, rid = ids["deal"], ids["note"], ids["reminder"]
    _race(
        engine,
        ids["user"],
        [
            f"move #{deal} to proposal",
            f"edit #{note}: text one from A",
            f"snooze #{rid} 2031-01-07 09:00",
            f"move #{deal} to qualified",
            f"edit #{note}: text two from A",
            f"snooze #{rid} 2031-01-08 09:00",
        ],
        [
            f"move #{deal} to qualified",
            f"edit #{note}: text one from B",
            f"snooze #{rid} 2031-01-09 09:00",
            f"move #{deal} to proposal",
            f"edit #{note}: text two from B",
            f"snooze #{rid} 2031-01-10 09:00",
        ],
    )
    with session_factory() as session:
        history = session.execute(
            select(StageChange.from_stage, StageChange.to_stage)
            .where(StageChange.deal_id == deal)
            .order_by(StageChange.id)
        ).all()
    moves = [list(h) for h in history[1:]]
    # Most moves find the deal in the other stage; a few find it already moved and write nothing.
    assert len(moves) >= ROUNDS
    assert history[0] == (None, "qualified") and moves[0][0] == "qualified"
    assert _broken_links(moves) == []
    assert _audit_chain(session_factory, "deal.move", "stage") == moves
    edits = _audit_chain(session_factory, "interaction.update", "text")
    assert len(edits) >= 2 * ROUNDS and edits[0][0] == "first text"
    assert _broken_links(edits) == []
    snoozes = _audit_chain(session_factory, "reminder.snooze", "due_at")
    assert len(snoozes) >= 2 * ROUNDS and snoozes[0][0] == LATER.isoformat()
    assert _broken_links(snoozes) == []
