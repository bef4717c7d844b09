"""A third review of the loose reader (fix12), read against book 7 (Perth, Singapore, Jakarta,
Hong Kong, Taipei, Shanghai reps) and book 5: hedged stages, adverbs read as numbers or names,
currencies said in words, questions in another clause, dates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.handlers.conftest import book_runners

BOOKS = {"book5": "loose_book5.jsonl", "book6": "loose_book6.jsonl", "book7": "loose_book7.jsonl"}


@pytest.fixture(scope="module")
def runners7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One evaluation runner per book of BOOKS (only the ones this module reads)."""
    yield from book_runners(tmp_path_factory, BOOKS)


# (book, who, message): none asks for a write.
SAYS_NOTHING = [
    # A stage hedged with how it seems: a guess, not news of the move.
    ("book7", "shaz", "Midland kiln deal seems to be won"),
    ("book7", "shaz", "Midland kiln deal looks like won"),
    ("book7", "shaz", "Midland kiln deal: won? no idea"),
    ("book7", "duan", "宏达机械储能单子 赢了? 还不确定"),
    ("book7", "shaz", "Midland kiln deal - lost? need to check with Donna"),
    ("book7", "duan", "宏达机械储能单子丢了？问一下高明"),
    ("book7", "duan", "宏达机械的储能单子好像赢了"),
    ("book7", "duan", "宏达机械储能单子应该是赢了吧"),
    # A tag asking whether the statement holds: still asked.
    ("book7", "shaz", "Midland kiln deal won. right?"),
    ("book7", "duan", "宏达机械储能单子签了。对吗？"),
]


@pytest.mark.parametrize(("book", "who", "text"), SAYS_NOTHING)
def test_a_hedged_or_asked_stage_gives_no_write_card(
    runners7: dict[str, Any], book: str, who: str, text: str
) -> None:
    """A stage asked ("won? no idea") or hedged ("seems to be won", "好像赢了"): no card."""
    kind, line = runners7[book].run(who, text).outcome
    assert kind != "write", (text, line)


# (book, who, message, the card's command).
ASKED = [
    ("book7", "shaz", "Midland kiln deal is won", "move #50 to won"),
    ("book7", "shaz", "move Midland kiln deal to won, seems they signed", "move #50 to won"),
    # 千万 before 要 / 别 is "be sure to": the new deal has no amount.
    (
        "book7",
        "duan",
        "宏达机械 新商机 充电桩，千万要在月底前报价",
        "new deal #4: 充电桩，千万要在月底前报价",
    ),
    ("book7", "duan", "宏达机械 新商机 充电桩 两千万元", "new deal #4: 充电桩 20000000 CNY"),
    # Hundreds and tens after 千 are part of the amount.
    ("book7", "duan", "宏达机械储能单子金额改成三千五百元", "edit deal #8: amount 3500 CNY"),
    ("book7", "duan", "宏达机械储能单子金额改成两千零五十元", "edit deal #8: amount 2050 CNY"),
    ("book7", "duan", "宏达机械储能单子金额改成三千五百万", "edit deal #8: amount 35000000 CNY"),
    # 元 / 塊 / 蚊 alone are the unit word of the local yuan-like currency (NT$ in Taipei, HK$
    # in Hong Kong), not yuan; 人民幣 said is yuan.
    ("book7", "tsai", "台中精機 新商機 屋頂太陽能 500萬元", "new deal #14: 屋頂太陽能 5000000 TWD"),
    ("book7", "tsai", "台中精機 新商機 屋頂太陽能 5000塊", "new deal #14: 屋頂太陽能 5000 TWD"),
    ("book7", "wingyan", "培正 新商機 LED燈 三十萬蚊", "new deal #20: LED燈 300000 HKD"),
    ("book7", "wingyan", "培正 新商機 LED燈 30萬人民幣", "new deal #20: LED燈 300000 CNY"),
    ("book7", "duan", "宏达机械 新商机 充电桩 30万元", "new deal #4: 充电桩 300000 CNY"),
    # Pounds said in words are pounds, not the deal's Australian dollars.
    ("book7", "shaz", "Midland kiln deal amount 60k pounds", "edit deal #50: amount 60000 GBP"),
    ("book7", "shaz", "Midland kiln deal amount 60k quid", "edit deal #50: amount 60000 GBP"),
    ("book7", "shaz", "Midland kiln deal amount 60k sterling", "edit deal #50: amount 60000 GBP"),
    ("book7", "shaz", "Midland kiln deal amount 60k", "edit deal #50: amount 60000 AUD"),
    # "now" after "date" / "is" says the change: the day is the one after it (day first).
    ("book7", "shaz", "Midland kiln deal: close date now 14/2", "edit deal #50: close 2027-02-14"),
    (
        "book7",
        "shaz",
        "Midland kiln deal close date is now 14/2",
        "edit deal #50: close 2027-02-14",
    ),
    # A two-digit year after a day-first slash date.
    ("book7", "shaz", "Midland kiln deal: close date 3/4/27", "edit deal #50: close 2027-04-03"),
    # A question in another clause (a polite ask for the write, or about something else).
    ("book7", "shaz", "Midland kiln deal is won, can you mark it?", "move #50 to won"),
    ("book7", "shaz", "Midland kiln deal won. btw is Donna still CFO?", "move #50 to won"),
    (
        "book7",
        "duan",
        "宏达机械储能单子签了！高明说合同下周寄过来，要不要我先开发票？",
        "move #8 to won",
    ),
]


@pytest.mark.parametrize(("book", "who", "text", "command"), ASKED)
def test_a_request_gives_its_card(
    runners7: dict[str, Any], book: str, who: str, text: str, command: str
) -> None:
    """Requests said outright, next to the shapes fixed here, still give their card."""
    ran = runners7[book].run(who, text)
    assert ran.reply.status == "confirm", (text, ran.reply.text)
    got = str(ran.reply.to_json()["command"])
    assert got == command, (text, got)


# (book, who, message, the start of the card's command, up to its free text).
ASKED_WITH_TEXT = [
    # 刚 (just) after a two-character name before a verb is no third character of the name.
    ("book5", "xiao", "王磊刚回电话，说下周来看样品", "log call #3, with #4:"),
    ("book5", "xiao", "陈丽刚发微信说要报价", "log chat #5, with #7:"),
    # "last night" inside what was told is not the call's day; next to the call, it is.
    (
        "book7",
        "shaz",
        "called Donna at Midland, the storm last night damaged two of their panels",
        "log call #24, with #37:",
    ),
    (
        "book7",
        "shaz",
        "called Donna at Midland last night, she wants a quote",
        "log call #24, yesterday,",
    ),
    ("book7", "duan", "拜访了宏达机械，昨天高明说要报价", "log visit #4, 昨天,"),
    # No mark between the call and its note: the day is the call's, as before.
    (
        "book6",
        "ryan",
        "log call lakeshore general with doctor amy bishop yesterday she wants the audit",
        "log call #35, yesterday, with #46:",
    ),
]


@pytest.mark.parametrize(("book", "who", "text", "start"), ASKED_WITH_TEXT)
def test_a_request_with_free_text_gives_its_card(
    runners7: dict[str, Any], book: str, who: str, text: str, start: str
) -> None:
    """Logs, whose notes are free text: the record, contact and date are checked."""
    ran = runners7[book].run(who, text)
    assert ran.reply.status == "confirm", (text, ran.reply.text)
    got = str(ran.reply.to_json()["command"])
    assert got.startswith(start), (text, got)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Midland kiln deal: close date 3/4/27", True),
        ("called Donna at Midland, she wants delivery by 3/4", False),
    ],
)
def test_the_card_shows_only_slash_dates_its_command_uses(
    runners7: dict[str, Any], text: str, shown: bool
) -> None:
    """ "Date read as" is said of the close day set, not of a date in a note's words."""
    ran = runners7["book7"].run("shaz", text)
    assert ran.reply.status == "confirm", (text, ran.reply.text)
    labels = {f.label for f in ran.reply.fields}
    assert ("Date read as" in labels) is shown, (text, labels)
