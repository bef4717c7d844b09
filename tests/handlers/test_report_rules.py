"""The report rules stated in the README, checked against hand-computed figures on small books
(attainment, whose win a deal is, rounding, bad input), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from crm_core.models import User
from tests.conftest import TestBot
from tests.random_writes import import_records

Q4_WIN = "2026-11-10T12:00:00+00:00"


def people(*rows: tuple[str, str, str, str | None, str]) -> list[dict[str, Any]]:
    """User records: (handle, name, role, team, zone)."""
    return [
        {
            "type": "user",
            "external_id": h,
            "name": n,
            "email": f"{h}@q.example",
            "role": role,
            "team": team,
            "timezone": zone,
            "locale": "en",
            "active": True,
        }
        for h, n, role, team, zone in rows
    ]


def deal(
    did: str,
    customer: str,
    owner: str,
    amount: str,
    stage: str,
    created: str,
    closed: str | None,
    *,
    currency: str = "USD",
    expected: str | None = None,
) -> list[dict[str, Any]]:
    """A deal record and its history (created at `created`, moved to `stage` at `closed`)."""
    out: list[dict[str, Any]] = [
        {
            "type": "deal",
            "external_id": did,
            "customer": customer,
            "title": did,
            "amount": amount,
            "currency": currency,
            "stage": stage,
            "owner": owner,
            "expected_close": expected or (closed or created)[:10],
            "lost_reason": "price" if stage == "lost" else None,
            "created_at": created,
            "closed_at": closed,
        },
        {
            "type": "stage_change",
            "external_id": f"{did}-0",
            "deal": did,
            "from_stage": None,
            "to_stage": "lead" if closed else stage,
            "changed_at": created,
            "actor": owner,
            "reason": None,
        },
    ]
    if closed:
        out.append(
            {
                "type": "stage_change",
                "external_id": f"{did}-1",
                "deal": did,
                "from_stage": "lead",
                "to_stage": stage,
                "changed_at": closed,
                "actor": owner,
                "reason": "price" if stage == "lost" else None,
            }
        )
    return out


def customers(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """Customer records: (external id, owner)."""
    return [
        {
            "type": "customer",
            "external_id": cid,
            "name": f"Cust {cid}",
            "owner": owner,
            "industry": "X",
            "city": "Y",
            "tags": [],
        }
        for cid, owner in pairs
    ]


def load(bot: TestBot, records: list[dict[str, Any]]) -> None:
    """Import the records and let the bot type as each imported person (by handle)."""
    import_records(bot, records)
    for handle, uid in bot.rows(select(User.external_id, User.id)):
        bot.users.setdefault(str(handle), int(uid))


@pytest.fixture
def mini(testbot: TestBot) -> TestBot:
    """rev11's quota book: East (manager m, reps a and b), EMEA (manager u, rep c), all UTC.

    a won 10,000 and holds a 10,000 Q4 quota; b won 30,000 on his customer and 5,000 on cc,
    a customer since given to c (EMEA).
    """
    records: list[dict[str, Any]] = [
        {"type": "region", "external_id": "APAC", "name": "APAC"},
        {"type": "region", "external_id": "EMEA", "name": "EMEA"},
        {"type": "team", "external_id": "east", "name": "East", "region": "APAC"},
        {"type": "team", "external_id": "emea", "name": "EMEA Team", "region": "EMEA"},
        *people(
            ("adm", "Admin", "admin", None, "UTC"),
            ("m", "East Manager", "manager", "east", "UTC"),
            ("a", "Rep A", "rep", "east", "UTC"),
            ("b", "Rep B", "rep", "east", "UTC"),
            ("u", "EMEA Manager", "manager", "emea", "UTC"),
            ("c", "Rep C", "rep", "emea", "UTC"),
        ),
        *customers(("ca", "a"), ("cb", "b"), ("cc", "c")),
    ]
    for did, cust, owner, amount in (
        ("DA", "ca", "a", "10000.00"),
        ("DB", "cb", "b", "30000.00"),
        ("DX", "cc", "b", "5000.00"),
    ):
        records += deal(did, cust, owner, amount, "won", "2026-10-01T12:00:00+00:00", Q4_WIN)
    load(testbot, records)
    assert testbot("adm", "quota @a 2026-Q4 10000 USD").status == "ok"
    return testbot


@pytest.fixture
def edge(testbot: TestBot) -> TestBot:
    """rev11's edge book: reps sh (Asia/Shanghai) and hnl (Pacific/Honolulu) in one team."""
    records: list[dict[str, Any]] = [
        {"type": "region", "external_id": "R1", "name": "R1"},
        {"type": "team", "external_id": "t1", "name": "Edge Team", "region": "R1"},
        *people(
            ("adm", "Edge Admin", "admin", None, "UTC"),
            ("mgr", "Edge Manager", "manager", "t1", "Pacific/Kiritimati"),
            ("sh", "Shanghai Rep", "rep", "t1", "Asia/Shanghai"),
            ("hnl", "Honolulu Rep", "rep", "t1", "Pacific/Honolulu"),
        ),
        *customers(("e1", "sh"), ("e2", "hnl")),
    ]
    # sh's win at 01:00 on 1 October in Shanghai (still September in UTC); hnl's at 19:00 on
    # 30 September in Honolulu (already October in UTC).
    records += deal(
        "E1", "e1", "sh", "1000.00", "won", "2026-09-01T00:00:00+00:00", "2026-09-30T17:00:00+00:00"
    )
    records += deal(
        "E2", "e2", "hnl", "2000.00", "won", "2026-09-01T00:00:00+00:00", "2026-10-01T05:00:00Z"
    )
    # Open deals whose weighted amounts end in half a cent: 50.005, 50.015, 0.025.
    half_cents = [("E4", "100.01", "proposal"), ("E5", "100.03", "proposal")]
    for did, amount, stage in [*half_cents, ("E6", "0.10", "qualified")]:
        records += deal(
            did, "e1", "sh", amount, stage, "2026-11-01T00:00:00+00:00", None, expected="2027-01-15"
        )
    # 6 won and 5 lost in February: 6/11 = 54.545... %.
    for k in range(11):
        stage = "won" if k < 6 else "lost"
        at = f"2026-02-{k + 10:02d}T12:00:00+00:00"
        records += deal(f"W{k}", "e1", "sh", "10.00", stage, "2026-01-05T12:00:00+00:00", at)
    load(testbot, records)
    return testbot


def field(reply: Any, label: str) -> str:
    """The value of a reply's field by its label."""
    return next(f.value for f in reply.fields if f.label.startswith(label))


def test_a_win_rate_is_rounded_once_from_the_exact_fraction(edge: TestBot) -> None:
    reply = edge("sh", "report win rate 2026-Q1")
    assert field(reply, "Won") == "6" and field(reply, "Lost") == "5"
    # 6/11 = 0.545454...: 54.5 %, not 0.5455 rounded again to 54.6 %.
    assert field(reply, "Win rate") == "54.5%"
    grouped = edge("adm", "report win rate by quarter from 2025-12-01 to 2026-12-31")
    assert any(i.startswith("2026-Q1: 6 won · 5 lost · 54.5%") for i in grouped.items), grouped
