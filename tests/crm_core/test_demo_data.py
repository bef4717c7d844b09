"""Demo data: deterministic, consistent, and importable."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.demo_data import REFERENCE_NOW, generate, tweetsumm_issues
from crm_core.exchange import TYPES, import_jsonl
from crm_core.models import Customer, Deal, Ticket, TicketEvent, TicketStatus
from crm_core.stages import DEFAULT_STAGES

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    """A small demo data set."""
    return list(generate(20, seed=7))


def by_type(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Records grouped by type."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[r["type"]].append(r)
    return groups


def test_same_seed_same_records_and_different_seed_different() -> None:
    assert list(generate(15, seed=1)) == list(generate(15, seed=1))
    assert list(generate(15, seed=1)) != list(generate(15, seed=2))


def test_now_moves_the_dates() -> None:
    later = REFERENCE_NOW + timedelta(days=30)
    shifted = [r for r in generate(5, seed=1, now=later) if r["type"] == "interaction"]
    latest = max(datetime.fromisoformat(r["occurred_at"]) for r in shifted)
    assert REFERENCE_NOW < latest <= later
    with pytest.raises(ValueError):
        next(generate(5, seed=1, now=datetime(2025, 1, 1)))


def test_sizes_and_named_staff(records: list[dict[str, Any]]) -> None:
    groups = by_type(records)
    assert len(groups["customer"]) == 20
    assert 1 <= len(groups["deal"]) / 20 <= 5
    assert 5 <= len(groups["interaction"]) / 20 <= 35
    assert all(1 <= n <= 3 for n in Counter(c["customer"] for c in groups["contact"]).values())
    users = {u["external_id"]: u for u in groups["user"]}
    teams = {t["external_id"] for t in groups["team"]}
    assert users["alice"]["name"] == "Alice Chen"
    assert {k: users[k]["role"] for k in ("alice", "carol", "bob", "dave", "erin", "admin")} == {
        "alice": "rep",
        "carol": "rep",
        "bob": "manager",
        "dave": "rep",
        "erin": "manager",
        "admin": "admin",
    }
    assert users["alice"]["team"] == users["carol"]["team"] == users["bob"]["team"]
    assert users["dave"]["team"] == users["erin"]["team"] != users["alice"]["team"]
    assert (users["wei"]["locale"], users["wei"]["timezone"]) == ("zh", "Asia/Shanghai")
    assert {u["team"] for u in users.values() if u["team"]} <= teams
    pending = [r for r in groups["reminder"] if r["status"] == "pending"]
    assert pending
    assert all(datetime.fromisoformat(r["due_at"]) > REFERENCE_NOW for r in pending)


def test_every_stage_and_consistent_history(records: list[dict[str, Any]]) -> None:
    groups = by_type(records)
    assert {d["stage"] for d in groups["deal"]} == {s.name for s in DEFAULT_STAGES}
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in groups["stage_change"]:
        history[change["deal"]].append(change)
    order = [s.name for s in DEFAULT_STAGES if not s.closed]
    for deal in groups["deal"]:
        changes = sorted(history[deal["external_id"]], key=lambda c: c["changed_at"])
        assert changes[0]["from_stage"] is None
        assert changes[0]["to_stage"] == order[0]
        assert changes[0]["changed_at"] == deal["created_at"]
        for before, after in itertools.pairwise(changes):
            assert after["from_stage"] == before["to_stage"]
        assert changes[-1]["to_stage"] == deal["stage"]
        closed = deal["stage"] in ("won", "lost")
        assert (deal["closed_at"] is not None) == closed
        if closed:
            assert deal["closed_at"] == changes[-1]["changed_at"]
        assert (deal["lost_reason"] is not None) == (deal["stage"] == "lost")


def test_chinese_customers_and_notes(records: list[dict[str, Any]]) -> None:
    groups = by_type(records)
    chinese = {c["external_id"] for c in groups["customer"] if CJK.search(c["name"])}
    assert "华东物流有限公司" in {c["name"] for c in groups["customer"]}
    notes = [i for i in groups["interaction"] if i["customer"] in chinese]
    assert notes
    assert all(CJK.search(n["text"]) for n in notes)
    english = [i["text"] for i in groups["interaction"] if i["customer"] not in chinese]
    assert len(set(english)) > 0.9 * len(english)  # varied, not a handful of canned lines
    kinds = {i["kind"] for i in groups["interaction"]}
    assert kinds == {"call", "meeting", "visit", "email", "chat", "note"}


def test_notes_fall_in_the_last_year(records: list[dict[str, Any]]) -> None:
    times = [datetime.fromisoformat(r["occurred_at"]) for r in by_type(records)["interaction"]]
    assert all(REFERENCE_NOW - timedelta(days=366) < t < REFERENCE_NOW for t in times)
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)


def test_demo_data_imports_cleanly(
    session_factory: sessionmaker[Session], records: list[dict[str, Any]]
) -> None:
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    with unit_of_work(session_factory) as session:
        report = import_jsonl(session, lines, stages=DEFAULT_STAGES)
    expected = Counter(r["type"] for r in records)
    assert report.created == {t: expected.get(t, 0) for t in TYPES}
    with session_factory() as session:
        stages = set(session.scalars(select(Deal.stage).distinct()))
        assert stages == {s.name for s in DEFAULT_STAGES}
        key = session.scalar(select(Customer.name_key).where(Customer.name == "华东物流有限公司"))
        assert key == "华东物流"
        assert session.scalar(select(func.count()).select_from(Customer)) == 20
        # Unique name keys keep "show Acme" unambiguous in demos.
        assert session.scalar(select(func.count(Customer.name_key.distinct()))) == 20


def test_demo_tickets_come_from_the_real_care_summaries(
    session_factory: sessionmaker[Session],
) -> None:
    care = tweetsumm_issues()
    assert len(care) > 1000, "TweetSumm summaries are read from ../shared/data/tweetsumm"
    records = list(generate(20, seed=7, care=care))
    # Without summaries the same seed gives the same book and no tickets.
    assert [r for r in records if r["type"] not in ("ticket", "ticket_event")] == list(
        generate(20, seed=7)
    )
    groups = by_type(records)
    problems = {p for p, _ in care}
    assert groups["ticket"] and all(t["description"] in problems for t in groups["ticket"])
    assert {t["status"] for t in groups["ticket"]} >= {"open", "resolved"}
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    with unit_of_work(session_factory) as session:
        report = import_jsonl(session, lines, stages=DEFAULT_STAGES)
    assert report.created["ticket"] == len(groups["ticket"])
    assert report.created["ticket_event"] == len(groups["ticket_event"])
    with session_factory() as session:
        active = session.scalars(select(Ticket).where(Ticket.status == TicketStatus.open)).all()
        # The import recomputes the SLA clocks: an open ticket has its place in the queue.
        assert active and all(t.queue_at is not None for t in active)
        replies = session.scalars(select(TicketEvent.text).where(TicketEvent.kind == "reply"))
        assert {r for r in replies} <= {a for _, a in care}
