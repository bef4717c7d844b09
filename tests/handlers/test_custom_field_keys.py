"""Custom fields named in Chinese read in SQL: segments, points tiers and care dates."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from crm_core.models import Customer
from crm_core.services import tiers as svc
from tests.conftest import TestBot
from tests.handlers.test_segments import names


def _book(testbot: TestBot) -> None:
    for line in (
        "field add customer 积分 number",
        "field add customer 到期日 date",
        "field add customer 地区 choice 华北, 华南",
        "field add customer 重点 yesno",
    ):
        assert testbot("admin", line).status == "ok"
    for name, points, day, region, key in (
        ("Acme", "1499.5", "2026-12-01", "华北", "yes"),
        ("Birch", "20", "2027-06-01", "华南", "no"),
    ):
        assert testbot("alice", f"new customer {name}").status == "ok"
        edit = f"edit customer {name}: 积分 {points}, 到期日 {day}, 地区 {region}, 重点 {key}"
        assert testbot("alice", edit).status == "ok", edit


def test_a_segment_filters_on_chinese_named_fields(testbot: TestBot) -> None:
    """`list customers 积分 >100`: Chinese-named number, date, choice, yes/no fields match."""
    _book(testbot)
    assert names(testbot("alice", "list customers 积分 >100")) == {"Acme"}
    assert names(testbot("alice", "list customers 积分 <100")) == {"Birch"}
    assert names(testbot("alice", "list customers 到期日 >2027-01-01")) == {"Birch"}
    assert names(testbot("alice", "list customers 地区 华北")) == {"Acme"}
    assert names(testbot("alice", "list customers 重点 no")) == {"Birch"}


def test_a_points_tier_reads_a_chinese_named_field(testbot: TestBot) -> None:
    """Tiers `on 积分` count the stored points, not zero."""
    _book(testbot)
    assert testbot("admin", "tiers: silver 500, gold 2000 on 积分").status == "ok"
    with testbot.session_factory() as s:
        ids = dict(s.execute(select(Customer.name, Customer.id)).all())
        assert svc.point_values(s, "积分") == {ids["Acme"]: Decimal("1499.5"), ids["Birch"]: 20}
        assert svc.tiers_of(s) == {ids["Acme"]: "silver"}


def test_a_care_date_on_a_chinese_named_field_is_coming(testbot: TestBot) -> None:
    """A care date on `到期日` (Acme's is 8 days after START) is listed in the digest."""
    _book(testbot)
    assert testbot("admin", "care customer 到期日 15d").status == "ok"
    digest = testbot("alice", "digest")
    care = next(s for s in digest.sections if s.title == "Care dates coming")
    assert care.lines == ["到期日 of Acme (Acme): 2026-12-01, in 8 days"]
