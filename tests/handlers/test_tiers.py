"""Membership tiers through the real dispatcher: rules in three scripts, upgrades, pins, access."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, Customer, CustomerTier, TierChange, TierProgram
from crm_core.services import tiers as svc
from crm_core.stages import DEFAULT_STAGES, Pipeline
from handlers.verbs.tiers import parse_rules
from tests.conftest import START, FakeClock, TestBot

RULES = "tiers: silver 50k, gold 200k, platinum 1M on won value in 12 months"
LADDER = [("silver", Decimal(50_000)), ("gold", Decimal(200_000)), ("platinum", Decimal(1_000_000))]


@pytest.mark.parametrize(
    ("text", "levels", "months", "currency"),
    [
        ("silver 50k, gold 200k, platinum 1M on won value in 12 months", LADDER, 12, None),
        ("Silver 50,000, Gold 200k, Platinum 1m", LADDER, 12, None),
        ("silver 50k USD, gold 200k USD over the last 6 months", LADDER[:2], 6, "USD"),
        ("silver 50k; gold 200k on won value in 2 years", LADDER[:2], 24, None),
        (
            "银卡 5万，金卡 20万，白金 100万 按 12 个月赢单金额",
            [("银卡", Decimal(50_000)), ("金卡", Decimal(200_000)), ("白金", Decimal(1_000_000))],
            12,
            None,
        ),
        (
            "銀卡 5萬，金卡 20萬，白金 100萬 按 12 個月贏單金額",
            [("银卡", Decimal(50_000)), ("金卡", Decimal(200_000)), ("白金", Decimal(1_000_000))],
            12,
            None,
        ),
        (
            "银卡 5万 元、金卡 20万 元 按近6个月成交金额",
            [("银卡", Decimal(50_000)), ("金卡", Decimal(200_000))],
            6,
            "CNY",
        ),
    ],
)
def test_rules_are_read_in_english_simplified_and_traditional(
    text: str, levels: list[tuple[str, Decimal]], months: int, currency: str | None
) -> None:
    """Levels (lowest first), the window and the currency, whatever the script."""
    assert parse_rules(text) == (levels, months, currency, None)


POINTS = [("silver", Decimal(100)), ("gold", Decimal(500)), ("platinum", Decimal(2000))]


@pytest.mark.parametrize(
    ("text", "levels", "field"),
    [
        ("silver 100, gold 500, platinum 2000 on points", POINTS, "points"),
        ("silver 100, gold 500 on points loyalty", POINTS[:2], "loyalty"),
        ("silver 100, gold 500 on the points field loyalty", POINTS[:2], "loyalty"),
        ("银卡 100，金卡 500 按积分", [("银卡", Decimal(100)), ("金卡", Decimal(500))], "积分"),
        (
            "銀卡 100，金卡 500 按 積分 會員分",
            [("银卡", Decimal(100)), ("金卡", Decimal(500))],
            "会员分",
        ),
    ],
)
def test_points_rules_name_their_field(
    text: str, levels: list[tuple[str, Decimal]], field: str
) -> None:
    """`on points` reads the customer field `points` (or the one named after it)."""
    assert parse_rules(text) == (levels, 12, None, field)


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("tiers: silver 50k, gold 200k on points", "field add customer points number"),
        ("tiers: silver 50k, gold 200k on points loyalty extra", "extra"),
        ("tiers: silver 50k, gold 200k on won value in 12 fortnights", "fortnights"),
        ("tiers: gold 200k, silver 50k", "lowest first"),
        ("tiers: silver 50k, silver 60k", "named twice"),
        ("tiers: silver 50k USD, gold 200k EUR", "Use one"),
        ("tiers: silver 50k on won value in 0 months", "1 to 120 months"),
        ("tiers: silver 0", "above zero"),
        ("tiers: silver fifty", "`gold 200k`"),
    ],
)
def test_bad_rules_say_what_to_type_and_write_nothing(
    testbot: TestBot, line: str, hint: str
) -> None:
    """An admin's mistyped rules are refused with the thing to type; nothing is stored."""
    before = testbot.count(AuditEntry)
    reply = testbot("admin", line)
    assert reply.status == "error", reply.text
    assert hint in reply.text
    assert testbot.count(TierProgram) == 0
    assert testbot.count(AuditEntry) == before


def _won(testbot: TestBot, who: str, customer: str, title: str, amount: str) -> None:
    assert testbot(who, f"new deal {customer}: {title} {amount}").status == "ok"
    reply = testbot(who, f"move {customer} / {title} to won")
    assert reply.status == "ok", reply.text


def test_admin_sets_rules_everyone_reads_them_and_a_win_upgrades_at_once(testbot: TestBot) -> None:
    """`tiers` shows the rules; a won deal lifts its customer a tier at once, pinged and audited."""
    assert testbot("alice", "tiers").text.startswith("No tiers are set")
    testbot("alice", "new customer Acme")
    _won(testbot, "alice", "Acme", "Pilot", "60k")
    set_reply = testbot("admin", RULES)
    assert set_reply.status == "ok", set_reply.text
    # The customer already earns silver: given at once, silently (the digest lists it).
    assert set_reply.text.startswith("Tiers set; 1 customers moved up")
    shown = testbot("alice", "tiers")
    assert shown.sections[0].lines == [
        "silver · from 50,000 USD",
        "gold · from 200,000 USD",
        "platinum · from 1,000,000 USD",
    ]
    assert "last 12 months (USD)" in shown.text
    card = testbot("alice", "customer Acme")
    tier = next(f for f in card.fields if f.label == "Tier")
    assert tier.value == "silver · 60,000 USD won in 12 months · 140,000 USD to gold"
    assert testbot.query(select(TierChange.status)) == ["silent"]

    _won(testbot, "alice", "Acme", "Fleet", "150k")
    changes = testbot.rows(
        select(
            TierChange.from_tier, TierChange.to_tier, TierChange.reason, TierChange.status
        ).order_by(TierChange.id)
    )
    assert changes[-1] == ("silver", "gold", "won", "pending")
    assert testbot("alice", "tier Acme").fields[0].value == (
        "gold · 210,000 USD won in 12 months · 790,000 USD to platinum"
    )
    audited = testbot.rows(
        select(AuditEntry.actor_id, AuditEntry.changes).where(AuditEntry.action == "customer.tier")
    )
    assert audited[-1][0] == testbot.users["alice"]
    assert audited[-1][1]["tier"] == ["silver", "gold"]
    # A deal in another currency, or a lost one, does not count.
    assert testbot("alice", "new deal Acme: Euro deal 900k EUR").status == "ok"
    assert testbot("alice", "move Euro deal to won").status == "ok"
    assert testbot.query(select(CustomerTier.tier)) == ["gold"]


def test_chinese_rules_from_a_traditional_admin(testbot: TestBot) -> None:
    """`等級：…` in Traditional sets the same ladder, shown back in the reader's script."""
    testbot.add_user("wei", role="admin", team=None, locale="zh-Hant")
    reply = testbot("wei", "等級：銀卡 5萬，金卡 20萬，白金 100萬 按 12 個月贏單金額")
    assert reply.status == "ok", reply.text
    with testbot.session_factory() as s:
        prog = svc.program(s)
    assert prog is not None
    assert [(lv.name, lv.threshold) for lv in prog.levels] == [
        ("银卡", Decimal(50_000)),
        ("金卡", Decimal(200_000)),
        ("白金", Decimal(1_000_000)),
    ]
    testbot("alice", "new customer Acme")
    assert testbot("admin", "tier Acme 金卡 pin").status == "ok"
    assert testbot("wei", "客户等级 Acme 取消固定").status == "ok"


def test_pin_holds_a_tier_and_only_admins_pin(testbot: TestBot) -> None:
    """`tier Acme gold pin` (admins) holds the tier through wins; unpin lets a higher one in."""
    testbot("admin", RULES)
    testbot("alice", "new customer Acme")
    before = testbot.count(AuditEntry)
    refused = testbot("alice", "tier Acme gold pin")
    assert refused.status == "error" and "Only an admin" in refused.text
    assert testbot.count(AuditEntry) == before and testbot.count(CustomerTier) == 0
    assert testbot("dave", "tier Acme").status == "error"  # another team's book: not found
    unknown = testbot("admin", "tier Acme diamond pin")
    assert 'There is no tier "diamond"' in unknown.text
    pinned = testbot("admin", "tier Acme gold pin")
    assert pinned.status == "ok", pinned.text
    assert pinned.fields[0].value.startswith("gold (pinned) · 0 USD won")
    assert testbot("admin", "tier Acme gold pin").status == "error"  # already pinned
    _won(testbot, "alice", "Acme", "Huge", "1.2M")
    assert testbot.query(select(CustomerTier.tier)) == ["gold"]  # pinned: the win left it
    unpinned = testbot("admin", "tier Acme unpin")
    assert "It earns platinum now." in unpinned.text
    assert testbot.rows(select(TierChange.to_tier, TierChange.reason).order_by(TierChange.id)) == [
        ("gold", "pin"),
        ("platinum", "unpin"),
    ]
    assert testbot("admin", "tier Acme unpin").status == "error"  # not pinned any more


def test_tier_hook_for_segments(testbot: TestBot) -> None:
    """`tiers_of` and `tier_clause`: the current tiers other features filter on."""
    testbot("admin", RULES)
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Birch")
    testbot("admin", "tier Birch platinum pin")
    _won(testbot, "alice", "Acme", "Pilot", "55k")
    with testbot.session_factory() as s:
        ids = dict(s.execute(select(svc.Customer.name, svc.Customer.id)).all())
        assert svc.tiers_of(s) == {ids["Acme"]: "silver", ids["Birch"]: "platinum"}
        assert svc.tiers_of(s, [ids["Acme"]]) == {ids["Acme"]: "silver"}
        only = s.scalars(select(svc.Customer.name).where(svc.tier_clause(["platinum"]))).all()
        assert only == ["Birch"]


def test_the_digest_lists_tier_changes_since_yesterday(testbot: TestBot, clock: FakeClock) -> None:
    """The owner's digest names each tier change of their customers since yesterday began."""
    testbot("admin", RULES)
    testbot("alice", "new customer Acme")
    _won(testbot, "alice", "Acme", "Pilot", "60k")
    clock.advance(days=1)
    digest = testbot("alice", "digest")
    section = next(s for s in digest.sections if s.title == "Tier changes")
    assert section.lines == ["Acme: no tier → silver (deal won)"]
    assert all(s.title != "Tier changes" for s in testbot("carol", "digest").sections)
    clock.advance(days=2)
    assert all(s.title != "Tier changes" for s in testbot("alice", "digest").sections)


def test_the_window_counts_calendar_months_back() -> None:
    """12 months before 29 Feb 2028 is 28 Feb 2027; 1 month before 31 March is 28 February."""
    from datetime import UTC, datetime

    assert svc.months_back(datetime(2028, 2, 29, 9, tzinfo=UTC), 12) == datetime(
        2027, 2, 28, 9, tzinfo=UTC
    )
    assert svc.months_back(datetime(2027, 3, 31, tzinfo=UTC), 1) == datetime(
        2027, 2, 28, tzinfo=UTC
    )
    assert svc.months_back(datetime(2027, 1, 15, tzinfo=UTC), 13) == datetime(
        2025, 12, 15, tzinfo=UTC
    )


def test_points_tiers_upgrade_at_once_and_fall_at_the_review(testbot: TestBot) -> None:
    """Points are a customer number field: rules on it place customers at once, an edit that
    adds points upgrades at once (pinged, audited), the card says how many points to the next
    tier, and fewer points wait for the monthly review."""
    assert testbot("admin", "field add customer region text").status == "ok"
    wrong = testbot("admin", "tiers: silver 100, gold 500 on points region")
    assert wrong.status == "error" and "number field" in wrong.text
    assert testbot("admin", "field add customer points number").status == "ok"
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Birch")
    assert testbot("alice", "edit customer Acme: points 120").status == "ok"
    # A won deal counts for nothing on points.
    _won(testbot, "alice", "Birch", "Big", "5M")
    reply = testbot("admin", "tiers: silver 100, gold 500, platinum 2000 on points")
    assert reply.status == "ok", reply.text
    assert reply.text.startswith("Tiers set; 1 customers moved up")
    shown = testbot("alice", "tiers")
    assert shown.sections[0].lines == [
        "silver · from 100 points",
        "gold · from 500 points",
        "platinum · from 2,000 points",
    ]
    assert "the customer field `points`" in shown.text
    card = testbot("alice", "customer Acme")
    tier = next(f for f in card.fields if f.label == "Tier")
    assert tier.value == "silver · 120 points · 380 points to gold"
    assert (
        testbot("alice", "tier Birch").fields[0].value
        == "no tier · 0 points · 100 points to silver"
    )

    assert testbot("alice", "edit customer Acme: points 520").status == "ok"
    changes = testbot.rows(
        select(
            TierChange.from_tier, TierChange.to_tier, TierChange.reason, TierChange.status
        ).order_by(TierChange.id)
    )
    assert changes == [(None, "silver", "rules", "silent"), ("silver", "gold", "points", "pending")]
    assert testbot("alice", "tier Acme").fields[0].value == (
        "gold · 520 points · 1,480 points to platinum"
    )
    audited = testbot.rows(
        select(AuditEntry.actor_id, AuditEntry.changes).where(AuditEntry.action == "customer.tier")
    )
    assert audited[-1] == (testbot.users["alice"], {"tier": ["silver", "gold"]})
    # Fewer points: the tier holds until the review, which takes it down.
    assert testbot("alice", "edit customer Acme: points 50").status == "ok"
    assert testbot.query(select(CustomerTier.tier)) == ["gold"]
    with unit_of_work(testbot.session_factory) as s:
        assert svc.review(s, Pipeline(DEFAULT_STAGES), START) == 1
    assert testbot.query(select(CustomerTier.tier)) == [None]
    refused = testbot("admin", "field remove customer points confirm")
    assert refused.status == "error" and "set tiers on another basis first" in refused.text
    # A pinned customer keeps its tier whatever the points.
    assert testbot("admin", "tier Birch gold pin").status == "ok"
    assert testbot("alice", "edit customer Birch: points 5000").status == "ok"
    assert testbot.rows(
        select(CustomerTier.tier, CustomerTier.pinned).where(CustomerTier.pinned.is_(True))
    ) == [("gold", True)]


def test_pin_hints_name_a_tier_that_exists_and_a_rep_is_told_who_may_pin(
    testbot: TestBot,
) -> None:
    """rev10 fault 9: with tiers named in Chinese, the hints give one of them, never "gold";
    a rep asking to pin an unknown tier is told only an admin pins; nothing is written."""
    testbot("admin", "等级：银卡 5万，金卡 20万，白金 100万 按 12 个月赢单金额")
    testbot("alice", "new customer Acme")
    unknown = testbot("admin", "tier Acme gold pin")
    assert unknown.status == "error"
    assert unknown.text.endswith("Type `tier Acme 白金 pin`."), unknown.text
    rep = testbot("alice", "tier Acme gold pin")
    assert rep.status == "error" and "Only an admin" in rep.text, rep.text
    rules = testbot("alice", "tiers")
    assert "`tier Acme 白金 pin`" in rules.text and "gold" not in rules.text
    assert testbot.count(CustomerTier) == 0
    assert testbot("admin", "tier Acme 白金 pin").status == "ok"


def test_a_merge_tiers_the_kept_customer_and_carries_a_higher_pin(testbot: TestBot) -> None:
    """The duplicate's win counts for the kept customer at once, and its pin comes along when
    higher (rev14 F2)."""
    testbot("admin", RULES)
    for name in ("Acme", "Beta"):
        testbot("alice", f"new customer {name}")
    _won(testbot, "alice", "Beta", "Pilot", "60k")
    (acme,) = testbot.query(select(Customer.id).where(Customer.name == "Acme"))
    (beta,) = testbot.query(select(Customer.id).where(Customer.name == "Beta"))
    assert testbot("bob", f"merge #{beta} into #{acme} confirm").status == "ok"
    assert testbot("alice", "tier Acme").fields[0].value.startswith("silver · 60,000 USD won")
    testbot("alice", "new customer Gamma")
    (gamma,) = testbot.query(select(Customer.id).where(Customer.name == "Gamma"))
    assert testbot("admin", "tier Gamma gold pin").status == "ok"
    assert testbot("bob", f"merge #{gamma} into #{acme} confirm").status == "ok"
    assert testbot("alice", "tier Acme").fields[0].value.startswith("gold (pinned)")
    assert testbot.rows(
        select(TierChange.to_tier, TierChange.reason).where(TierChange.customer_id == acme)
    ) == [("silver", "merge"), ("gold", "merge")]
