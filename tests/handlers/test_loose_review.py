"""Loose reading, defects a review found in this session's loose rules: a long run of spaces
read in linear time, outcome words and forms of address only where they stand alone, reports
and remarks that change nothing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from crm_core.models import Contact, Customer, Deal, Interaction, Reminder, StageChange
from handlers.grammar import span_said
from tests.conftest import TestBot

TABLES = (Customer, Contact, Deal, Interaction, Reminder, StageChange)

# The `book` fixture (tests/handlers/conftest.py) types these lines.
BOOK = (
    ("alice", "new customer Acme Logistics city Boston"),
    ("alice", "new deal Acme Logistics: Label printers 20k stage proposal"),
    ("alice", "new customer Initech"),
    ("wei", "新客户 汇通医药"),
    ("wei", "新商机 汇通医药：冷链监控 20万 元 阶段 方案"),
    ("wei", "contact add 汇通医药：林涛"),
    ("wei", "新客户 青岛联创制造有限公司"),
    ("wei", "新商机 青岛联创制造有限公司：月台预约系统升级 30万 元 阶段 方案"),
    ("wei", "contact add 青岛联创制造有限公司：高磊"),
    ("wei", "contact add 青岛联创制造有限公司：何霞"),
)


def counts(testbot: TestBot) -> tuple[int, ...]:
    """Rows in the tables a loose write could touch."""
    return tuple(testbot.count(t) for t in TABLES)


@pytest.mark.parametrize(
    "text",
    [
        "acme 标签改成 " + " " * 2000 + "。a",
        "汇通医药 推到 " + " " * 2000 + "x",
        "汇通医药 改成" + " " * 2000 + "了 阶段 x",
    ],
)
def test_a_long_run_of_spaces_is_read_in_linear_time(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """The tags-set and stage-move patterns split a run of spaces every way (57 s and 3 min for
    2,000 spaces); now about a second on a loaded machine."""
    start = time.perf_counter()
    testbot("wei", text)
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize(
    "text",
    [
        "汇通医药 冇咗联络",
        "汇通医药 冇咗回覆",
        "汇通医药 输咗两个点折扣",
        "汇通医药 丢咗份合同",
        "汇通医药 签咗保密协议，下周开会",
        "汇通医药 林涛话冇咗预算",
    ],
)
def test_a_cantonese_outcome_word_inside_a_clause_moves_nothing(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """冇咗/输咗/丢咗/签咗 are an outcome only where they end the clause: "冇咗联络" (no contact
    since), "签咗保密协议" (an NDA signed) and someone else's words move no deal."""
    reply = testbot("wei", text)
    assert not str(reply.to_json().get("command", "")).startswith("move #"), reply.to_json()


def test_a_cantonese_outcome_word_ending_the_clause_moves_the_deal(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "汇通医药冷链监控 冇咗啦": the deal is lost."""
    reply = testbot("wei", "汇通医药冷链监控 冇咗啦，客户转咗供应商")
    assert reply.status == "confirm", reply.text
    assert reply.to_json()["command"] == f"move #{book['冷链监控']} to lost: 客户转咗供应商"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("青岛联创 提高生产效率的方案，电话 +86 138 0000 1111", None),
        ("给青岛联创打了电话，讨论如何生成月台报表", "log call #{青岛联创制造有限公司}: 讨论"),
        ("给青岛联创打电话，高生说报表下周给", "log call #{青岛联创制造有限公司}, with #{高磊}: "),
    ],
)
def test_a_surname_and_one_character_title_inside_a_word_names_nobody(
    testbot: TestBot, book: dict[str, int], text: str, line: str | None
) -> None:
    """高+生 in "提高生产" and 何+生 in "如何生成" are no 高生/何生: no contact edited or attached;
    "高生说" still names 高磊."""
    reply = testbot("wei", text)
    said = str(reply.to_json().get("command", ""))
    if line is None:
        assert not said.startswith("edit contact"), said
    else:
        assert reply.status == "confirm", reply.text
        assert said.startswith(line.format(**book)), said


def test_tags_to_without_set_or_change_sets_no_tags(testbot: TestBot, book: dict[str, int]) -> None:
    """ "they asked what tags to use" is a call's note, no edit of the tags; "set acme's tags to
    fleet, west" still sets them."""
    reply = testbot("alice", "called Acme Logistics, they asked what tags to use for the pilot")
    assert not str(reply.to_json().get("command", "")).startswith("edit customer"), reply.text
    reply = testbot("alice", "set acme logistics's tags to fleet, west")
    assert reply.status == "confirm", reply.text
    acme = book["Acme Logistics"]
    assert reply.to_json()["command"] == f"edit customer #{acme}: tags fleet, west"


@pytest.mark.parametrize(
    "text",
    [
        "Initech 改名的事还没定，下周再说",
        "跟 Initech 开会，他们提到要改名成 Initech Holdings，等法务确认",
    ],
)
def test_a_renaming_talked_about_renames_nothing(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """改名的事 (the renaming) and a new name told in a meeting are no rename card."""
    reply = testbot("alice", text)
    assert not str(reply.to_json().get("command", "")).startswith("edit customer"), reply.text


def test_a_new_name_said_renames(testbot: TestBot, book: dict[str, int]) -> None:
    """ "Initech 改名叫 Initech Holdings": the rename card."""
    reply = testbot("alice", "Initech 改名叫 Initech Holdings")
    assert reply.status == "confirm", reply.text
    assert reply.to_json()["command"] == f"edit customer #{book['Initech']}: name Initech Holdings"


@pytest.mark.parametrize(
    "text",
    [
        "上周已经删除青岛联创的月台预约系统升级了",
        "我删除了青岛联创的月台预约系统升级",
        "青岛联创说要删除月台预约系统升级",
    ],
)
def test_a_deletion_done_or_reported_proposes_no_delete(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """A deal deleted already, or someone asking for it, is no delete card."""
    reply = testbot("wei", text)
    assert not str(reply.to_json().get("command", "")).startswith("delete"), reply.text


def test_a_deal_deleted_by_its_title_is_a_delete_card(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "删除青岛联创的月台预约系统升级，那是测试数据": the delete card."""
    reply = testbot("wei", "删除青岛联创的月台预约系统升级，那是测试数据")
    assert reply.status == "confirm", reply.text
    assert reply.to_json()["command"].startswith(f"delete deal #{book['月台预约系统升级']}")


def test_an_arrow_then_more_words_hands_nothing_over(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "Acme Logistics -> carol called about the invoice" is no reassign; "-> carol" alone is."""
    reply = testbot("alice", "Acme Logistics -> carol called about the invoice")
    assert not str(reply.to_json().get("command", "")).startswith("reassign"), reply.text
    reply = testbot("alice", "Acme Logistics -> carol")
    assert reply.status == "confirm", reply.text
    assert reply.to_json()["command"].startswith(f"reassign #{book['Acme Logistics']}")


def test_wan_then_a_digit_of_a_day_keeps_the_day(testbot: TestBot, book: dict[str, int]) -> None:
    """ "金额改成3万5月底签": 30,000, the 5 is May's (3万5 alone is 35,000)."""
    reply = testbot("wei", "汇通医药冷链监控 金额改成3万5月底签")
    assert "35000" not in str(reply.to_json().get("command", "")), reply.text
    reply = testbot("wei", "汇通医药冷链监控 金额改成3万5")
    assert reply.status == "confirm", reply.text
    assert reply.to_json()["command"] == f"edit deal #{book['冷链监控']}: amount 35000 CNY"


def test_snooze_in_a_length_counts_from_now(testbot: TestBot, book: dict[str, int]) -> None:
    """ "snooze #n in 3 hours" is three hours from now (it was three hours after the due time);
    "half a week" is no length (it was 12 hours)."""
    testbot("alice", "remind me tomorrow 9:00 call Acme Logistics")
    with testbot.session_factory() as s:
        first = s.scalars(select(Reminder).order_by(Reminder.id.desc())).first()
        assert first is not None
        s.expunge(first)
    assert testbot("alice", f"snooze #{first.id} in 3 hours").status == "ok"
    with testbot.session_factory() as s:
        moved = s.get(Reminder, first.id)
        assert moved is not None
        assert moved.due_at < first.due_at, (moved.due_at, first.due_at)
    assert span_said("half a week") is None
    assert span_said("by an hour") == "1h"
