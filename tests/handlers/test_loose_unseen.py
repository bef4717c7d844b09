"""Loose reading, classes of miss of the fourth blind set, checked on a book of another trade
(dental and solar customers, Hong Kong and Taiwan contacts) so no rule leans on the demo book:
names several records share, Cantonese and Traditional wording, past remarks, snoozes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_core.models import Contact, Customer, Deal, Interaction, Reminder, StageChange
from handlers.loose import _squeeze
from tests.conftest import TestBot
from tests.handlers.conftest import command

TABLES = (Customer, Contact, Deal, Interaction, Reminder, StageChange)

# The `book` fixture (tests/handlers/conftest.py) types these lines.
BOOK = (
    ("alice", "new customer Harbourview Dental Group city Hong Kong"),
    ("alice", "new customer Harbourview Solar Ltd city Kaohsiung"),
    ("alice", "new deal Harbourview Solar: Rooftop panels phase 2 1.2m stage proposal"),
    ("alice", "contact add Harbourview Dental: Grace Leung, Practice Manager"),
    ("alice", "contact add Harbourview Solar: Grace Leung, Procurement Lead"),
    ("alice", "contact add Harbourview Solar: Peter Wong, CFO"),
    ("wei", "新客户 港湾牙科诊所"),
    ("wei", "新客户 日升咖啡有限公司"),
    ("wei", "新商机 日升咖啡有限公司：门市咖啡机采购 50万 元 阶段 方案"),
    ("wei", "contact add 港湾牙科诊所：陈志明"),
    ("wei", "contact add 日升咖啡有限公司：陈嘉欣"),
)


def counts(testbot: TestBot) -> tuple[int, ...]:
    """Rows in the tables a loose write could touch."""
    return tuple(testbot.count(t) for t in TABLES)


@pytest.mark.parametrize(
    ("who", "text", "line"),
    [
        ("alice", "Harbourview?", "find Harbourview"),
        ("alice", "harbourview", "find harbourview"),
        ("alice", "pull up harbourview for me", "find harbourview"),
        ("alice", "who's Grace Leung again", "find Grace Leung"),
        ("wei", "陈总的电话是多少", "find 陈"),
        ("wei", "陳生是哪家的", "find 陳"),
    ],
)
def test_a_name_several_records_share_is_searched(
    testbot: TestBot, book: dict[str, int], who: str, text: str, line: str
) -> None:
    """A read naming two customers or two people by the same words lists them (find), as
    a read: no question to answer, nothing written."""
    before = counts(testbot)
    said, typed = testbot(who, text), testbot(who, line)
    assert typed.status == "ok", (line, typed.text)
    assert (said.status, said.text) == (typed.status, typed.text), text
    assert counts(testbot) == before


def test_a_shared_name_told_apart_or_typed_as_a_write_is_no_search(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """The customer named with the person picks them; a grammar write keeps its question."""
    line = command(testbot, "wei", "日升咖啡陈总来电，说咖啡机下周再谈")
    assert f"with #{book['陈嘉欣']}" in line, line
    reply = testbot("alice", "merge Harbourview Dental into Harbourview, same owner now")
    assert reply.status in ("info", "confirm"), reply.text


@pytest.mark.parametrize(
    ("who", "text", "start", "contact"),
    [
        ("wei", "今日見咗日升咖啡陳生，佢話報價太貴", "log meeting #{日升咖啡有限公司}", "陈嘉欣"),
        ("wei", "跟日升咖啡陳總視訊，咖啡機要等預算", "log meeting #{日升咖啡有限公司}", "陈嘉欣"),
        ("wei", "港灣牙科陳生打來說下個月再談", "log call #{港湾牙科诊所}", "陈志明"),
        ("wei", "日升咖啡那邊寄了電郵，說要改報價", "log email #{日升咖啡有限公司}", None),
        (
            "alice",
            "teams chat with Grace Leung at Harbourview Solar, they want the panels quote split",
            "log chat #{Harbourview Solar Ltd}",
            None,
        ),
        (
            "alice",
            "whatsapp w harbourview dental, their go-live moved to feb",
            "log chat #{Harbourview Dental Group}",
            None,
        ),
        (
            "alice",
            "call w Harbourview Solar - budget approved for phase 2",
            "log call #{Harbourview Solar Ltd}",
            None,
        ),
        (
            "alice",
            "had a sit-down with the Harbourview Solar board in Kaohsiung, they want a 2nd roof",
            "log meeting #{Harbourview Solar Ltd}",
            None,
        ),
    ],
)
def test_a_log_kind_said_by_its_channel_or_a_cantonese_verb_is_that_kind(
    testbot: TestBot, book: dict[str, int], who: str, text: str, start: str, contact: str | None
) -> None:
    """見咗 / 視訊 (met), 打來說 (called), 電郵 (e-mail), "teams chat", "whatsapp w", "call w",
    "sit-down with" name the kind of what is logged; a time where a city would be is no move."""
    want = start
    for name, rid in book.items():
        want = want.replace("{" + name + "}", str(rid))
    line = command(testbot, who, text)
    assert line.startswith(want), line
    if contact is not None:
        assert f"with #{book[contact]}" in line, line


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "I moved the harbourview solar rooftop panels deal to won last week"),
        ("alice", "I already moved harbourview solar rooftop panels to negotiation, fyi"),
        ("alice", "we archived harbourview dental yesterday"),
        ("alice", "already visited Harbourview Solar last month"),
        ("wei", "上個月已經拜訪過日升咖啡了"),
        ("wei", "日升咖啡陳總說讓我們記一下這次通話"),
    ],
)
def test_a_change_reported_as_done_writes_nothing(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """A change the writer says they made already, a visit done with nothing told about it,
    or someone else asking for a note: no card, nothing written."""
    before = counts(testbot)
    reply = testbot(who, text)
    assert reply.status != "confirm", (text, reply.to_json().get("command"))
    assert counts(testbot) == before


@pytest.mark.parametrize(
    ("who", "text", "line"),
    [
        ("wei", "日升咖啡咖啡機那單簽咗！", "move #{D} to won"),
        ("wei", "日升咖啡咖啡機那單冇咗，佢哋揀咗德國嗰間", "move #{D} to lost"),
        ("wei", "日升咖啡 咖啡機採購 金額改為 3萬5 澳幣", "edit deal #{D}: amount 35000 AUD"),
        ("wei", "日升咖啡咖啡機採購 金額改成 120萬台幣", "edit deal #{D}: amount 1200000 TWD"),
        ("wei", "日升咖啡咖啡機採購 金額改成 半百萬港幣", "edit deal #{D}: amount 500000 HKD"),
        ("wei", "日升咖啡咖啡機採購 關閉日期改到 2027-03-15", "edit deal #{D}: close 2027-03-15"),
        (
            "alice",
            "harbourview solar rooftop panels, make the amount NT$1.2 million, close to Jan 22",
            "edit deal #{R}: amount 1200000 TWD, close 2027-01-22",
        ),
    ],
)
def test_cantonese_outcomes_local_currencies_and_close_days_are_read(
    testbot: TestBot, book: dict[str, int], who: str, text: str, line: str
) -> None:
    """簽咗 = won, 冇咗 = lost; 3萬5, 半百萬, 1.2 million with 澳幣 / 台幣 / 港幣 / NT$; 關閉日期
    and "close to Jan 22" set the close day."""
    want = line.replace("{D}", str(book["门市咖啡机采购"]))
    want = want.replace("{R}", str(book["Rooftop panels phase 2"]))
    got = command(testbot, who, text)
    assert got.split(":")[0] == want.split(":")[0] and got.startswith(want), got


def _reminder(testbot: TestBot, who: str, line: str) -> Reminder:
    """The reminder `line` makes for `who`."""
    assert testbot(who, line).status == "ok", line
    with testbot.session_factory() as s:
        found = s.scalars(select(Reminder).order_by(Reminder.id.desc())).first()
        assert found is not None
        s.expunge(found)
        return found


def test_a_snooze_length_said_in_words_is_that_length(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "snooze #n by an hour" moves it an hour; "#n 晚兩個鐘再提醒" / "#n 遲半個鐘" is a card
    of the grammar's length."""
    first = _reminder(testbot, "alice", "remind me tomorrow 9:00 call Harbourview Solar")
    assert testbot("alice", f"snooze #{first.id} by an hour").status == "ok"
    with testbot.session_factory() as s:
        moved = s.get(Reminder, first.id)
        assert moved is not None
        assert moved.due_at - first.due_at == timedelta(hours=1)
    mine = _reminder(testbot, "wei", "提醒我 明天上午10点 跟进日升咖啡")
    assert command(testbot, "wei", f"#{mine.id} 晚兩個鐘再提醒") == f"snooze #{mine.id} 2h"
    assert command(testbot, "wei", f"#{mine.id} 遲半個鐘") == f"snooze #{mine.id} 30m"
    assert command(testbot, "alice", f"push reminder #{first.id} two days") == (
        f"snooze #{first.id} 2d"
    )


@pytest.mark.parametrize(
    ("who", "text", "line"),
    [
        ("alice", "harbourview solar → carol", "reassign #{Harbourview Solar Ltd} to @carol"),
        (
            "alice",
            "Harbourview Dental -> carol for now",
            "reassign #{Harbourview Dental Group} to @carol",
        ),
        ("wei", "日升咖啡 給 alice 吧", "reassign #{日升咖啡有限公司} to @alice"),
    ],
)
def test_a_customer_alone_then_a_person_is_a_handover(
    testbot: TestBot, book: dict[str, int], who: str, text: str, line: str
) -> None:
    """Nothing but the customer's name, then an arrow or 給 and a colleague: reassign."""
    want = line
    for name, rid in book.items():
        want = want.replace("{" + name + "}", str(rid))
    assert command(testbot, who, text) == want


def test_a_customer_alone_then_archive_is_archived(testbot: TestBot, book: dict[str, int]) -> None:
    """ "日升咖啡 歸檔吧，已經結業了": the customer's archive, its reason left out; refused or told
    as done, nothing."""
    reply = testbot("wei", "日升咖啡 歸檔吧，已經結業了")
    # The archive verb's own question: its Confirm button runs exactly the archive.
    assert reply.status == "info", reply.text
    confirm = reply.to_json()["buttons"][0]["payload"]["text"]
    assert confirm == f"archive #{book['日升咖啡有限公司']} confirm", reply.to_json()
    before = counts(testbot)
    for text in (
        "日升咖啡不要歸檔",
        "上週日升咖啡歸檔了",
        "harbourview solar, send the quote to carol",
    ):
        assert testbot("wei" if not text.isascii() else "alice", text).status != "confirm", text
    assert counts(testbot) == before


@pytest.mark.parametrize(
    ("who", "text", "line"),
    [
        ("wei", "日升咖啡 標籤加上 連鎖店", "edit customer #{日升咖啡有限公司}: tags 连锁店"),
        (
            "wei",
            "日升咖啡 標籤改成 重點客戶, referral",
            "edit customer #{日升咖啡有限公司}: tags 重點客戶, referral",
        ),
        (
            "alice",
            "harbourview solar tags -> pilot, rooftop",
            "edit customer #{Harbourview Solar Ltd}: tags pilot, rooftop",
        ),
        (
            "alice",
            "rename Harbourview Dental to Harbourview Dental Holdings, they changed legal entity",
            "edit customer #{Harbourview Dental Group}: name Harbourview Dental Holdings",
        ),
        (
            "wei",
            "港灣牙科 改名叫 Harbour Smile S.p.A.",
            "edit customer #{港湾牙科诊所}: name Harbour Smile S.p.A.",
        ),
    ],
)
def test_tags_and_a_new_name_said_loosely_are_the_customer_edit(
    testbot: TestBot, book: dict[str, int], who: str, text: str, line: str
) -> None:
    """標籤加上 X adds one tag, 標籤改成 / "tags ->" sets them all; "rename X to Y" and 改名叫
    name the customer anew (the reason after it is no part of the name)."""
    want = line
    for name, rid in book.items():
        want = want.replace("{" + name + "}", str(rid))
    got = command(testbot, who, text)
    assert got.replace("連鎖店", "连锁店") == want


def test_a_number_given_after_its_field_word_is_the_contacts(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "港灣牙科陳志明手機號 +852 9123 4567", "add Peter Wong's mobile ...":
    the contact's number; the same number in a call's note or a question is no edit."""
    line = command(testbot, "wei", "港灣牙科陳志明手機號 +852 9123 4567")
    assert line == f"edit contact #{book['陈志明']}: phone +852 9123 4567"
    line = command(testbot, "alice", "add Peter Wong's mobile +886 912 345 678")
    assert line == f"edit contact #{book['Peter Wong']}: phone +886 912 345 678"
    line = command(testbot, "wei", "打咗電話畀港灣牙科陳志明 手機 +852 9123 4567，佢話下個月再傾")
    assert line.startswith(f"log call #{book['港湾牙科诊所']}"), line


def test_a_deal_deleted_by_its_title_is_a_delete_card(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "刪掉日升咖啡的門市咖啡機採購那筆，建錯了", "delete the ... rooftop panels deal, it's a
    duplicate ...": the deal named (its reason left out); a part of a deal removed, or a
    negation, deletes nothing."""
    deal = book["门市咖啡机采购"]
    assert (
        command(testbot, "wei", "刪掉日升咖啡的門市咖啡機採購那筆，建錯了")
        == f"delete deal #{deal}"
    )
    rooftop = book["Rooftop panels phase 2"]
    line = command(
        testbot,
        "alice",
        "delete the harbourview solar rooftop panels deal, it's a duplicate of the phase 1 one",
    )
    assert line == f"delete deal #{rooftop}"
    before = counts(testbot)
    for text in ("刪掉日升咖啡門市咖啡機採購的折扣", "先別刪除日升咖啡的門市咖啡機採購"):
        assert testbot("wei", text).status != "confirm", text
    assert counts(testbot) == before


def test_a_long_run_of_blanks_reads_as_one(testbot: TestBot, book: dict[str, int]) -> None:
    """A message with 2,000 spaces in it is read like one with a single space (the loose
    patterns tried every split of the run: minutes before), and writes nothing."""
    assert _squeeze("#2" + " " * 2000 + "x") == "#2 x"
    assert _squeeze("a\n" + " " * 10 + "\nb  c") == "a\nb  c"
    before = counts(testbot)
    for text in ("#2" + " " * 2000 + "x", "acme 标签改成 " + " " * 2000 + "。a", "进" + " " * 2000):
        assert testbot("wei", text).status != "confirm"
    assert counts(testbot) == before
