"""Loose amounts and days in the speaker's own terms: the customer's (or the region's)
currency when none is said, 一千兩百萬, "350jt", Cantonese days and parts of the day, "yday"."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Customer
from tests.conftest import TestBot
from tests.handlers.conftest import command

BOOK = (
    ("alice", "new customer Acme Logistics"),
    ("alice", "new deal Acme Logistics: Fleet tracking 30k SGD stage qualified"),
    ("alice", "new customer Birchwood Dental"),
)


def test_a_new_deal_takes_the_customers_currency_else_the_regions(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """No currency said: Acme's deals are in SGD; Birchwood has none, so a rep in Jakarta means
    rupiah ("350jt" is 350 million) and one with no region the default."""
    acme, birch = book["Acme Logistics"], book["Birchwood Dental"]
    assert command(testbot, "alice", "new deal for acme: battery backup 25k") == (
        f"new deal #{acme}: battery backup 25000 SGD"
    )
    assert command(testbot, "alice", "new deal for birchwood: chair lease 25k") == (
        f"new deal #{birch}: chair lease 25000 USD"
    )
    testbot("admin", "timezone @alice Asia/Jakarta")
    assert command(testbot, "alice", "new deal for birchwood: EV charger 350jt") == (
        f"new deal #{birch}: EV charger 350000000 IDR"
    )
    assert command(testbot, "alice", "new deal for birchwood: chair lease 25k EUR") == (
        f"new deal #{birch}: chair lease 25000 EUR"
    )


def test_chinese_numerals_with_thousands_before_wan(testbot: TestBot) -> None:
    """一千兩百萬 is 12,000,000 (not 1,000 and a title word), in a Taipei rep's NT dollars, for
    台中精機 named by its own name after the city ("精機"), not the park named for its trade
    (光電) that the deal's title says too."""
    testbot.add_user("tsai", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("tsai", "新客戶 台中精機股份有限公司")
    testbot("tsai", "新客戶 厦门翔安光电产业园")
    with testbot.session_factory() as s:
        ids = {c.name: c.id for c in s.scalars(select(Customer))}
    said = command(testbot, "tsai", "精機新商機 倉庫屋頂光電 大約一千兩百萬 明年四月底")
    assert said.startswith(f"new deal #{ids['台中精機股份有限公司']}: "), said
    assert said.endswith("12000000 TWD close 2027-04-30"), said
    said = command(testbot, "tsai", "精機加聯絡人 陳建宏 財務長 cjh@tcm.example")
    assert said == (
        f"contact add #{ids['台中精機股份有限公司']}: 陳建宏, 財務長, cjh@tcm.example"
    ), said


def test_cantonese_days_and_parts_of_the_day(testbot: TestBot) -> None:
    """聽朝 is tomorrow morning, 朝早 morning, 下晝 afternoon (Hong Kong, said Monday 23:00)."""
    testbot.add_user("wingyan", locale="zh-Hant", timezone="Asia/Hong_Kong")
    for text, due in (
        ("聽朝10點提醒我 call 梁生", "2026-11-24 10:00"),
        ("聽日下晝三點提醒我覆陳生", "2026-11-24 15:00"),
        ("星期五朝早9點半提醒我寄合約", "2026-11-27 09:30"),
    ):
        assert command(testbot, "wingyan", text).startswith("remind me "), text
        shown = " ".join(f.value for f in testbot("wingyan", text).fields)
        assert due in shown, (text, shown)


def test_yday_and_last_night_are_yesterday_in_a_log(testbot: TestBot, book: dict[str, int]) -> None:
    """ "yday" and "last night" date a logged visit or meeting the day before."""
    acme = book["Acme Logistics"]
    assert command(testbot, "alice", "site visit acme yday, walked the depot, roof ok") == (
        f"log visit #{acme}, yesterday: walked the depot, roof ok"
    )
    assert command(testbot, "alice", "meeting with acme last night, they want 2 more trucks") == (
        f"log meeting #{acme}, yesterday: they want 2 more trucks"
    )


def test_a_ticket_priority_said_after_its_word(testbot: TestBot, book: dict[str, int]) -> None:
    """ "优先级高" is high, "优先级低" low: the level after the word, and neither in the subject."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 厦门五缘湾停车场管理有限公司")
    with testbot.session_factory() as s:
        lot = s.scalars(select(Customer.id).where(Customer.name.like("厦门五缘湾%"))).one()
    for said, level in (("高", "high"), ("低", "low")):
        line = command(testbot, "wei", f"开工单 五缘湾 充电桩3号枪充不进电 优先级{said}")
        assert line.startswith(f"ticket #{lot}: "), line
        assert line.endswith(f"充电桩3号枪充不进电, priority {level}"), line
        assert "优先级" not in line, line
