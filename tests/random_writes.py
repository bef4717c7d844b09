"""Random writes through the bot as the admin, for tests that compare what triggers keep (the
pipeline, funnel and forecast totals) with what the deals say after any mix of write paths."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.exchange import import_jsonl
from crm_core.models import Customer, Deal
from crm_core.stages import DEFAULT_STAGES
from tests.conftest import FakeClock, TestBot

STAGES = ["lead", "qualified", "proposal", "negotiation"]
AMOUNTS = ["", "100", "2.5k", "48000", "19.99", "1234.56", "7k EUR", "300 CNY", "0.01"]
PEOPLE = ["alice", "carol", "dave"]


def name(rnd: random.Random) -> str:
    """A company name unlike the others (so no duplicate warning stops the create)."""
    return "".join(rnd.choice("bcdfghjklmnpqrstvwxz") for _ in range(9)).title()


def ids(bot: TestBot, model: Any, **where: Any) -> list[int]:
    """Ids of rows of `model` matching column == value."""
    stmt = select(model.id).where(*(getattr(model, k) == v for k, v in where.items()))
    return sorted(int(i) for i in bot.query(stmt))


def imported_book(
    deals: int, stage: Callable[[int], str], *, second_owner: str = "imp"
) -> list[dict[str, Any]]:
    """Exchange records of a new user `imp`, two customers (the second owned by
    `second_owner`) and `deals` deals alternating between them: every fifth unpriced, every
    third in EUR, deal n in `stage(n)`."""
    records: list[dict[str, Any]] = [
        {"type": "user", "external_id": "imp", "name": "Imp Orter", "team": None},
        {"type": "customer", "external_id": "c1", "name": "Imported One", "owner": "imp"},
        {"type": "customer", "external_id": "c2", "name": "Imported Two", "owner": second_owner},
    ]
    for n in range(deals):
        records.append(
            {
                "type": "deal",
                "external_id": f"d{n}",
                "customer": f"c{n % 2 + 1}",
                "title": f"Imported deal {n}",
                "amount": None if n % 5 == 0 else f"{n * 1000 + 0.25}",
                "currency": "EUR" if n % 3 == 0 else "USD",
                "stage": stage(n),
            }
        )
    return records


def import_records(bot: TestBot, records: Sequence[dict[str, Any]]) -> None:
    """Run the exchange importer over `records` in one unit of work."""
    with unit_of_work(bot.session_factory) as session:
        import_jsonl(session, [json.dumps(r) for r in records], stages=DEFAULT_STAGES)


class RandomWrites:
    """Creates, moves, edits, undos, reassigns, merges, archives and deletes, each picked and
    filled in by `rnd`; `done` counts the commands that succeeded, by verb.

    With a clock, deals get close days, edits change them, `later` moves time on, and `won`
    comes up `wins` times in a move's targets.
    """

    def __init__(
        self, bot: TestBot, rnd: random.Random, *, clock: FakeClock | None = None, wins: int = 1
    ) -> None:
        self.bot, self.rnd, self.clock = bot, rnd, clock
        self.targets = [*STAGES, *["won"] * wins, "lost: price"]
        self.undo: list[Any] = []
        self.done: dict[str, int] = {}

    def seed(self, customers: int = 6) -> None:
        """Customers of each person in turn, to write on."""
        for i in range(customers):
            who = PEOPLE[i % len(PEOPLE)]
            assert self.bot(who, f"new customer {name(self.rnd)}").status == "ok"

    def run(self, ops: Sequence[Callable[[], None]], steps: int, every: int, check: Any) -> None:
        """`steps` random picks of `ops`, `check()` after every `every` of them."""
        for step in range(steps):
            self.rnd.choice(ops)()
            if step % every == every - 1:
                check()

    def live_customers(self) -> list[int]:
        stmt = select(Customer.id).where(Customer.merged_into.is_(None))
        return sorted(int(i) for i in self.bot.query(stmt))

    def any_deal(self) -> int | None:
        deals = ids(self.bot, Deal)
        return self.rnd.choice(deals) if deals else None

    def day(self) -> str:
        assert self.clock is not None
        return (self.clock.now.date() + timedelta(days=self.rnd.randrange(-120, 240))).isoformat()

    def say(self, text: str) -> Any:
        reply = self.bot("admin", text)
        if reply.status == "ok":
            word = text.split()[0] + (" with deals" if "with deals" in text else "")
            self.done[word] = self.done.get(word, 0) + 1
        return reply

    def new_deal(self) -> None:
        rnd = self.rnd
        cid = rnd.choice(self.live_customers())
        amount, stage = rnd.choice(AMOUNTS), rnd.choice(STAGES)
        close = rnd.choice(["", f" close {self.day()}"]) if self.clock else ""
        self.say(f"new deal #{cid}: Deal {rnd.randrange(10**6)} {amount}{close} stage {stage}")

    def move(self) -> None:
        if (did := self.any_deal()) is not None:
            self.say(f"move #{did} to {self.rnd.choice(self.targets)}")

    def edit(self) -> None:
        if (did := self.any_deal()) is not None:
            rnd = self.rnd
            changes = ["amount " + (rnd.choice(AMOUNTS[1:])), f"owner @{rnd.choice(PEOPLE)}"]
            if self.clock:
                changes.append(f"close {self.day()}")
            reply = self.say(f"edit deal #{did}: {rnd.choice(changes)}")
            self.undo.extend(b for b in reply.buttons if "undo" in str(b.payload))

    def category(self) -> None:
        if (did := self.any_deal()) is not None:
            kind = self.rnd.choice(["commit", "best_case", "pipeline", "auto"])
            self.say(f"forecast #{did} {kind}")

    def undo_edit(self) -> None:
        undo = self.undo
        if undo and self.bot.press("admin", undo.pop(self.rnd.randrange(len(undo)))).status == "ok":
            self.done["undo"] = self.done.get("undo", 0) + 1

    def reassign(self) -> None:
        rnd = self.rnd
        cid = rnd.choice(self.live_customers())
        owner = self.bot.query(select(Customer.owner_id).where(Customer.id == cid))[0]
        to = rnd.choice([p for p in PEOPLE if self.bot.users[p] != owner])
        self.say(f"reassign #{cid} to @{to}{rnd.choice(['', ' with deals'])}")

    def merge(self) -> None:
        live = self.live_customers()
        if len(live) > 3:
            drop, keep = self.rnd.sample(live, 2)
            self.say(f"merge #{drop} into #{keep} confirm")

    def archive(self) -> None:
        self.say(f"archive #{self.rnd.choice(self.live_customers())} confirm")

    def unarchive(self) -> None:
        live = set(self.live_customers())
        archived = sorted(live - set(ids(self.bot, Customer, archived_at=None)))
        if archived:
            self.say(f"unarchive #{self.rnd.choice(archived)}")

    def delete_deal(self) -> None:
        if (did := self.any_deal()) is not None:
            self.say(f"delete deal #{did} confirm")

    def new_customer(self) -> None:
        self.say(f"new customer {name(self.rnd)}")

    def later(self) -> None:
        # Wins and moves land in other months, and today moves across month ends.
        assert self.clock is not None
        self.clock.advance(days=self.rnd.randrange(1, 20), hours=self.rnd.randrange(24))
