"""The report rules stated in the README, checked against hand-computed figures on small books
(attainment, whose win a deal is, rounding, bad input), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from crm_core.models import Customer, User
from tests.conftest import START, TestBot
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
    """rev11's quota book: North (manager m, reps a and b), EMEA (manager u, rep c), all UTC.

    a won 10,000 and holds a 10,000 Q4 quota; b won 30,000 on his customer and 5,000 on cc,
    a customer since given to c (EMEA).
    """
    records: list[dict[str, Any]] = [
        {"type": "region", "external_id": "APAC", "name": "APAC"},
        {"type": "region", "external_id": "EMEA", "name": "EMEA"},
        {"type": "team", "external_id": "north", "name": "North", "region": "APAC"},
        {"type": "team", "external_id": "emea", "name": "EMEA Team", "region": "EMEA"},
        *people(
            ("adm", "Admin", "admin", None, "UTC"),
            ("m", "North Manager", "manager", "north", "UTC"),
            ("a", "Rep A", "rep", "north", "UTC"),
            ("b", "Rep B", "rep", "north", "UTC"),
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


def test_a_groups_attainment_is_its_won_value_over_its_quota(mini: TestBot) -> None:
    """North won 45,000 (a 10,000, b 35,000), only a holds a quota (10,000): 450% on every line
    that shows East's won value, and the forecast (nothing open) agrees with the win rate."""
    want = "won 45,000 USD · quota 10,000 USD · 450.0% attained"
    assert mini("m", "report win rate by manager 2026-Q4").items == [
        f"North Manager: 3 won · 0 lost · 100.0% · {want}"
    ]
    assert mini("adm", "report win rate by team 2026-Q4").items == [
        f"North: 3 won · 0 lost · 100.0% · {want}"
    ]
    assert mini("adm", "report win rate by region 2026-Q4").items == [
        f"APAC: 3 won · 0 lost · 100.0% · {want}"
    ]
    for who in ("adm", "m"):
        rate = mini(who, "report win rate 2026-Q4")
        assert field(rate, "Won value") == "45,000 USD"
        assert field(rate, "Attainment (won value / quota)") == "450.0%"
        assert field(mini(who, "forecast 2026-Q4"), "Attainment") == "450.0%"
    by_rep = mini("adm", "report win rate by rep 2026-Q4").items
    assert (
        "Rep A: 1 won · 0 lost · 100.0% · won 10,000 USD · quota 10,000 USD · 100.0% attained"
        in (by_rep)
    )


def test_a_win_is_its_owners_in_the_rep_manager_and_admin_views(mini: TestBot) -> None:
    """b's win DX (5,000) on cc, a customer now of EMEA's c: b's in every view, North's
    and not EMEA's, so the manager's row for b is b's own number."""
    own = mini("b", "report win rate 2026-Q4")
    assert (field(own, "Won"), field(own, "Won value")) == ("2", "35,000 USD")
    rows = {i.split(":")[0]: i for i in mini("m", "report win rate by rep 2026-Q4").items}
    assert rows["Rep B"].startswith("Rep B: 2 won · 0 lost · 100.0% · won 35,000 USD")
    admin = {i.split(":")[0]: i for i in mini("adm", "report win rate by rep 2026-Q4").items}
    assert admin["Rep B"] == rows["Rep B"]
    team = mini("m", "report win rate 2026-Q4")
    assert field(team, "Won value") == "45,000 USD"
    # EMEA's manager sees no North rep among "your team's deals".
    emea = mini("u", "report win rate by rep 2026-Q4")
    assert not any(i.startswith("Rep B") for i in emea.items), emea.items
    assert field(mini("u", "report win rate 2026-Q4"), "Won") == "0"
    assert mini("adm", "report win rate by team 2026-Q4").items[0].startswith("North: 3 won")


def test_bad_input_says_what_is_wrong(edge: TestBot) -> None:
    """An unknown currency is named as one; reversed dates are said to be the wrong way round."""
    reply = edge("sh", "report win rate in XYZ")
    assert reply.status == "error"
    assert "“XYZ” is not a currency code" in reply.text and "`in EUR`" in reply.text, reply.text
    assert "period" not in reply.text
    reply = edge("sh", "report win rate by month 2026 in XYZ")
    assert "`report win rate by month 2026 in USD`" in reply.text, reply.text
    reply = edge("sh", "report win rate from 2026-12-31 to 2026-01-01")
    assert reply.status == "error"
    assert "wrong way round" in reply.text and "`from 2026-01-01 to 2026-12-31`" in reply.text
    # A month written like a currency still reads as the period it is.
    assert edge("sh", "report win rate 2026-02").status == "ok"


def test_the_other_currencies_hint_keeps_the_grouping_and_period(edge: TestBot) -> None:
    """sh's JPY win is not added in; the hint suggests the same report in JPY."""
    records = deal(
        "J1", "e1", "sh", "1234567", "won", "2026-01-05T12:00:00Z", "2026-02-20T12:00:00Z"
    )
    records[0]["currency"] = "JPY"
    import_records(edge, records)
    reply = edge("adm", "report win rate by rep 2026")
    assert "Not added in (other currencies): 1 JPY" in reply.text
    assert "Type `report win rate by rep 2026 in JPY`" in reply.text, reply.text
    in_jpy = edge("adm", "report win rate by rep 2026 in JPY")
    assert field(in_jpy, "Won value") == "1,234,567 JPY"
    cycle = edge("adm", "report cycle by month 2026-Q1")
    assert "`report cycle by month 2026-Q1 in JPY`" in cycle.text, cycle.text


def test_money_is_rounded_half_up_once_from_the_exact_total(edge: TestBot) -> None:
    """0.10 x 25% = 0.025 shows 0.03; the weighted total 50.005 + 50.015 + 0.025 = 100.045
    shows 100.05 (not 100.04, the sum of lines rounded half to even)."""
    reply = edge("sh", "pipeline")
    assert "qualified (25%): 1 · 0.10 USD · weighted 0.03 USD" in reply.items, reply.items
    assert "proposal (50%): 2 · 200.04 USD · weighted 100.02 USD" in reply.items, reply.items
    assert field(reply, "Weighted") == "100.05 USD"
    forecast = edge("sh", "forecast 2027-Q1")
    assert field(forecast, "Weighted") == "100.05 USD", forecast.fields


def test_ticket_reports_count_one_population_and_each_team_has_its_nps(testbot: TestBot) -> None:
    """An archived customer's tickets are worked to the end and counted; its scores count too
    (one population), and by team each row has the NPS of its tickets and customers."""
    testbot("alice", "new customer Acme")
    testbot("dave", "new customer Beta")
    assert testbot("alice", "ticket Acme: printer jams").status == "ok"
    assert testbot("dave", "ticket Beta: invoices missing").status == "ok"
    assert testbot("alice", "feedback Acme: nps 10").status == "ok"
    assert testbot("dave", "feedback Beta: nps 0").status == "ok"
    assert testbot("dave", "feedback Beta: nps 9").status == "ok"
    with testbot.session_factory() as session:
        beta = session.scalars(select(Customer).where(Customer.name == "Beta")).one()
        beta.archived_at = START
        session.commit()
    total = testbot("admin", "report tickets")
    # 2 opened (Beta's too); NPS over 10, 0 and 9: (2 promoters - 1 detractor) / 3 = 33.
    assert total.fields[0].value.startswith("2 opened"), total.fields
    assert "NPS 33" in " ".join(f.value for f in total.fields), total.fields
    by_team = testbot("admin", "report tickets by team")
    rows = {i.split(":")[0]: i for i in by_team.items}
    assert rows["East"].startswith("East: 1 opened") and rows["East"].endswith("NPS 100")
    assert rows["West"].startswith("West: 1 opened") and rows["West"].endswith("NPS 0")


def test_a_reps_reports_say_whose_deals_they_read(mini: TestBot) -> None:
    """c's customer cc holds b's win DX: c's cycle reads her customers' deals (DX among them)
    and says so; her win rate reads the deals she owns (none) and says "your deals"."""
    cycle = mini("c", "report cycle 2026-Q4")
    assert cycle.title is not None and "your customers' deals" in cycle.title, cycle.title
    assert field(cycle, "Won").endswith("(1 deals)") or "1 deal" in field(cycle, "Won")
    rate = mini("c", "report win rate 2026-Q4")
    assert rate.title is not None and " · your deals · " in rate.title, rate.title
    assert field(rate, "Won") == "0"
    pipeline = mini("c", "pipeline")
    assert pipeline.title == "Pipeline: your customers' deals"
    team = mini("u", "report funnel 2026-Q4")
    assert team.title is not None and "your team's customers' deals" in team.title


def test_month_and_quarter_groups_follow_the_viewers_calendar(edge: TestBot) -> None:
    """hnl's win at 19:00 on 30 September in Honolulu is Q3's, as her Q3 report counts it;
    sh's at 01:00 on 1 October in Shanghai is October's, inside her Q4 report."""
    assert field(edge("hnl", "report win rate 2026-Q3"), "Won value") == "2,000 USD"
    quarters = edge("hnl", "report win rate by quarter 2026").items
    assert quarters == ["2026-Q3: 1 won · 0 lost · 100.0% · won 2,000 USD"], quarters
    months = edge("sh", "report win rate by month 2026-Q4").items
    assert months == ["2026-10: 1 won · 0 lost · 100.0% · won 1,000 USD"], months
    # A UTC viewer's groups are the UTC months (the kept sums).
    utc = edge("adm", "report win rate by month 2026-Q3").items
    assert utc[-1].startswith("2026-09: 1 won") and "1,000 USD" in utc[-1], utc


def test_cycle_months_are_the_win_rates(edge: TestBot) -> None:
    """A closing falls in the same month in `report cycle by month` as in the win rate: sh's
    win at 01:00 on 1 October in Shanghai (29 days 17 hours after it opened) is October's for
    her, September's for the UTC admin; hnl's at 19:00 on 30 September in Honolulu is
    September's for her, October's in UTC."""
    won = "won 1 in 29.7 days (median 29.7) · lost 0 in — days"
    assert edge("sh", "report cycle by month 2026-Q4").items == [f"2026-10: {won}"]
    assert edge("sh", "report win rate by month 2026-Q4").items[0].startswith("2026-10: 1 won")
    hnl = "2026-09: won 1 in 30.2 days (median 30.2) · lost 0 in — days"
    assert edge("hnl", "report cycle by month 2026-Q3").items == [hnl]
    admin = edge("adm", "report cycle by month from 2026-09-01 to 2026-10-31").items
    assert admin[-2:] == [f"2026-09: {won}", hnl.replace("2026-09", "2026-10")], admin
    for who, period in (("sh", "2026-Q4"), ("hnl", "2026-Q3"), ("adm", "2026-Q3")):
        cycle = edge(who, f"report cycle by month {period}").items
        rate = edge(who, f"report win rate by month {period}").items
        assert [i.split(":")[0] for i in cycle] == [i.split(":")[0] for i in rate], who
