"""The pipeline totals the triggers keep equal the aggregate over the deals after any writes."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.exchange import import_jsonl
from crm_core.models import Customer, Deal, PipelineTotal, User
from crm_core.services.pipeline import pipeline_report, pipeline_report_from_deals
from crm_core.stages import DEFAULT_STAGES, Pipeline
from tests.conftest import TestBot

STAGES = ["lead", "qualified", "proposal", "negotiation"]
AMOUNTS = ["", "100", "2.5k", "48000", "19.99", "1234.56", "7k EUR", "300 CNY", "0.01"]
PEOPLE = ["alice", "carol", "dave"]


def kept(bot: TestBot) -> dict[tuple[int, str, str], tuple[int, int, int]]:
    """The totals table, rows with no deals left out."""
    rows = bot.rows(select(PipelineTotal))
    return {
        (r.owner_id, r.stage, r.currency): (int(r.deals), int(r.priced), int(r.cents))
        for (r,) in rows
        if r.deals or r.priced or r.cents
    }


def aggregated(bot: TestBot) -> dict[tuple[int, str, str], tuple[int, int, int]]:
    """The same totals computed from the deals of live customers, in Python."""
    out: dict[tuple[int, str, str], list[int]] = {}
    stmt = (
        select(Customer.owner_id, Deal.stage, Deal.currency, Deal.amount)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(Customer.archived_at.is_(None), Customer.merged_into.is_(None))
    )
    for owner, stage, currency, amount in bot.rows(stmt):
        row = out.setdefault((owner, stage, currency), [0, 0, 0])
        row[0] += 1
        if amount is not None:
            row[1] += 1
            row[2] += int(Decimal(str(amount)).quantize(Decimal("0.01")) * 100)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def assert_reports_equal(bot: TestBot) -> None:
    """Every person's pipeline from the totals is the one aggregated from their deals."""
    assert kept(bot) == aggregated(bot)
    with bot.session_factory() as session:
        for handle, uid in bot.users.items():
            actor = session.get(User, uid)
            assert actor is not None
            ctx = Ctx(session, actor, Pipeline(DEFAULT_STAGES))
            fast, slow = pipeline_report(ctx), pipeline_report_from_deals(ctx)
            assert (handle, fast) == (handle, slow)


def name(rnd: random.Random) -> str:
    """A company name unlike the others (so no duplicate warning stops the create)."""
    return "".join(rnd.choice("bcdfghjklmnpqrstvwxz") for _ in range(9)).title()


def ids(bot: TestBot, model: Any, **where: Any) -> list[int]:
    """Ids of rows of `model` matching column == value."""
    stmt = select(model.id).where(*(getattr(model, k) == v for k, v in where.items()))
    return sorted(int(i) for i in bot.query(stmt))


def test_totals_follow_every_write_path(testbot: TestBot) -> None:
    """Random creates, moves, edits, undos, reassigns, merges, archives, deletes and imports."""
    rnd = random.Random(20)
    for i in range(6):
        who = PEOPLE[i % 3]
        assert testbot(who, f"new customer {name(rnd)}").status == "ok"

    def live_customers() -> list[int]:
        stmt = select(Customer.id).where(Customer.merged_into.is_(None))
        return sorted(int(i) for i in testbot.query(stmt))

    def any_deal() -> int | None:
        deals = ids(testbot, Deal)
        return rnd.choice(deals) if deals else None

    undo: list[Any] = []
    done: dict[str, int] = {}

    def say(text: str) -> Any:
        reply = testbot("admin", text)
        if reply.status == "ok":
            word = text.split()[0] + (" with deals" if "with deals" in text else "")
            done[word] = done.get(word, 0) + 1
        return reply

    def new_deal() -> None:
        cid = rnd.choice(live_customers())
        amount, stage = rnd.choice(AMOUNTS), rnd.choice(STAGES)
        say(f"new deal #{cid}: Deal {rnd.randrange(10**6)} {amount} stage {stage}")

    def move() -> None:
        if (did := any_deal()) is not None:
            to = rnd.choice([*STAGES, "won", "lost: price"])
            say(f"move #{did} to {to}")

    def edit() -> None:
        if (did := any_deal()) is not None:
            change = rnd.choice(
                ["amount " + (rnd.choice(AMOUNTS[1:])), f"owner @{rnd.choice(PEOPLE)}"]
            )
            reply = say(f"edit deal #{did}: {change}")
            undo.extend(b for b in reply.buttons if "undo" in str(b.payload))

    def undo_edit() -> None:
        if undo and testbot.press("admin", undo.pop(rnd.randrange(len(undo)))).status == "ok":
            done["undo"] = done.get("undo", 0) + 1

    def reassign() -> None:
        cid = rnd.choice(live_customers())
        owner = testbot.query(select(Customer.owner_id).where(Customer.id == cid))[0]
        to = rnd.choice([p for p in PEOPLE if testbot.users[p] != owner])
        say(f"reassign #{cid} to @{to}{rnd.choice(['', ' with deals'])}")

    def merge() -> None:
        live = live_customers()
        if len(live) > 3:
            drop, keep = rnd.sample(live, 2)
            say(f"merge #{drop} into #{keep} confirm")

    def archive() -> None:
        say(f"archive #{rnd.choice(live_customers())} confirm")

    def unarchive() -> None:
        archived = sorted(set(live_customers()) - set(ids(testbot, Customer, archived_at=None)))
        if archived:
            say(f"unarchive #{rnd.choice(archived)}")

    def delete() -> None:
        if (did := any_deal()) is not None:
            say(f"delete deal #{did} confirm")

    def new_customer() -> None:
        say(f"new customer {name(rnd)}")

    ops: list[Callable[[], None]] = [new_deal] * 5 + [move] * 4 + [edit] * 3 + [undo_edit] * 2
    ops += [reassign] * 3 + [merge] * 2 + [archive, unarchive, delete, new_customer]
    for step in range(120):
        rnd.choice(ops)()
        if step % 15 == 14:
            assert_reports_equal(testbot)
    assert kept(testbot), "the run left open deals to compare"
    every = {"new", "move", "edit", "undo", "reassign", "reassign with deals", "merge"}
    assert every | {"archive", "unarchive", "delete"} <= set(done), done
    assert_reports_equal(testbot)


def test_totals_follow_imports_and_bulk_updates(testbot: TestBot) -> None:
    """The importer's inserts and updates, and UPDATE statements no service wrote, keep them."""
    records: list[dict[str, Any]] = [
        {"type": "user", "external_id": "imp", "name": "Imp Orter", "team": None},
        {"type": "customer", "external_id": "c1", "name": "Imported One", "owner": "imp"},
        {"type": "customer", "external_id": "c2", "name": "Imported Two", "owner": "imp"},
    ]
    for n in range(12):
        records.append(
            {
                "type": "deal",
                "external_id": f"d{n}",
                "customer": f"c{n % 2 + 1}",
                "title": f"Imported deal {n}",
                "amount": None if n % 5 == 0 else f"{n * 1000 + 0.25}",
                "currency": "EUR" if n % 3 == 0 else "USD",
                "stage": STAGES[n % 4],
            }
        )

    def run(data: list[dict[str, Any]]) -> None:
        with unit_of_work(testbot.session_factory) as session:
            import_jsonl(session, [json.dumps(r) for r in data], stages=DEFAULT_STAGES)

    run(records)
    assert_reports_equal(testbot)
    # Again with changes: amounts, a stage, a customer archived, one moved to the other.
    for r in records:
        if r["type"] == "deal":
            r["amount"] = "5"
            r["stage"] = "proposal" if r["external_id"] == "d1" else r["stage"]
            r["customer"] = "c1"
        if r["external_id"] == "c2":
            r["archived_at"] = "2026-11-01T00:00:00Z"
    run(records)
    assert_reports_equal(testbot)
    with unit_of_work(testbot.session_factory) as session:
        alice = testbot.users["alice"]
        session.execute(update(Customer).values(owner_id=alice))
        session.execute(update(Deal).where(Deal.id % 2 == 0).values(currency="CNY"))
        session.execute(update(Customer).where(Customer.id % 2 == 0).values(archived_at=None))
    assert_reports_equal(testbot)
    # A rolled-back write leaves the totals as they were.
    before = kept(testbot)
    with testbot.session_factory() as session:
        session.execute(update(Deal).values(amount=Decimal("1.00")))
        session.rollback()
    assert kept(testbot) == before
